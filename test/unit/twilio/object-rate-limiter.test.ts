/** The per-object limiter, on a fake clock: bursts, spacing, independence of objects, deadlines and 429 feedback. */
import fc from 'fast-check';
import { resetWarmState } from '../../../src/runtime/warm-state';
import { ObjectRateLimiter, warmRateLimiter } from '../../../src/twilio/object-rate-limiter';

function fakeClock(start = 0) {
  const clock = { t: start, slept: [] as number[] };
  return {
    clock,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.t += ms;
    },
  };
}

describe('ObjectRateLimiter', () => {
  it('lets `burst` writes start at once on an idle object, then spaces them by 1/rate', () => {
    const { now } = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 20, burst: 3, now });
    const waits = Array.from({ length: 6 }, () => limiter.reserve('map')!.waitMs);
    expect(waits).toEqual([0, 0, 0, 50, 100, 150]);
  });

  it('keeps objects independent', () => {
    const { now } = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 10, burst: 1, now });
    expect(limiter.reserve('a')!.waitMs).toBe(0);
    expect(limiter.reserve('a')!.waitMs).toBe(100);
    expect(limiter.reserve('b')!.waitMs).toBe(0);
  });

  it('refills while idle, but never beyond the burst', () => {
    const fake = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 20, burst: 2, now: fake.now });
    for (let i = 0; i < 10; i++) limiter.reserve('m');
    fake.clock.t += 10_000; // long idle
    const waits = Array.from({ length: 4 }, () => limiter.reserve('m')!.waitMs);
    expect(waits).toEqual([0, 0, 50, 100]);
  });

  it('acquire() sleeps for the reserved slot', async () => {
    const fake = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 4, burst: 1, now: fake.now, sleep: fake.sleep });
    for (let i = 0; i < 3; i++) expect(await limiter.acquire('m')).toBe(true);
    expect(fake.clock.slept).toEqual([250, 250]);
    expect(fake.clock.t).toBe(500);
  });

  it('takes no slot that would come after notAfter', async () => {
    const fake = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 10, burst: 1, now: fake.now, sleep: fake.sleep });
    expect(limiter.reserve('m', 1, 150)).toEqual({ at: 0, waitMs: 0 });
    expect(limiter.reserve('m', 1, 150)).toEqual({ at: 100, waitMs: 100 });
    expect(limiter.reserve('m', 1, 150)).toBeUndefined();
    expect(await limiter.acquire('m', 1, 150)).toBe(false);
    // The refused attempts took nothing: the next slot is still 200.
    expect(limiter.reserve('m')!.at).toBe(200);
  });

  it('nextSlotAt() tells when the next write may start, reserving nothing', () => {
    const fake = fakeClock(1000);
    const limiter = new ObjectRateLimiter({ ratePerSecond: 10, burst: 2, now: fake.now });
    expect(limiter.nextSlotAt('m')).toBe(Number.NEGATIVE_INFINITY);
    limiter.reserve('m');
    expect(limiter.nextSlotAt('m')).toBeLessThanOrEqual(1000); // the burst's second slot is free now
    limiter.reserve('m');
    expect(limiter.nextSlotAt('m')).toBe(1100);
    expect(limiter.nextSlotAt('m')).toBe(1100);
    expect(limiter.reserve('m')!.at).toBe(1100);
  });

  it('penalize() pushes the object back (after a 429)', () => {
    const { now } = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 20, burst: 1, now });
    limiter.reserve('m');
    limiter.penalize('m', 1000);
    expect(limiter.reserve('m')!.waitMs).toBe(1050);
    expect(limiter.reserve('other')!.waitMs).toBe(0);
  });

  it('forgets idle objects so a long-lived limiter stays small', () => {
    const fake = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 20, burst: 1, now: fake.now, idleForgetMs: 1000 });
    for (let i = 0; i < 1000; i++) limiter.reserve(`map-${i}`);
    fake.clock.t += 5000;
    for (let i = 0; i < 100; i++) limiter.reserve('busy');
    expect(limiter.size).toBeLessThan(10);
  });

  it('takes a slot that starts exactly at notAfter, not one a millisecond later', () => {
    const { now } = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 10, burst: 1, now });
    limiter.reserve('m');
    expect(limiter.reserve('m', 1, 99)).toBeUndefined();
    expect(limiter.reserve('m', 1, 100)).toEqual({ at: 100, waitMs: 100 });
  });

  it('spaces a write of cost c by c intervals, and ignores a negative penalty', () => {
    const { now } = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 10, burst: 1, now });
    limiter.reserve('m', 3);
    expect(limiter.reserve('m')!.at).toBe(300);
    limiter.penalize('m', -1000);
    expect(limiter.reserve('m')!.at).toBe(400);
  });

  it('sweeps every 1024 reservations, forgetting only keys idle for longer than idleForgetMs (a busy key keeps its schedule)', () => {
    const fake = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 10, burst: 1, now: fake.now, idleForgetMs: 1000 });
    limiter.reserve('idle'); // its schedule ends at 100
    limiter.reserve('edge'); // ends at 100 too
    fake.clock.t = 1100; // 'edge' and 'idle' have been idle exactly 1000 ms: not yet longer
    for (let i = 0; i < 1021; i++) limiter.reserve('busy'); // reservation 1023: no sweep yet
    expect(limiter.size).toBe(3);
    fake.clock.t = 1101;
    limiter.reserve('busy'); // reservation 1024: the sweep
    expect(limiter.size).toBe(1); // 'idle' and 'edge' are gone, 'busy' (booked far ahead) stays
    expect(limiter.nextSlotAt('busy')).toBe(1100 + 1022 * 100); // 1022 writes booked from 1100 on
  });

  it('forgets after a minute of idleness by default, and defaults to a burst of 1', () => {
    const fake = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 1000, now: fake.now });
    expect(limiter.burst).toBe(1);
    limiter.reserve('old');
    fake.clock.t = 59_000;
    limiter.reserve('recent');
    fake.clock.t = 60_002;
    for (let i = 0; i < 1022; i++) limiter.reserve(`k${i % 2}`);
    expect(limiter.size).toBe(3); // the sweep at 1024 dropped 'old' (idle > 60 s), kept 'recent'
  });

  it('rejects nonsense settings, saying which', () => {
    expect(() => new ObjectRateLimiter({ ratePerSecond: 0 })).toThrow(new RangeError('ratePerSecond must be > 0'));
    expect(() => new ObjectRateLimiter({ ratePerSecond: Number.NaN })).toThrow(RangeError);
    expect(() => new ObjectRateLimiter({ ratePerSecond: 5, burst: 0.5 })).toThrow(new RangeError('burst must be >= 1'));
  });

  it('sweeps only on every 1024th reservation, not in between', () => {
    const fake = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 10, burst: 1, now: fake.now, idleForgetMs: 1000 });
    limiter.reserve('idle'); // reservation 1; its schedule ends at 100
    fake.clock.t = 5000; // long idle now
    for (let i = 2; i < 1024; i++) limiter.reserve(`k${i % 2}`);
    expect(limiter.size).toBe(3); // 'idle' is still there: no sweep before reservation 1024
    limiter.reserve('k0'); // reservation 1024
    expect(limiter.size).toBe(2);
    expect(limiter.nextSlotAt('idle')).toBe(Number.NEGATIVE_INFINITY);
  });

  it('keeps a key idle exactly idleForgetMs at a sweep, and forgets it a millisecond later (next sweep)', () => {
    const fake = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 10, burst: 1, now: fake.now, idleForgetMs: 1000 });
    limiter.reserve('edge'); // schedule ends at 100
    fake.clock.t = 1100;
    for (let i = 1; i < 1024; i++) limiter.reserve('busy'); // the sweep at 1024 runs at t = 1100
    expect(limiter.nextSlotAt('edge')).toBe(100);
    fake.clock.t = 1101;
    for (let i = 0; i < 1024; i++) limiter.reserve('other'); // the next sweep, at t = 1101
    expect(limiter.nextSlotAt('edge')).toBe(Number.NEGATIVE_INFINITY);
    expect(limiter.nextSlotAt('busy')).toBeGreaterThan(1101); // booked ahead: never dropped
  });

  it('never drops a key that is booked ahead, however long ago it was first used (the sweep keeps busy keys)', () => {
    const fake = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 1, burst: 1, now: fake.now, idleForgetMs: 1000 });
    for (let i = 0; i < 100; i++) limiter.reserve('busy'); // booked 100 s ahead
    fake.clock.t = 50_000; // far past idleForgetMs since its first write, but still booked until 100 000
    for (let i = 0; i < 1024; i++) limiter.reserve(`k${i}`);
    expect(limiter.reserve('busy')!.at).toBe(100_000);
  });

  it('uses performance.now() and real timers when given no clock or sleep', async () => {
    const limiter = new ObjectRateLimiter({ ratePerSecond: 50, burst: 1 });
    const before = performance.now();
    const first = limiter.reserve('m')!;
    expect(first.at).toBeGreaterThanOrEqual(before);
    expect(first.at).toBeLessThanOrEqual(performance.now());
    expect(await limiter.acquire('m')).toBe(true); // waits for the slot 20 ms on
    // Node's timers fire no earlier than asked, to the millisecond.
    expect(performance.now()).toBeGreaterThanOrEqual(first.at + 20 - 1);
  });

  it('never lets more than burst + rate × t writes start in any interval of length t (any arrival pattern)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 200 }),
        (rate, burst, gaps) => {
          const fake = fakeClock();
          const limiter = new ObjectRateLimiter({ ratePerSecond: rate, burst, now: fake.now });
          const starts: number[] = [];
          for (const gap of gaps) {
            fake.clock.t += gap;
            starts.push(limiter.reserve('m')!.at);
          }
          starts.sort((a, b) => a - b);
          for (let i = 0; i < starts.length; i++) {
            for (let j = i; j < starts.length; j++) {
              const allowed = burst + ((starts[j] - starts[i]) * rate) / 1000 + 1e-6;
              if (j - i + 1 > allowed) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a 20/s limiter with burst 3 stays inside a 20-token, 20/s server bucket (the emulator and Sync limit)', () => {
    const fake = fakeClock();
    const limiter = new ObjectRateLimiter({ ratePerSecond: 20, burst: 3, now: fake.now });
    let tokens = 20;
    let at = 0;
    for (let i = 0; i < 500; i++) {
      const slot = limiter.reserve('m')!.at;
      tokens = Math.min(20, tokens + ((slot - at) / 1000) * 20);
      at = slot;
      expect(tokens).toBeGreaterThanOrEqual(1);
      tokens -= 1;
    }
  });

  it('keeps a function’s rate limiter across invocations, and makes a new one when its settings change or after a reset', () => {
    const limiterFor = warmRateLimiter('test limiter');
    const first = limiterFor({ ratePerSecond: 20, burst: 2 });
    expect(limiterFor({ ratePerSecond: 20, burst: 2 })).toBe(first);
    const faster = limiterFor({ ratePerSecond: 30, burst: 2 });
    expect(faster).not.toBe(first);
    expect(faster.ratePerSecond).toBe(30);
    const bigger = limiterFor({ ratePerSecond: 30, burst: 3 });
    expect(bigger).not.toBe(faster);
    expect(bigger.burst).toBe(3);
    resetWarmState();
    expect(limiterFor({ ratePerSecond: 30, burst: 3 })).not.toBe(bigger);
  });
});
