import { SingleFlightCache } from '../../../src/auth/flex-token-cache';

function fakeClock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('SingleFlightCache', () => {
  it('reuses a value for exactly its ttl by the monotonic clock', async () => {
    const clock = fakeClock();
    const cache = new SingleFlightCache<string>({ now: clock.now });
    const load = jest.fn(async () => ({ value: 'v', ttlMs: 60_000 }));
    expect(await cache.get('k', load)).toEqual({ value: 'v', source: 'miss' });
    clock.advance(59_999);
    expect(await cache.get('k', load)).toEqual({ value: 'v', source: 'hit' });
    clock.advance(1);
    expect(await cache.get('k', load)).toEqual({ value: 'v', source: 'miss' });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('does not store a value whose ttl is zero or negative', async () => {
    const cache = new SingleFlightCache<string>({ now: fakeClock().now });
    for (const ttlMs of [0, -5]) {
      const load = jest.fn(async () => ({ value: 'v', ttlMs }));
      await cache.get(`k${ttlMs}`, load);
      await cache.get(`k${ttlMs}`, load);
      expect(load).toHaveBeenCalledTimes(2);
    }
    expect(cache.size).toBe(0);
  });

  it('lets concurrent lookups of one key share one load', async () => {
    const cache = new SingleFlightCache<string>({ now: fakeClock().now });
    const gate = deferred<{ value: string; ttlMs: number }>();
    const load = jest.fn(() => gate.promise);
    const lookups = [cache.get('k', load), cache.get('k', load), cache.get('k', load)];
    const other = cache.get('other', async () => ({ value: 'o', ttlMs: 1000 }));
    gate.resolve({ value: 'v', ttlMs: 0 }); // even a value that is not stored is shared by the waiters
    const results = await Promise.all(lookups);
    expect(load).toHaveBeenCalledTimes(1);
    expect(results.map((r) => r.value)).toEqual(['v', 'v', 'v']);
    expect(results.map((r) => r.source).sort()).toEqual(['miss', 'shared', 'shared']);
    expect(await other).toEqual({ value: 'o', source: 'miss' });
  });

  it('shares a failure with the waiters, stores nothing, and loads again next time', async () => {
    const cache = new SingleFlightCache<string>({ now: fakeClock().now });
    const gate = deferred<{ value: string; ttlMs: number }>();
    const failing = jest.fn(() => gate.promise);
    const lookups = [cache.get('k', failing), cache.get('k', failing)];
    gate.reject(new Error('IAM down'));
    for (const result of await Promise.allSettled(lookups)) {
      expect(result).toMatchObject({ status: 'rejected', reason: { message: 'IAM down' } });
    }
    expect(failing).toHaveBeenCalledTimes(1);
    const ok = jest.fn(async () => ({ value: 'v', ttlMs: 1000 }));
    expect(await cache.get('k', ok)).toEqual({ value: 'v', source: 'miss' });
  });

  it('turns a loader that throws synchronously into a rejection', async () => {
    const cache = new SingleFlightCache<string>();
    await expect(
      cache.get('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
  });

  it('holds at most maxEntries, dropping the oldest first', async () => {
    const cache = new SingleFlightCache<number>({ maxEntries: 3, now: fakeClock().now });
    for (const key of ['a', 'b', 'c', 'd']) await cache.get(key, async () => ({ value: 1, ttlMs: 10_000 }));
    expect(cache.size).toBe(3);
    const reload = jest.fn(async () => ({ value: 2, ttlMs: 10_000 }));
    expect((await cache.get('b', reload)).source).toBe('hit');
    expect((await cache.get('a', reload)).source).toBe('miss'); // a was evicted; storing it again evicts b
    expect((await cache.get('c', reload)).source).toBe('hit');
    expect((await cache.get('b', reload)).source).toBe('miss');
  });

  it('clear() forgets every stored value (the warm-state reset uses it)', async () => {
    const cache = new SingleFlightCache<string>({ now: fakeClock().now });
    await cache.get('a', async () => ({ value: 'v', ttlMs: 10_000 }));
    await cache.get('b', async () => ({ value: 'v', ttlMs: 10_000 }));
    cache.clear();
    expect(cache.size).toBe(0);
    expect(await cache.get('a', async () => ({ value: 'w', ttlMs: 10_000 }))).toEqual({ value: 'w', source: 'miss' });
  });

  it('keeps time by performance.now() when given no clock', async () => {
    const cache = new SingleFlightCache<string>();
    await cache.get('k', async () => ({ value: 'v', ttlMs: 60_000 }));
    expect((await cache.get('k', async () => ({ value: 'w', ttlMs: 60_000 }))).source).toBe('hit');
  });
});
