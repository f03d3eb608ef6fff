/** The job's settings. */
import { readSyncJobConfig } from '../../../src/config/sync-job';
import { ConfigError } from '../../../src/config/errors';

describe('job settings', () => {
  const base = { SYNC_SERVICE_SID: 'IS' + '0'.repeat(32), TWILIO_WORKSPACE_SID: 'WS' + '0'.repeat(32) };
  it('has documented defaults', () => {
    expect(readSyncJobConfig(base)).toEqual({
      serviceSid: base.SYNC_SERVICE_SID,
      workspaceSid: base.TWILIO_WORKSPACE_SID,
      ttlDays: 30,
      budgetMs: 8000,
      concurrency: 32,
      mapWritesPerSecond: 18,
      eventLagSeconds: 60,
    });
  });
  it('refuses values that break the 10 s limit or the Sync limits', () => {
    expect(() => readSyncJobConfig({ ...base, SYNC_JOB_BUDGET_MS: '9500' })).toThrow(ConfigError);
    expect(() => readSyncJobConfig({ ...base, SYNC_MAP_WRITES_PER_SECOND: '25' })).toThrow(ConfigError);
    expect(() => readSyncJobConfig({ ...base, RECENT_CALLS_TTL_DAYS: '0' })).toThrow(ConfigError);
    expect(() => readSyncJobConfig({ TWILIO_WORKSPACE_SID: base.TWILIO_WORKSPACE_SID })).toThrow(/SYNC_SERVICE_SID/);
  });
});
