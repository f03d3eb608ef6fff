/**
 * The settings of /recent-calls, read from the Functions environment on every request (context is per request).
 * A bad value is a ConfigError naming the variable: the caller gets 500 CONFIG_INVALID, nothing is clamped.
 */
import { integerInRange, list, requiredString, SID_PATTERNS, type Env } from './env';
import { readValidationCacheSeconds } from './sync-token';

/** Most items one request reads from a map (100 per Sync page): a month of one agent's calls fits many times over. */
export const RECENT_CALLS_MAX_ITEMS = { min: 100, max: 50_000, default: 5000 } as const;

export const DEFAULT_SUPERVISOR_ROLES = ['supervisor', 'admin'];

export interface RecentCallsConfig {
  accountSid: string;
  syncServiceSid: string;
  /** How long a Flex token validation may be reused (shared with /sync-token's setting). */
  validationCacheSeconds: number;
  /** Flex roles that may read another agent's calls (`WorkerSid`). */
  supervisorRoles: string[];
  /** A map holding more items than this is refused (500 RECENT_CALLS_TOO_MANY) rather than read partly. */
  maxItems: number;
}

export function readRecentCallsConfig(env: Env): RecentCallsConfig {
  return {
    accountSid: requiredString(env, 'ACCOUNT_SID', SID_PATTERNS.account, 'an account SID (AC + 32 hex)'),
    syncServiceSid: requiredString(env, 'SYNC_SERVICE_SID', SID_PATTERNS.syncService, 'a Sync service SID (IS + 32 hex)'),
    validationCacheSeconds: readValidationCacheSeconds(env),
    supervisorRoles: list(env, 'RECENT_CALLS_SUPERVISOR_ROLES', DEFAULT_SUPERVISOR_ROLES),
    maxItems: integerInRange(
      env,
      'RECENT_CALLS_MAX_ITEMS',
      RECENT_CALLS_MAX_ITEMS.default,
      RECENT_CALLS_MAX_ITEMS.min,
      RECENT_CALLS_MAX_ITEMS.max,
    ),
  };
}
