/** The sync job's settings, read from the Functions environment (see docs/configuration.md). */
import { integerInRange, requiredString, SID_PATTERNS, type Env } from './env';

/** The largest SYNC_JOB_BUDGET_MS accepted (Functions stop at 10 s; the last save needs time after the budget). */
export const MAX_BUDGET_MS = 8500;

export interface SyncJobConfig {
  serviceSid: string;
  workspaceSid: string;
  /** Items expire this many days after the call started; older calls are skipped. */
  ttlDays: number;
  /** An invocation takes no new work after this many ms. */
  budgetMs: number;
  /** Write requests in flight at once, all maps together. */
  concurrency: number;
  /** Writes per second per map (Sync allows 20 per object). */
  mapWritesPerSecond: number;
  /** Events newer than this many seconds are left for the next run (they may still be settling). */
  eventLagSeconds: number;
}

export function readSyncJobConfig(env: Env): SyncJobConfig {
  return {
    serviceSid: requiredString(env, 'SYNC_SERVICE_SID', SID_PATTERNS.syncService, 'a Sync service SID (IS…)'),
    workspaceSid: requiredString(
      env,
      'TWILIO_WORKSPACE_SID',
      SID_PATTERNS.workspace,
      'a TaskRouter workspace SID (WS…)',
    ),
    ttlDays: integerInRange(env, 'RECENT_CALLS_TTL_DAYS', 30, 1, 365),
    budgetMs: integerInRange(env, 'SYNC_JOB_BUDGET_MS', 8000, 500, MAX_BUDGET_MS),
    concurrency: integerInRange(env, 'SYNC_WRITE_CONCURRENCY', 32, 1, 100),
    mapWritesPerSecond: integerInRange(env, 'SYNC_MAP_WRITES_PER_SECOND', 18, 1, 20),
    eventLagSeconds: integerInRange(env, 'RECENT_CALLS_EVENT_LAG_SECONDS', 60, 0, 3600),
  };
}
