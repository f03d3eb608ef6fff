/**
 * The public URL of the running function, which is what a signer signs. Deployed: https://<DOMAIN_NAME><PATH>.
 * Local (twilio-run on localhost / 127.x): http. PUBLIC_BASE_URL overrides both, e.g. behind a tunnel.
 */
import type { Env } from '../config/env';
import { ConfigError } from '../config/errors';

const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;
const BASE_URL = /^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/;

export function publicUrl(context: Env): string {
  const path = context.PATH ?? '';
  const override = context.PUBLIC_BASE_URL?.trim() ?? '';
  if (override) {
    if (!BASE_URL.test(override))
      throw new ConfigError('PUBLIC_BASE_URL', 'must be an http(s) URL such as https://example.com');
    return override.replace(/\/+$/, '') + path;
  }
  const domain = context.DOMAIN_NAME ?? '';
  return `${LOCAL_HOST.test(domain) ? 'http' : 'https'}://${domain}${path}`;
}
