/**
 * The one error shape every function answers with: `{ code, message, status, requestId }`, with a stable
 * upper-snake-case `code` that clients can branch on. Messages never carry secrets.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ErrorBody {
  code: string;
  message: string;
  status: number;
  requestId: string;
}

export const ERROR_CODES = {
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  INVALID_REQUEST: 'INVALID_REQUEST',
  CONFIG_INVALID: 'CONFIG_INVALID',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
