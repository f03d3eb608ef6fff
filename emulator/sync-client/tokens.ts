/**
 * Checks the Access Token a Sync client presents, as Twilio's token service does: HS256 signed with the secret of an
 * API key of the account (`iss`), `sub` the account, a `data_sync` grant naming an existing service, an identity,
 * and `exp` in the future by the emulator's clock.
 *
 * Refusal codes are Twilio's access-token errors (https://www.twilio.com/docs/api/errors/20101, 20103, 20104, 20105,
 * 20106, 20107); which one the live service picks for each case is unconfirmed beyond 20104 (expired), the code the
 * SDK itself looks for (`tokenExpiredSasCode` in twilsock/dist/twilsock.js).
 */
import jwt from 'jsonwebtoken';
import type { Emulator } from '../server';

export const TOKEN_ERRORS = {
  invalid: 20101,
  issuer: 20103,
  expired: 20104,
  notYetValid: 20105,
  grants: 20106,
  signature: 20107,
} as const;

export interface VerifiedToken {
  identity: string;
  serviceSid: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

export type TokenCheck = { ok: true; token: VerifiedToken } | { ok: false; code: number; message: string };

const refuse = (code: number, message: string): TokenCheck => ({ ok: false, code, message });

export function verifyAccessToken(emu: Emulator, token: unknown): TokenCheck {
  if (typeof token !== 'string' || token.length === 0 || token.length > 16 * 1024) {
    return refuse(TOKEN_ERRORS.invalid, 'Invalid Access Token');
  }
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object' || decoded.header.alg !== 'HS256') {
    return refuse(TOKEN_ERRORS.invalid, 'Invalid Access Token');
  }
  const claims = decoded.payload as jwt.JwtPayload;
  // One API key per emulated account (the one its config names).
  if (claims.iss !== emu.config.apiKey || claims.sub !== emu.config.accountSid) {
    return refuse(TOKEN_ERRORS.issuer, 'Invalid Access Token issuer/subject');
  }
  try {
    // Times are judged below by the emulator's clock, not the host's.
    jwt.verify(token, emu.config.apiSecret, { algorithms: ['HS256'], ignoreExpiration: true, ignoreNotBefore: true });
  } catch {
    return refuse(TOKEN_ERRORS.signature, 'Invalid Access Token signature');
  }
  const nowSeconds = emu.clock.now() / 1000;
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) {
    return refuse(TOKEN_ERRORS.expired, 'Access Token expired or expiration date invalid');
  }
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds) {
    return refuse(TOKEN_ERRORS.notYetValid, 'Access Token not yet valid');
  }
  const grants = (claims.grants ?? {}) as { identity?: unknown; data_sync?: { service_sid?: unknown } };
  const identity = grants.identity;
  const serviceSid = grants.data_sync?.service_sid;
  if (typeof identity !== 'string' || identity === '' || typeof serviceSid !== 'string') {
    return refuse(TOKEN_ERRORS.grants, 'Invalid Access Token grants');
  }
  if (!emu.state.sync.services.has(serviceSid)) return refuse(TOKEN_ERRORS.grants, 'Invalid Access Token grants');
  return { ok: true, token: { identity, serviceSid, exp: claims.exp } };
}
