import { ERRORS, type ErrorCode } from '../../../content/index.js';

type Text = { readonly zh: string; readonly en: string };

/** Codes that mean "log in again", after which the request is retried. */
const EXPIRY_CODES: readonly string[] = ['AUTH_REQUIRED', 'SESSION_EXPIRED'] satisfies ErrorCode[];

/**
 * A failed API call: the server's `{ ok: false, code, message, detail? }`, or `NETWORK` when no
 * answer came at all.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** The server's message; absent for network failures and answers that were not ours. */
    readonly text: Text | null,
    readonly detail?: string,
  ) {
    super(text?.en ?? code);
    this.name = 'ApiError';
  }

  /** Reads an error response body, falling back to the code table when it is not ours. */
  static from(status: number, body: unknown): ApiError {
    if (body !== null && typeof body === 'object' && 'code' in body && typeof body.code === 'string') {
      const message = 'message' in body ? body.message : null;
      const text =
        message !== null && typeof message === 'object' && 'zh' in message && 'en' in message && typeof message.zh === 'string' && typeof message.en === 'string'
          ? { zh: message.zh, en: message.en }
          : null;
      const detail = 'detail' in body && typeof body.detail === 'string' ? body.detail : undefined;
      return new ApiError(status, body.code, text ?? knownText(body.code), detail);
    }
    return new ApiError(status, status >= 500 ? 'INTERNAL' : `HTTP_${status}`, status >= 500 ? knownText('INTERNAL') : null);
  }

  static network(): ApiError {
    return new ApiError(0, 'NETWORK', null);
  }
}

function knownText(code: string): Text | null {
  return code in ERRORS ? ERRORS[code as ErrorCode] : null;
}

/** True when the session is gone and the user must log in again. */
export function isAuthExpiry(e: unknown): e is ApiError {
  return e instanceof ApiError && e.status === 401 && EXPIRY_CODES.includes(e.code);
}

/** The form fields each error code is about, first match wins. */
const CODE_FIELDS: Partial<Record<ErrorCode, readonly string[]>> = {
  USERNAME_TAKEN: ['username'],
  ROLE_ZONE_INVALID: ['zoneId', 'role'],
  PASSWORD_WEAK: ['password', 'next'],
  PASSWORD_WRONG: ['current'],
  PAIRING_CODE_INVALID: ['code'],
  LAST_ADMIN: ['disabled', 'role'],
  REFERENCE_MISSING: ['layoutId', 'zoneId', 'screenId'],
};

/**
 * The form field a server error belongs to, if `fields` has it: by its code, or by a field
 * name in its detail (a validation error says e.g. `/screen/width must be <= 16384`).
 */
export function errorField(e: ApiError, fields: readonly string[]): string | null {
  for (const f of CODE_FIELDS[e.code as ErrorCode] ?? []) if (fields.includes(f)) return f;
  if (!e.detail) return null;
  for (const word of e.detail.split(/[^A-Za-z0-9_]+/)) if (word && fields.includes(word)) return word;
  return null;
}
