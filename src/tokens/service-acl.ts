/**
 * A Sync token for a service without ACLs can read and write every object in it: every agent's map and the job's
 * checkpoint. So /sync-token issues tokens only for a service with ACLs enabled (Twilio's Sync best practice), unless
 * SYNC_TOKEN_ALLOW_ACL_DISABLED says otherwise. The service's setting is looked up once per warm instance and then
 * every few minutes, so it costs no request on the hot path.
 */
import type { Twilio } from 'twilio';
import { ConfigError } from '../config/errors';
import { hasStatus } from '../twilio/errors';

const RECHECK_MS = 5 * 60_000;

const checked = new Map<string, { aclEnabled: boolean; at: number }>();

/** Throws a ConfigError unless `serviceSid` enforces ACLs (or the check is turned off). */
export async function requireServiceAcl(
  client: () => Twilio,
  serviceSid: string,
  allowAclDisabled: boolean,
  now: () => number = () => performance.now(),
): Promise<void> {
  if (allowAclDisabled) return;
  let entry = checked.get(serviceSid);
  if (!entry || now() - entry.at > RECHECK_MS) {
    let aclEnabled: boolean;
    try {
      aclEnabled = (await client().sync.v1.services(serviceSid).fetch()).aclEnabled;
    } catch (error) {
      if (hasStatus(error, 404))
        throw new ConfigError('SYNC_SERVICE_SID', `names no Sync service of this account (${serviceSid})`);
      throw error;
    }
    entry = { aclEnabled, at: now() };
    checked.set(serviceSid, entry);
  }
  if (!entry.aclEnabled) {
    throw new ConfigError(
      'SYNC_SERVICE_SID',
      "has ACLs disabled, so any Sync token could read and write every agent's map: enable ACLs on the service " +
        '(npm run setup -- --enable-acl), or set SYNC_TOKEN_ALLOW_ACL_DISABLED=true to accept that',
    );
  }
}

/** Forgets what was looked up (tests). */
export function forgetServiceAcl(): void {
  checked.clear();
}
