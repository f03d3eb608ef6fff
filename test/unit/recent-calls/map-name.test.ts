/** The map naming contract. */
import { isWorkerSid, recentCallsMapName, workerSidOfMap } from '../../../src/recent-calls/map-name';

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
