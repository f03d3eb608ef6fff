/**
 * Stable error codes of /sync-token (clients branch on `code`, never on the message). 401: no or bad credentials;
 * 403: credentials fine but not allowed a token; 400: a bad parameter. The shared wrapper adds METHOD_NOT_ALLOWED,
 * ORIGIN_NOT_ALLOWED, CONFIG_INVALID, UPSTREAM_UNAVAILABLE and INTERNAL.
 */
export const SYNC_TOKEN_ERRORS = {
  /** Neither a Flex token nor X-Twilio-Signature. */
  CREDENTIALS_MISSING: 'CREDENTIALS_MISSING',
  /** The X-Twilio-Signature does not match the URL and parameters (or body). */
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  /** The Flex token is malformed or unknown to Twilio. */
  FLEX_TOKEN_INVALID: 'FLEX_TOKEN_INVALID',
  FLEX_TOKEN_EXPIRED: 'FLEX_TOKEN_EXPIRED',
  GUEST_NOT_ALLOWED: 'GUEST_NOT_ALLOWED',
  ROLE_NOT_ALLOWED: 'ROLE_NOT_ALLOWED',
  /** A signed request named no Identity, or one that is empty, too long or not printable. */
  IDENTITY_INVALID: 'IDENTITY_INVALID',
  /** IAM accepted the Flex token but named an identity that is empty, over 121 characters or not printable ASCII. */
  FLEX_IDENTITY_INVALID: 'FLEX_IDENTITY_INVALID',
  /** `Ttl` is not a whole number of seconds. */
  TTL_INVALID: 'TTL_INVALID',
  /** `Ttl` is below the minimum or above the configured lifetime. */
  TTL_OUT_OF_RANGE: 'TTL_OUT_OF_RANGE',
  /** A parameter has the wrong type (e.g. `Token` is not a string). */
  INVALID_REQUEST: 'INVALID_REQUEST',
} as const;
