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
  put: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PUT', path, body, options),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PATCH', path, body, options),
  delete: <T = void>(path: string, options?: RequestOptions) => request<T>('DELETE', path, undefined, options),
};

/** Progress of an upload: bytes sent so far of the whole request body. */
export interface UploadProgress {
  readonly loaded: number;
  readonly total: number;
}

/**
 * Sends `file` as multipart form data (field `file`) and reports progress as it goes (fetch has
 * no upload progress; XMLHttpRequest does). A 401 for an expired session opens the login dialog
 * and sends the file again afterwards, like `request`. `signal` cancels it.
 */
export async function upload<T>(path: string, file: Blob, name: string, onProgress?: (p: UploadProgress) => void, signal?: AbortSignal): Promise<T> {
  for (;;) {
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', path);
      xhr.withCredentials = true;
      xhr.setRequestHeader('accept', 'application/json');
      xhr.upload.onprogress = (e) => onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
      xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
      xhr.onerror = () => reject(ApiError.network());
      xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
      signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      const form = new FormData();
      form.append('file', file, name);
      xhr.send(form);
    });
    if (res.status >= 200 && res.status < 300) return (res.text ? JSON.parse(res.text) : undefined) as T;
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = null;
    }
    const error = ApiError.from(res.status, body);
    if (isAuthExpiry(error)) {
      await awaitLogin(error.code);
      continue;
    }
    throw error;
  }
}
