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
  /** A JSON body, or none (review actions take none). */
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  /** A multipart upload (media). */
  postForm<T>(path: string, form: FormData): Promise<T>;
}

/**
 * A minimal JSON client over the global fetch (keep-alive by default), sending `cookie` (a
 * staff session) when given. Responses are trusted to match their route's schema, which
 * Fastify's serializer already enforces on the server side.
 */
export function createApi(baseUrl: string, cookie?: string): Api {
  async function request<T>(method: string, path: string, body: RequestInit['body'], headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(baseUrl + path, { method, headers: cookie ? { cookie, ...headers } : headers, body });
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, text, `${method} ${path}`);
    return (text === '' ? null : JSON.parse(text)) as T;
  }
  const json = <T>(method: string, path: string, body: unknown) =>
    body === undefined ? request<T>(method, path, undefined) : request<T>(method, path, JSON.stringify(body), { 'content-type': 'application/json' });
  return {
    baseUrl,
    get: (path, headers) => request('GET', path, undefined, headers),
    post: (path, body) => json('POST', path, body),
    put: (path, body) => json('PUT', path, body),
    postForm: (path, form) => request('POST', path, form),
  };
}

/** Logs in through `POST /api/auth/login` and returns a client that sends the session cookie. */
export async function login(baseUrl: string, username: string, password: string): Promise<Api> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new ApiError(res.status, await res.text(), `login ${username}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] ?? '')
    .find((c) => c.startsWith('zc_session='));
  if (!cookie) throw new Error(`login ${username}: no session cookie`);
  return createApi(baseUrl, cookie);
}

/**
 * Staff for a bench: the first admin, who sets everything up and writes content, and a reviewer
 * who approves it. Content reaches screens only once approved, by someone other than its author.
 */
export interface Staff {
  readonly admin: Api;
  readonly reviewer: Api;
}

const REVIEWER_PASSWORD = 'bench-reviewer-password';

/** Creates a reviewer bound to `zoneId` (as the admin) and logs in as it. */
export async function addReviewer(admin: Api, zoneId: string): Promise<Api> {
  const username = `bench-reviewer-${zoneId}`.toLowerCase().slice(0, 32);
  await admin.post('/api/users', { username, displayName: '测试审核员', role: 'reviewer', zoneId, password: REVIEWER_PASSWORD });
  return login(admin.baseUrl, username, REVIEWER_PASSWORD);
}

/** Submits an item as its author and approves it as the reviewer: the approval is what reaches screens. */
export async function publish(staff: Staff, contentId: string): Promise<void> {
  await staff.admin.post(`/api/content/${contentId}/submit`);
  await staff.reviewer.post(`/api/content/${contentId}/approve`);
}
