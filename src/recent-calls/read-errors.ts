/**
 * Stable error codes of /recent-calls (clients branch on `code`, never on the message). 401: no or bad credentials;
 * 403: credentials fine but not allowed; 400: a bad parameter. Flex token failures keep /sync-token's codes
 * (FLEX_TOKEN_INVALID, FLEX_TOKEN_EXPIRED, GUEST_NOT_ALLOWED); the shared wrapper adds METHOD_NOT_ALLOWED,
 * ORIGIN_NOT_ALLOWED, CONFIG_INVALID, UPSTREAM_UNAVAILABLE and INTERNAL.
 */
export const RECENT_CALLS_ERRORS = {
  /** 401: no `Authorization: Bearer <Flex token>` header. */
  CREDENTIALS_MISSING: 'CREDENTIALS_MISSING',
  /**
   * 400: a `Token` parameter. The runtime merges the query string into the parameters, so it may have come from the
   * URL (URLs end up in access logs and browser history): the token is taken only from `Authorization: Bearer`.
   */
  TOKEN_IN_URL: 'TOKEN_IN_URL',
  /** 400: the Authorization header is not `Bearer <token>`. */
  INVALID_REQUEST: 'INVALID_REQUEST',
  /** 400: `PageSize` is not a whole number from 1 to 100. */
  PAGE_SIZE_INVALID: 'PAGE_SIZE_INVALID',
  /** 400: `PageToken` is not one this endpoint issued for this worker's list. */
  PAGE_TOKEN_INVALID: 'PAGE_TOKEN_INVALID',
  /** 400: `WorkerSid` is not a worker SID (WK + 32 hex). */
  WORKER_SID_INVALID: 'WORKER_SID_INVALID',
  /** 403: the caller asked for another agent's calls without a supervisor role. */
  WORKER_NOT_ALLOWED: 'WORKER_NOT_ALLOWED',
  /** 403: a guest Flex user (role guest, or no worker SID) has no recent calls to read. */
  GUEST_NOT_ALLOWED: 'GUEST_NOT_ALLOWED',
} as const;
