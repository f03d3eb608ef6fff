/** The functions' environment for a local run against the emulator: the emulator's credentials and resources. */
import type { EmulatorPublicConfig } from '../../emulator/admin-client';

export function localFunctionEnv(
  config: Pick<
    EmulatorPublicConfig,
    'accountSid' | 'authToken' | 'apiKey' | 'apiSecret' | 'syncServiceSid' | 'workspaceSid'
  >,
  emulatorUrl: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    ACCOUNT_SID: config.accountSid,
    AUTH_TOKEN: config.authToken,
    API_KEY: config.apiKey,
    API_SECRET: config.apiSecret,
    SYNC_SERVICE_SID: config.syncServiceSid,
    TWILIO_WORKSPACE_SID: config.workspaceSid,
    TWILIO_EMULATOR_URL: emulatorUrl,
    ...overrides,
  };
}
