/**
 * The settings of /recent-calls, read from the Functions environment on every request (context is per request).
 * A bad value is a ConfigError naming the variable: the caller gets 500 CONFIG_INVALID, nothing is clamped.
 */
import { list, requiredString, SID_PATTERNS, type Env } from './env';
import { readValidationCacheSeconds } from './sync-token';

export const DEFAULT_SUPERVISOR_ROLES = ['supervisor', 'admin'];

export interface RecentCallsConfig {
  accountSid: string;
  syncServiceSid: string;
  /** How long a Flex token validation may be reused (shared with /sync-token's setting). */
  validationCacheSeconds: number;
  /** Flex roles that may read another agent's calls (`WorkerSid`). */
  supervisorRoles: string[];
}

export function readRecentCallsConfig(env: Env): RecentCallsConfig {
  return {
    accountSid: requiredString(env, 'ACCOUNT_SID', SID_PATTERNS.account, 'an account SID (AC + 32 hex)'),
    syncServiceSid: requiredString(
      env,
      'SYNC_SERVICE_SID',
      SID_PATTERNS.syncService,
      'a Sync service SID (IS + 32 hex)',
    ),
    validationCacheSeconds: readValidationCacheSeconds(env),
    supervisorRoles: list(env, 'RECENT_CALLS_SUPERVISOR_ROLES', DEFAULT_SUPERVISOR_ROLES),
  };
}
