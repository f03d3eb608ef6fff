/** The one home of warm-instance state: registration, one reset for all of it, and what is registered. */
import { flexValidationCache } from '../../../src/auth/flex-token';
import { registerWarmState, resetWarmState, warmMap, warmSlot, warmStateNames } from '../../../src/runtime/warm-state';
// Loaded for their registrations: every module that keeps state across warm invocations.
import '../../../src/functions/sync-recent-calls.protected';
import '../../../src/functions/taskrouter-events';
import '../../../src/tokens/access-token';
import '../../../src/tokens/service-acl';
import '../../../src/twilio/http-client';

describe('warm state', () => {
  it('registers every warm-instance cache of the functions under its own name', () => {
    expect(warmStateNames()).toEqual(
      expect.arrayContaining([
        'Flex validation cache',
        'Sync service ACL settings',
        'Twilio server clock offsets',
        'HTTP connection pools',
        'Sync token signing key',
        'sync job rate limiters (one per shard)',
        'pushed events rate limiter',
        'map permissions granted',
      ]),
    );
  });

  it('resets maps, slots and registered resets together, back to a cold start', async () => {
    const map = warmMap<string, number>('test map');
    const slot = warmSlot<string>('test slot');
    let custom = 1;
    registerWarmState('test custom', () => {
      custom = 0;
    });
    map.set('a', 1);
    expect(slot.set('kept')).toBe('kept');
    expect(slot.get()).toBe('kept');
    await flexValidationCache.get('k', async () => ({
      value: { valid: false, reason: 'invalid', message: 'x' },
      ttlMs: 60_000,
    }));
    expect(flexValidationCache.size).toBe(1);

    resetWarmState();
    expect(map.size).toBe(0);
    expect(slot.get()).toBeUndefined();
    expect(custom).toBe(0);
    expect(flexValidationCache.size).toBe(0);
  });

  it('refuses a second registration under a name already taken', () => {
    registerWarmState('test twice', () => {});
    expect(() => registerWarmState('test twice', () => {})).toThrow(/registered twice/);
    expect(() => warmMap('test twice')).toThrow(/registered twice/);
  });
});
