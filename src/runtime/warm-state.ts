/**
 * Warm-instance state, in one place. A Functions instance that stays warm keeps its modules loaded between
 * invocations, so anything in module scope outlives the request that filled it. Each piece of such state (the Flex
 * validation cache, the Sync service's ACL setting, the Twilio server clock estimates, the HTTP connection pools,
 * the signing key, the functions' rate limiters) is made through this module: it gets a name, and one reset that
 * brings it back to what a cold start has.
 *
 * Tests call `resetWarmState()` (e.g. in `beforeEach`) instead of reaching into modules; `warmStateNames()` lists
 * what is registered. Only modules that have been loaded are registered, which is all a reset needs to reach.
 */
const resets = new Map<string, () => void>();

/** Registers module state under `name` (unique); `reset` returns it to its cold-start value. */
export function registerWarmState(name: string, reset: () => void): void {
  if (resets.has(name)) throw new Error(`warm state "${name}" is registered twice`);
  resets.set(name, reset);
}

/** A Map kept across warm invocations; the reset empties it. */
export function warmMap<K, V>(name: string): Map<K, V> {
  const map = new Map<K, V>();
  registerWarmState(name, () => map.clear());
  return map;
}

/** One value kept across warm invocations, made on first use; the reset forgets it. */
export interface WarmSlot<T> {
  get(): T | undefined;
  set(value: T): T;
}

export function warmSlot<T>(name: string): WarmSlot<T> {
  let value: T | undefined;
  registerWarmState(name, () => {
    value = undefined;
  });
  return {
    get: () => value,
    set: (next) => (value = next),
  };
}

/** Every registered piece of warm state back to a cold start (tests). */
export function resetWarmState(): void {
  for (const reset of resets.values()) reset();
}

/** The names of the registered pieces, in registration order. */
export function warmStateNames(): string[] {
  return [...resets.keys()];
}
