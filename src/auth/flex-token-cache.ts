/**
 * A small in-memory cache with single flight, for Flex token validations in a warm Functions instance:
 * - each entry lives for the time its loader says (the loader caps it at the cache setting and the token's expiry);
 * - concurrent lookups of a key that is being loaded wait for that one load instead of starting their own;
 * - failures are never stored: the next lookup tries again;
 * - the number of entries is bounded; when full, the oldest insertion goes first.
 * Times come from a monotonic clock (performance.now), so a jump of the wall clock cannot stretch an entry.
 */
export type CacheSource = 'hit' | 'miss' | 'shared';

export interface Loaded<V> {
  value: V;
  /** How long the value may be reused, from the moment the load finished; 0 or less: not stored. */
  ttlMs: number;
}

export interface SingleFlightCacheOptions {
  maxEntries?: number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
}

export class SingleFlightCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private readonly inflight = new Map<string, Promise<Loaded<V>>>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: SingleFlightCacheOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string, load: () => Promise<Loaded<V>>): Promise<{ value: V; source: CacheSource }> {
    const entry = this.entries.get(key);
    if (entry) {
      if (entry.until > this.now()) return { value: entry.value, source: 'hit' };
      this.entries.delete(key);
    }
    const pending = this.inflight.get(key);
    if (pending) return { value: (await pending).value, source: 'shared' };

    const loading = Promise.resolve().then(load);
    this.inflight.set(key, loading);
    try {
      const loaded = await loading;
      if (loaded.ttlMs > 0) this.store(key, loaded.value, this.now() + loaded.ttlMs);
      return { value: loaded.value, source: 'miss' };
    } finally {
      this.inflight.delete(key);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  private store(key: string, value: V, until: number): void {
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { value, until });
  }
}
