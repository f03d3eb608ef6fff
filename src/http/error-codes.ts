/**
 * Every error code a function answers, with its HTTP status: the one registry (docs/endpoints.md's tables are checked
 * against it). Clients branch on `code`, never on the message. 400: a bad parameter; 401: no or bad credentials;
 * 403: credentials fine but not allowed; 500: our side; 503: Twilio, or time, ran out (retry after `Retry-After`).
 */
export const ERROR_CODES = {
  /** A parameter (or the request's shape) is wrong and no more specific code below applies. */
  INVALID_REQUEST: 400,
  /** `Ttl` is not a whole number of seconds. */
  TTL_INVALID: 400,
  /** `Ttl` is below the minimum or above the configured lifetime. */
  TTL_OUT_OF_RANGE: 400,
  /** A signed request named no `Identity`, or one that is empty, too long or not printable. */
  IDENTITY_INVALID: 400,
  /** A `Token` parameter to /recent-calls: it may have come from the URL (the token goes in `Authorization`). */
  TOKEN_IN_URL: 400,
  /** `PageSize` is not a whole number from 1 to 100. */
  PAGE_SIZE_INVALID: 400,
  /** `PageToken` is not one this endpoint issued for this worker's list. */
  PAGE_TOKEN_INVALID: 400,
  /** `WorkerSid` is not a worker SID (WK + 32 hex). */
  WORKER_SID_INVALID: 400,
  /** `ShardIndex` / `ShardCount` of the job: not both given, not plain whole numbers, or out of range. */
  SHARD_INVALID: 400,
  /** No credentials at all (no Flex token, no signature, no Basic credentials where they are needed). */
  CREDENTIALS_MISSING: 401,
  /** Basic credentials that do not match. */
  CREDENTIALS_INVALID: 401,
  /** The Flex token is malformed or unknown to Twilio IAM. */
  FLEX_TOKEN_INVALID: 401,
  FLEX_TOKEN_EXPIRED: 401,
  /** An endpoint that takes only signed requests got one without X-Twilio-Signature. */
  SIGNATURE_MISSING: 401,
  /** The X-Twilio-Signature does not match, names a parameter it may not, or its SignedAt is stale. */
  SIGNATURE_INVALID: 401,
  /** IAM accepted the Flex token but named an identity that cannot go into a token. */
  FLEX_IDENTITY_INVALID: 403,
  /** A guest Flex user (role guest, or no worker SID) where guests are not allowed. */
  GUEST_NOT_ALLOWED: 403,
  /** None of the Flex user's roles is allowed a Sync token. */
  ROLE_NOT_ALLOWED: 403,
  /** Another agent's recent calls, asked for without a supervisor role. */
  WORKER_NOT_ALLOWED: 403,
  /** A browser Origin outside ALLOWED_ORIGINS. */
  ORIGIN_NOT_ALLOWED: 403,
  /** A method the function does not take. */
  METHOD_NOT_ALLOWED: 405,
  /** A missing or out-of-range setting, our own credentials refused, or a Sync service without ACLs. */
  CONFIG_INVALID: 500,
  /** A bug: anything else. */
  INTERNAL: 500,
  /** Twilio still failing (429, 5xx, timeouts) after retries, or the work did not fit in the time limit. */
  UPSTREAM_UNAVAILABLE: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code];
}
