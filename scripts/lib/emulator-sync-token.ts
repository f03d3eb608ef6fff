/** A Sync access token the emulator accepts, signed with its API key (benches connect real twilio-sync clients). */
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Emulator } from '../../emulator/server';

export function emulatorSyncToken(emulator: Emulator, identity: string): string {
  const c = emulator.config;
  const iat = Math.floor(emulator.clock.now() / 1000);
  return jwt.sign(
    {
      jti: `${c.apiKey}-${iat}-${randomBytes(4).toString('hex')}`,
      grants: { identity, data_sync: { service_sid: c.syncServiceSid } },
      iat,
      exp: iat + 3600,
      iss: c.apiKey,
      sub: c.accountSid,
    },
    c.apiSecret,
    { algorithm: 'HS256', header: { alg: 'HS256', cty: 'twilio-fpa;v=1', typ: 'JWT' } },
  );
}
