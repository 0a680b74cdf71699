import { ERRORS, type ErrorCode } from '../content/index.js';

/** An error with a code from content/errors.ts; the error handler turns it into its HTTP answer. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
    this.status = ERRORS[code].status;
  }
}
