/**
 * Why a caller was not authenticated or not authorised. The messages are written for the caller and never carry a
 * credential; src/http/error-response.ts maps each to a status and code.
 */

/** No credentials at all: no Flex token, no signature, or no Basic credentials where the endpoint needs them. */
export class CredentialsMissing extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsMissing';
  }
}

/** The Flex token is not one Twilio vouches for: `malformed` (never sent to IAM), `invalid` or `expired`. */
export class FlexTokenRejected extends Error {
  constructor(
    readonly reason: 'malformed' | 'invalid' | 'expired',
    message: string,
  ) {
    super(message);
    this.name = 'FlexTokenRejected';
  }
}

/** A verified Flex user this endpoint serves no further: a `guest`, or no allowed `role`. */
export class FlexUserNotAllowed extends Error {
  constructor(
    readonly reason: 'guest' | 'role',
    message: string,
  ) {
    super(message);
    this.name = 'FlexUserNotAllowed';
  }
}

/** X-Twilio-Signature is `missing` where only signed requests are taken, or `invalid` (or breaks the signed rules). */
export class SignatureRejected extends Error {
  constructor(
    readonly reason: 'missing' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'SignatureRejected';
  }
}

/** HTTP Basic credentials are `missing` or `invalid`; `realm` names the protection space the sender should answer. */
export class BasicCredentialsRejected extends Error {
  constructor(
    readonly reason: 'missing' | 'invalid',
    readonly realm: string,
    message: string,
  ) {
    super(message);
    this.name = 'BasicCredentialsRejected';
  }
}
