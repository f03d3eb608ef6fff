/** The map naming contract, checkpoint data reading and failure classification. */
import { readState } from '../../../src/recent-calls/checkpoint';
import { readSyncJobConfig } from '../../../src/config/sync-job';
import { isWorkerSid, recentCallsMapName, workerSidOfMap } from '../../../src/recent-calls/map-name';
import { classifyFailure, isCommitted } from '../../../src/recent-calls/writer';
import { ConfigError } from '../../../src/config/errors';

const WK = 'WK' + 'ab'.repeat(16);

describe('map naming contract', () => {
  it('is recent-calls-<WorkerSid>, and reads back', () => {
    expect(recentCallsMapName(WK)).toBe(`recent-calls-${WK}`);
    expect(workerSidOfMap(`recent-calls-${WK}`)).toBe(WK);
    expect(workerSidOfMap('recent-calls-alice')).toBeUndefined();
    expect(workerSidOfMap('other')).toBeUndefined();
  });
  it('refuses anything but a worker SID (no identity-derived names)', () => {
    expect(isWorkerSid(WK)).toBe(true);
    expect(() => recentCallsMapName('alice_40example_2Ecom')).toThrow(TypeError);
    expect(() => recentCallsMapName('WK../../x')).toThrow(TypeError);
  });
  it('is a valid Sync unique name (not SID-shaped, at most 320 characters)', () => {
    const name = recentCallsMapName(WK);
    expect(name.length).toBeLessThanOrEqual(320);
    expect(/^[A-Z]{2}[0-9a-f]{32}$/.test(name)).toBe(false);
  });
});

describe('checkpoint state', () => {
  it('reads stored data tolerantly', () => {
    expect(readState(undefined)).toMatchObject({ v: 1, cursor: null, lease: null, failures: [] });
    expect(readState({ cursor: 'garbage', lease: { owner: 1 }, windowSeconds: -5 })).toMatchObject({
      cursor: null,
      lease: null,
      windowSeconds: null,
    });
    const state = readState({
      cursor: '2026-03-01T00:00:00.000Z',
      lease: { owner: 'run', until: '2026-03-01T00:00:10.000Z' },
      windowSeconds: 3600,
    });
    expect(state).toMatchObject({ cursor: '2026-03-01T00:00:00.000Z', lease: { owner: 'run' }, windowSeconds: 3600 });
  });
});

describe('write outcomes', () => {
  it('commits written, already-there, too-old and permanently failed records; not retryable failures or unattempted ones', () => {
    expect(isCommitted({ kind: 'written' })).toBe(true);
    expect(isCommitted({ kind: 'exists' })).toBe(true);
    expect(isCommitted({ kind: 'old' })).toBe(true);
    expect(isCommitted({ kind: 'failed', retryable: false, code: '54006' })).toBe(true);
    expect(isCommitted({ kind: 'failed', retryable: true, code: '54009' })).toBe(false);
    expect(isCommitted({ kind: 'not-attempted' })).toBe(false);
    expect(isCommitted(undefined)).toBe(false);
  });
  it('classifies failures: 429/5xx/network retryable, other 4xx permanent, the unknown retryable; with their cause', () => {
    expect(classifyFailure({ status: 429, code: 54009, message: '' })).toEqual({
      retryable: true,
      code: '54009',
      cause: 'throttled',
    });
    expect(classifyFailure({ status: 503, message: '' })).toEqual({
      retryable: true,
      code: 'HTTP_503',
      cause: 'unavailable',
    });
    expect(classifyFailure({ status: 400, code: 54006, message: '' })).toEqual({
      retryable: false,
      code: '54006',
      cause: 'rejected',
    });
    expect(classifyFailure({ status: 403, code: 20403, message: '' })).toEqual({
      retryable: false,
      code: '20403',
      cause: 'rejected',
    });
    expect(classifyFailure(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toEqual({
      retryable: true,
      code: 'ECONNRESET',
      cause: 'unavailable',
    });
    expect(classifyFailure(new TypeError('bug'))).toEqual({ retryable: true, code: 'UNEXPECTED', cause: 'unexpected' });
  });
});

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
