/**
 * What the emulator serves: the credentials it accepts and the service / workspace it starts with.
 * Defaults are fixed, well-formed dev values (not secrets) so that `.env` for local runs never changes;
 * EMULATOR_* environment variables or createEmulator() options override them.
 */
export interface EmulatorConfig {
  accountSid: string;
  authToken: string;
  apiKey: string;
  apiSecret: string;
  syncServiceSid: string;
  workspaceSid: string;
  /** Sustained writes per second per Sync object (a map and its items together). */
  writeRatePerSecond: number;
  /**
   * How many seconds of requests may burst at once: 10 (the default) is the real service's window (docs "Sync
   * limits"); 1 is a stricter option for tests that pace writes.
   */
  writeBurstSeconds: number;
  /** Sustained reads per second per Sync object (docs "Sync limits": 20), 0: off. Over it: 429 / 54009. */
  readRatePerSecond: number;
  /** Map permission reads and writes per second per map (docs "Sync limits": 80), 0: off. */
  permissionRatePerSecond: number;
  /**
   * Expired objects stay readable this long after `date_expires` before the sweeper removes them: "within minutes"
   * on the real service (docs "objects-ttl"); hours for tests that need expired items to linger.
   */
  sweepLagSeconds: number;
  /** Sync clients get `token_about_to_expire` this many seconds before their token's `exp`. */
  tokenWarningSeconds: number;
  /**
   * Account-wide limit on REST requests in flight at once (0: off). Over it, Twilio answers 429 with code 20429
   * "Too Many Requests" (https://www.twilio.com/docs/api/errors/20429); the real limit depends on the account.
   */
  accountConcurrency: number;
  /** Order of TaskRouter Events lists (undocumented on the real service): newest first, oldest first, or shuffled. */
  eventsOrder: 'newest' | 'oldest' | 'shuffled';
  /**
   * How the Calls list applies `StartTime>` / `StartTime<`: to the second (`exact`) or by the day (`day`: every call
   * of the days named), as the spec's descriptions ("a date as YYYY-MM-DD") suggest. Which one is real is unconfirmed.
   */
  callsTimeFilter: 'exact' | 'day';
}

export const DEFAULT_CONFIG: EmulatorConfig = {
  accountSid: 'AC00000000000000000000000000000001',
  authToken: 'e0000000000000000000000000000001',
  apiKey: 'SK00000000000000000000000000000001',
  apiSecret: 'emulator-api-secret-0000000000001',
  syncServiceSid: 'IS00000000000000000000000000000001',
  workspaceSid: 'WS00000000000000000000000000000001',
  writeRatePerSecond: 20,
  writeBurstSeconds: 10,
  readRatePerSecond: 20,
  permissionRatePerSecond: 80,
  sweepLagSeconds: 180,
  // The SDK's docs say the warning comes 3 minutes before expiry; the live service's exact lead is unconfirmed.
  tokenWarningSeconds: 180,
  accountConcurrency: 0,
  eventsOrder: 'newest',
  callsTimeFilter: 'exact',
};

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

export function configFromEnv(): Partial<EmulatorConfig> {
  const env = process.env;
  const pick = (name: string) => (env[name] ? env[name] : undefined);
  const config: Partial<EmulatorConfig> = {
    accountSid: pick('EMULATOR_ACCOUNT_SID'),
    authToken: pick('EMULATOR_AUTH_TOKEN'),
    apiKey: pick('EMULATOR_API_KEY'),
    apiSecret: pick('EMULATOR_API_SECRET'),
    syncServiceSid: pick('EMULATOR_SYNC_SERVICE_SID'),
    workspaceSid: pick('EMULATOR_WORKSPACE_SID'),
    writeRatePerSecond: numberFromEnv('EMULATOR_WRITE_RATE', DEFAULT_CONFIG.writeRatePerSecond),
    writeBurstSeconds: numberFromEnv('EMULATOR_WRITE_BURST_SECONDS', DEFAULT_CONFIG.writeBurstSeconds),
    sweepLagSeconds: numberFromEnv('EMULATOR_SWEEP_LAG_SECONDS', DEFAULT_CONFIG.sweepLagSeconds),
    tokenWarningSeconds: numberFromEnv('EMULATOR_TOKEN_WARNING_SECONDS', DEFAULT_CONFIG.tokenWarningSeconds),
    accountConcurrency: numberFromEnv('EMULATOR_ACCOUNT_CONCURRENCY', DEFAULT_CONFIG.accountConcurrency),
  };
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
}
