/**
 * The settings of /sync-token, read from the Functions environment on every request (context is per request).
 * A bad value is a ConfigError naming the variable: the caller gets 500 CONFIG_INVALID, nothing is clamped.
 */
import { boolean, integerInRange, list, requiredString, SID_PATTERNS, type Env } from './env';

/** Access Token lifetime bounds: Twilio allows at most 24 h; best practice is never under 30 min. */
export const SYNC_TOKEN_TTL = { min: 1800, max: 86_400, default: 14_400 } as const;

/** How long a Flex token validation may be reused (0 disables the cache; concurrent calls still share one). */
export const FLEX_VALIDATION_CACHE = { min: 0, max: 3600, default: 60 } as const;

/** FLEX_VALIDATION_CACHE_SECONDS, shared by every function that verifies Flex tokens. */
export function readValidationCacheSeconds(env: Env): number {
  const { default: fallback, min, max } = FLEX_VALIDATION_CACHE;
  return integerInRange(env, 'FLEX_VALIDATION_CACHE_SECONDS', fallback, min, max);
}

export interface SyncTokenConfig {
  accountSid: string;
  /** Verifies X-Twilio-Signature (the project client authenticates with it too). */
  authToken: string;
  apiKey: string;
  apiSecret: string;
  syncServiceSid: string;
  /** Lifetime of issued tokens, and the longest a client may ask for (seconds). */
  ttlSeconds: number;
  validationCacheSeconds: number;
  /** When non-empty, a Flex user needs at least one of these roles. */
  allowedRoles: string[];
  /** Guest Flex tokens (no WK worker SID, or role guest) are refused unless this is true. */
  allowGuests: boolean;
  /** Issue tokens for a Sync service whose ACLs are off (every token could then read and write everything). */
  allowAclDisabled: boolean;
}

export function readSyncTokenConfig(env: Env): SyncTokenConfig {
  return {
    accountSid: requiredString(env, 'ACCOUNT_SID', SID_PATTERNS.account, 'an account SID (AC + 32 hex)'),
    authToken: requiredString(env, 'AUTH_TOKEN'),
    apiKey: requiredString(env, 'API_KEY', SID_PATTERNS.apiKey, 'an API key SID (SK + 32 hex)'),
    apiSecret: requiredString(env, 'API_SECRET'),
    syncServiceSid: requiredString(
      env,
      'SYNC_SERVICE_SID',
      SID_PATTERNS.syncService,
      'a Sync service SID (IS + 32 hex)',
    ),
    ttlSeconds: integerInRange(env, 'SYNC_TOKEN_TTL', SYNC_TOKEN_TTL.default, SYNC_TOKEN_TTL.min, SYNC_TOKEN_TTL.max),
    validationCacheSeconds: readValidationCacheSeconds(env),
    allowedRoles: list(env, 'SYNC_TOKEN_ALLOWED_ROLES', []),
    allowGuests: boolean(env, 'SYNC_TOKEN_ALLOW_GUESTS', false),
    allowAclDisabled: boolean(env, 'SYNC_TOKEN_ALLOW_ACL_DISABLED', false),
  };
}
