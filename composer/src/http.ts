import { ApiError, isAuthExpiry } from './lib/api-error.js';
import { awaitLogin } from './auth-gate.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RequestOptions {
  /** False sends a 401 to the caller instead of the login dialog (the login itself, the first `me`). */
  readonly reauth?: boolean;
}

/**
 * One JSON request with the session cookie. A 401 for an expired or missing session opens the
 * login dialog in place and sends the same request again after the login; any other failure
 * throws an ApiError, leaving the caller's form as it was.
 */
export async function request<T>(method: Method, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  for (;;) {
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw ApiError.network();
    }
    if (res.ok) {
      const text = res.status === 204 ? '' : await res.text();
      return (text ? JSON.parse(text) : undefined) as T;
    }
    const error = ApiError.from(res.status, await res.json().catch(() => null));
    if (options.reauth !== false && isAuthExpiry(error)) {
      await awaitLogin(error.code);
      continue;
    }
    throw error;
  }
}

/** Builds a query string from the defined values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, body, options),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PATCH', path, body, options),
};
