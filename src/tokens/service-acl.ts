/**
 * A Sync token for a service without ACLs can read and write every object in it: every agent's map and the job's
 * checkpoint. So /sync-token issues tokens only for a service with ACLs enabled (Twilio's Sync best practice), unless
 * SYNC_TOKEN_ALLOW_ACL_DISABLED says otherwise. The service's setting is looked up once per warm instance and then
 * every few minutes, so it costs no request on the hot path.
 */
import type { Twilio } from 'twilio';
import { ConfigError } from '../config/errors';
import { warmMap } from '../runtime/warm-state';
import { hasStatus } from '../twilio/errors';

/** How long a warm instance trusts the setting it read (it changes only when an operator runs setup). */
export const ACL_RECHECK_MS = 5 * 60_000;

const checked = warmMap<string, { aclEnabled: boolean; at: number }>('Sync service ACL settings');

/**
 * Whether `serviceSid` enforces ACLs, read at most once per ACL_RECHECK_MS per warm instance (/sync-token's check
 * and the pushed events' read grants share it). Errors of the lookup are thrown as they come.
 */
export async function serviceAclEnabled(
  client: () => Twilio,
  serviceSid: string,
  now: () => number = () => performance.now(),
): Promise<boolean> {
  const entry = checked.get(serviceSid);
  if (entry && now() - entry.at <= ACL_RECHECK_MS) return entry.aclEnabled;
  const { aclEnabled } = await client().sync.v1.services(serviceSid).fetch();
  checked.set(serviceSid, { aclEnabled, at: now() });
  return aclEnabled;
}

/** Throws a ConfigError unless `serviceSid` enforces ACLs (or the check is turned off). */
export async function requireServiceAcl(
  client: () => Twilio,
  serviceSid: string,
  allowAclDisabled: boolean,
  now: () => number = () => performance.now(),
): Promise<void> {
  if (allowAclDisabled) return;
  let aclEnabled: boolean;
  try {
    aclEnabled = await serviceAclEnabled(client, serviceSid, now);
  } catch (error) {
    if (hasStatus(error, 404))
      throw new ConfigError('SYNC_SERVICE_SID', `names no Sync service of this account (${serviceSid})`);
    throw error;
  }
  if (!aclEnabled) {
    throw new ConfigError(
      'SYNC_SERVICE_SID',
      "has ACLs disabled, so any Sync token could read and write every agent's map: enable ACLs on the service " +
        '(npm run setup -- --enable-acl), or set SYNC_TOKEN_ALLOW_ACL_DISABLED=true to accept that',
    );
  }
}
