/**
 * The one error type of the browser client. `code` is the server's stable error code when the server sent one
 * (e.g. FLEX_TOKEN_INVALID, GUEST_NOT_ALLOWED, UPSTREAM_UNAVAILABLE), otherwise one of CLIENT_ERROR_CODES.
 * Branch on `code` and `retryable`, never on the message.
 */
export const CLIENT_ERROR_CODES = {
  /** fetch() rejected: offline, DNS, CORS refusal, connection reset. */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** No answer within `requestTimeoutMs`. */
  TIMEOUT: 'TIMEOUT',
  /** A 2xx answer that is not `{token, identity, ttl, expiresAt, serviceSid}`. */
  INVALID_RESPONSE: 'INVALID_RESPONSE',
  /** `getFlexToken()` threw or gave no token. */
  FLEX_TOKEN_UNAVAILABLE: 'FLEX_TOKEN_UNAVAILABLE',
  /** A token arrived already inside the refresh margin (a request that outlasted the margin). */
  TOKEN_STALE: 'TOKEN_STALE',
  /** The Sync client refused `updateToken(token)`, or it did not settle within `updateTimeoutMs`. */
  UPDATE_TOKEN_FAILED: 'UPDATE_TOKEN_FAILED',
} as const;

export interface SyncTokenErrorInit {
  code: string;
  message: string;
  /** HTTP status, or 0 when no HTTP answer was involved. */
  status: number;
  retryable: boolean;
  /** The server's `Retry-After`, in ms, when it sent one. */
  retryAfterMs?: number;
  /** The server's `requestId` (quote it when reporting a problem). */
  requestId?: string;
  cause?: unknown;
}

export class SyncTokenError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly requestId?: string;
  override readonly cause?: unknown;

  constructor(init: SyncTokenErrorInit) {
    super(init.message);
    this.name = 'SyncTokenError';
    this.code = init.code;
    this.status = init.status;
    this.retryable = init.retryable;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    if (init.cause !== undefined) this.cause = init.cause;
  }
}

export function isSyncTokenError(value: unknown): value is SyncTokenError {
  return value instanceof SyncTokenError;
}

/** Whether an HTTP status from /sync-token is worth retrying (500 CONFIG_INVALID is not: retrying cannot fix it). */
export function isRetryableAnswer(status: number, code: string): boolean {
  if (status === 408 || status === 429) return true;
  if (status >= 500) return code !== 'CONFIG_INVALID';
  return false;
}
