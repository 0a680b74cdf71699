/** An HTTP answer outside 2xx, with the server's error body for the report. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    where: string,
  ) {
    super(`${where} → ${status}: ${body.slice(0, 300)}`);
  }
}

export interface Api {
  readonly baseUrl: string;
  get<T>(path: string, headers?: Record<string, string>): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
}

/**
 * A minimal JSON client over the global fetch (keep-alive by default). Responses are trusted to
 * match their route's schema, which Fastify's serializer already enforces on the server side.
 */
export function createApi(baseUrl: string): Api {
  async function request<T>(method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      init.headers = { 'content-type': 'application/json', ...headers };
      init.body = JSON.stringify(body);
    }
    const res = await fetch(baseUrl + path, init);
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, text, `${method} ${path}`);
    return (text === '' ? null : JSON.parse(text)) as T;
  }
  return {
    baseUrl,
    get: (path, headers) => request('GET', path, undefined, headers),
    post: (path, body) => request('POST', path, body),
    put: (path, body) => request('PUT', path, body),
  };
}
