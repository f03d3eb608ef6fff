/**
 * The naming contract for agents' recent-calls maps (plugin authors and the /recent-calls reader rely on it):
 *
 *   Sync service:  SYNC_SERVICE_SID
 *   map:           unique name `recent-calls-<WorkerSid>`, e.g. `recent-calls-WK0123456789abcdef0123456789abcdef`
 *   item key:      `<task created, YYYYMMDDTHHMMSSZ>-<task SID>`, one per completed reservation (item-key.ts):
 *                  key order is time order, so `Order=desc` lists the newest calls first
 *   item data:     see recent-call-item.ts (`RecentCallItem`)
 *   item expiry:   `date_expires` = the call's start + RECENT_CALLS_TTL_DAYS; expired items may linger until Sync
 *                  removes them, so readers filter on `date_expires`
 *   access:        with ACLs on the service, the agent's identity (worker attribute `contact_uri` = `client:<identity>`)
 *                  has read-only permission on its own map and no other
 *
 * The worker SID (not the identity) names the map: it is stable, carries no personal data and matches the
 * `worker_sid` of a verified Flex token.
 */
import { SID_PATTERNS } from '../config/env';

export const RECENT_CALLS_MAP_PREFIX = 'recent-calls-';

export function isWorkerSid(value: unknown): value is string {
  return typeof value === 'string' && SID_PATTERNS.worker.test(value);
}

/** The unique name of the worker's recent-calls map. Throws on anything but a worker SID. */
export function recentCallsMapName(workerSid: string): string {
  if (!isWorkerSid(workerSid)) throw new TypeError(`not a worker SID: ${String(workerSid).slice(0, 40)}`);
  return `${RECENT_CALLS_MAP_PREFIX}${workerSid}`;
}

/** The worker SID a recent-calls map belongs to, or undefined for any other unique name. */
export function workerSidOfMap(uniqueName: string): string | undefined {
  if (!uniqueName.startsWith(RECENT_CALLS_MAP_PREFIX)) return undefined;
  const sid = uniqueName.slice(RECENT_CALLS_MAP_PREFIX.length);
  return isWorkerSid(sid) ? sid : undefined;
}

/** The unique name of the job's checkpoint Sync Document (same service). */
export const CHECKPOINT_DOCUMENT_NAME = 'recent-calls-sync-checkpoint';
