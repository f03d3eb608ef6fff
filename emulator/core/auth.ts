/** Twilio's Basic auth: account SID + auth token, or API key SID + secret. Anything else is 401 / 20003. */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { EmulatorConfig } from './config';
import { TwilioError } from './errors';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function authenticate(
  headers: IncomingHttpHeaders,
  config: EmulatorConfig,
): { kind: 'account' | 'apiKey'; sid: string } {
  const header = headers.authorization ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (match) {
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (colon > 0 && user === config.accountSid && same(password, config.authToken))
      return { kind: 'account', sid: user };
    if (colon > 0 && user === config.apiKey && same(password, config.apiSecret)) return { kind: 'apiKey', sid: user };
  }
  throw new TwilioError(401, 20003, 'Authentication Error - invalid username', {
    'WWW-Authenticate': 'Basic realm="Twilio API"',
  });
}
