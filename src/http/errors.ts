/**
 * A refusal the edge itself makes, before any function code runs (a method the function does not take, an Origin
 * outside ALLOWED_ORIGINS, parameters nested too deep): a registry code, its message and any header it needs. The
 * domain throws its own error types instead (mapped in error-response.ts).
 */
import { ERROR_CODES, type ErrorCode } from './error-codes';

export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }
}
