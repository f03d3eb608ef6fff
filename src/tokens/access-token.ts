/**
 * Mints the Access Token with a Sync grant: the layout of the twilio SDK's AccessToken (HS256 with the API key secret,
 * header `cty: twilio-fpa;v=1`, `jti` = key SID + iat, the grant from the SDK's SyncGrant), but with `iat`/`exp` taken
 * from the time given: Twilio's clock as the functions estimate it, which is the clock that judges the token. The
 * SDK's AccessToken can only read the host clock, so a skewed host would issue tokens that are stale or not yet valid.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import twilio from 'twilio';
import { warmSlot } from '../runtime/warm-state';

export interface SyncTokenSigner {
  accountSid: string;
  apiKey: string;
  apiSecret: string;
  syncServiceSid: string;
}

export interface IssuedSyncToken {
  token: string;
  identity: string;
  /** Lifetime in seconds (exp − iat). */
  ttl: number;
  /** ISO 8601 time the token expires (its `exp`). */
  expiresAt: string;
  serviceSid: string;
}

/**
 * The API secret as a KeyObject, made once per secret. Given a string, jsonwebtoken first tries to parse it as a
 * PEM private key and only then, in the catch, makes a secret key: an exception per token, which was half of a warm
 * /sync-token request's CPU.
 */
const signingKey = warmSlot<{ secret: string; key: KeyObject }>('Sync token signing key');
function keyFor(secret: string): KeyObject {
  const made = signingKey.get();
  if (made?.secret === secret) return made.key;
  return signingKey.set({ secret, key: createSecretKey(Buffer.from(secret, 'utf8')) }).key;
}

/** `nowMs`: the current time by Twilio's clock (default the host clock). */
export function mintSyncToken(
  signer: SyncTokenSigner,
  identity: string,
  ttlSeconds: number,
  nowMs: number = Date.now(),
): IssuedSyncToken {
  const grant = new twilio.jwt.AccessToken.SyncGrant({ serviceSid: signer.syncServiceSid });
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + ttlSeconds;
  const token = jwt.sign(
    {
      jti: `${signer.apiKey}-${iat}`,
      grants: { identity, [grant.key]: grant.toPayload() },
      iat,
      exp,
      iss: signer.apiKey,
      sub: signer.accountSid,
    },
    keyFor(signer.apiSecret),
    { algorithm: 'HS256', header: { alg: 'HS256', cty: 'twilio-fpa;v=1', typ: 'JWT' } },
  );
  return {
    token,
    identity,
    ttl: ttlSeconds,
    expiresAt: new Date(exp * 1000).toISOString(),
    serviceSid: signer.syncServiceSid,
  };
}
