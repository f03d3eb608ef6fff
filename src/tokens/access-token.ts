/** Mints the Access Token with a Sync grant, with the SDK's AccessToken (HS256, signed with the API key secret). */
import twilio from 'twilio';

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

export function mintSyncToken(signer: SyncTokenSigner, identity: string, ttlSeconds: number): IssuedSyncToken {
  const { AccessToken } = twilio.jwt;
  const accessToken = new AccessToken(signer.accountSid, signer.apiKey, signer.apiSecret, { identity, ttl: ttlSeconds });
  accessToken.addGrant(new AccessToken.SyncGrant({ serviceSid: signer.syncServiceSid }));
  const token = accessToken.toJwt();
  // Read exp back from the token itself, so expiresAt is exactly what the token says.
  const { exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp: number };
  return { token, identity, ttl: ttlSeconds, expiresAt: new Date(exp * 1000).toISOString(), serviceSid: signer.syncServiceSid };
}
