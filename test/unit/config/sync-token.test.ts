import { ConfigError } from '../../../src/config/errors';
import { readSyncTokenConfig } from '../../../src/config/sync-token';

const base = {
  ACCOUNT_SID: 'AC' + '1'.repeat(32),
  AUTH_TOKEN: 'auth-token',
  API_KEY: 'SK' + '2'.repeat(32),
  API_SECRET: 'api-secret',
  SYNC_SERVICE_SID: 'IS' + '3'.repeat(32),
};

function problem(env: Record<string, string | undefined>): string {
  try {
    readSyncTokenConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('readSyncTokenConfig', () => {
  it('has documented defaults', () => {
    expect(readSyncTokenConfig(base)).toEqual({
      accountSid: base.ACCOUNT_SID,
      authToken: base.AUTH_TOKEN,
      apiKey: base.API_KEY,
      apiSecret: base.API_SECRET,
      syncServiceSid: base.SYNC_SERVICE_SID,
      ttlSeconds: 14_400,
      validationCacheSeconds: 60,
      allowedRoles: [],
      allowGuests: false,
      allowAclDisabled: false,
    });
  });

  it('reads every setting', () => {
    const config = readSyncTokenConfig({
      ...base,
      SYNC_TOKEN_TTL: '1800',
      FLEX_VALIDATION_CACHE_SECONDS: '0',
      SYNC_TOKEN_ALLOWED_ROLES: ' agent ,supervisor,,',
      SYNC_TOKEN_ALLOW_GUESTS: 'yes',
      SYNC_TOKEN_ALLOW_ACL_DISABLED: 'true',
    });
    expect(config).toMatchObject({
      ttlSeconds: 1800,
      validationCacheSeconds: 0,
      allowedRoles: ['agent', 'supervisor'],
      allowGuests: true,
      allowAclDisabled: true,
    });
    expect(readSyncTokenConfig({ ...base, SYNC_TOKEN_TTL: '86400' }).ttlSeconds).toBe(86_400);
  });

  it('names the variable and never clamps a lifetime outside 1800–86400', () => {
    expect(problem({ ...base, SYNC_TOKEN_TTL: '1799' })).toBe('SYNC_TOKEN_TTL must be from 1800 to 86400, got 1799');
    expect(problem({ ...base, SYNC_TOKEN_TTL: '86401' })).toBe('SYNC_TOKEN_TTL must be from 1800 to 86400, got 86401');
    expect(problem({ ...base, SYNC_TOKEN_TTL: '4h' })).toMatch(/^SYNC_TOKEN_TTL must be a whole number/);
    expect(problem({ ...base, SYNC_TOKEN_TTL: '3600.5' })).toMatch(/^SYNC_TOKEN_TTL/);
    expect(problem({ ...base, FLEX_VALIDATION_CACHE_SECONDS: '3601' })).toMatch(
      /^FLEX_VALIDATION_CACHE_SECONDS must be from 0 to 3600/,
    );
    expect(problem({ ...base, SYNC_TOKEN_ALLOW_GUESTS: 'sometimes' })).toMatch(/^SYNC_TOKEN_ALLOW_GUESTS/);
  });

  it('requires the credentials and SIDs, in their shapes', () => {
    for (const name of Object.keys(base)) {
      expect(problem({ ...base, [name]: undefined })).toBe(`${name} is not set`);
      expect(problem({ ...base, [name]: '  ' })).toBe(`${name} is not set`);
    }
    expect(problem({ ...base, ACCOUNT_SID: 'SK' + '1'.repeat(32) })).toMatch(/^ACCOUNT_SID must be an account SID/);
    expect(problem({ ...base, API_KEY: 'AC' + '1'.repeat(32) })).toMatch(/^API_KEY must be an API key SID/);
    expect(problem({ ...base, SYNC_SERVICE_SID: 'default' })).toMatch(/^SYNC_SERVICE_SID must be a Sync service SID/);
  });
});
