/**
 * The project's one per-object rate limiter: keeps the writes to each Twilio object (a Sync map and its items count as
 * one object) under a rate, e.g. Sync's 20 writes/s per object.
 *
 * It is a GCRA (generic cell rate algorithm, the "virtual scheduling" form of a token bucket): each key keeps a
 * theoretical arrival time (TAT). A write of cost c at time t may start at max(t, TAT - tolerance) and moves TAT on by
 * c / rate. `burst` writes may start at once on an idle key, after which they are spaced by 1 / rate. Reservations
 * are made synchronously, so concurrent callers of one key queue up in order without a lock.
 *
 * The clock and the sleep are injectable (tests use a fake clock). Keys idle for long are forgotten, so a limiter that
 * lives across warm invocations does not grow without bound.
 */
import { warmSlot } from '../runtime/warm-state';

export interface ObjectRateLimiterOptions {
  /** Sustained writes per second per object (> 0). */
  ratePerSecond: number;
  /** Writes an idle object may take at once (>= 1). Keep it small: the server's bucket may already be partly used. */
  burst?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Forget keys idle for this long (ms). */
  idleForgetMs?: number;
}

export interface Reservation {
  /** When the write may start (ms, on the limiter's clock). */
  at: number;
  /** How long the caller has to wait from now. */
  waitMs: number;
}

export class ObjectRateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly idleForgetMs: number;
  private readonly tat = new Map<string, number>();
  private reservations = 0;

  constructor(options: ObjectRateLimiterOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    const burst = options.burst ?? 1;
    if (!(burst >= 1)) throw new RangeError('burst must be >= 1');
    this.ratePerSecond = options.ratePerSecond;
    this.burst = burst;
    this.intervalMs = 1000 / options.ratePerSecond;
    this.toleranceMs = (burst - 1) * this.intervalMs;
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.idleForgetMs = options.idleForgetMs ?? 60_000;
  }

  /**
   * Reserves the next slot for `key` without waiting. With `notAfter` (on the limiter's clock), a slot later than that
   * is not reserved and `undefined` is returned, so a caller near its deadline takes no slot it cannot use.
   */
  reserve(key: string, cost = 1, notAfter = Number.POSITIVE_INFINITY): Reservation | undefined {
    const now = this.now();
    // Stryker disable next-line UpdateOperator: equivalent, counting down sweeps on the same calls (-1024 % 1024 is -0)
    if (++this.reservations % 1024 === 0) this.forgetIdle(now);
    const tat = Math.max(this.tat.get(key) ?? now, now);
    const at = Math.max(now, tat - this.toleranceMs);
    if (at > notAfter) return undefined;
    this.tat.set(key, tat + cost * this.intervalMs);
    return { at, waitMs: at - now };
  }

  /** The earliest instant the next write to `key` may start (possibly in the past: free now), reserving nothing. */
  nextSlotAt(key: string): number {
    const tat = this.tat.get(key);
    return tat === undefined ? Number.NEGATIVE_INFINITY : tat - this.toleranceMs;
  }

  /** Waits for a slot for `key`; false (and no slot taken) when it would come after `notAfter`. */
  async acquire(key: string, cost = 1, notAfter = Number.POSITIVE_INFINITY): Promise<boolean> {
    const reservation = this.reserve(key, cost, notAfter);
    if (!reservation) return false;
    if (reservation.waitMs > 0) await this.sleep(reservation.waitMs);
    return true;
  }

  /** Pushes `key`'s schedule back by `ms` (after the server said 429 for it, e.g. its Retry-After). */
  penalize(key: string, ms: number): void {
    const now = this.now();
    this.tat.set(key, Math.max(this.tat.get(key) ?? now, now) + Math.max(0, ms));
  }

  /** Number of keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.tat.size;
  }

  private forgetIdle(now: number): void {
    for (const [key, tat] of this.tat) if (tat < now - this.idleForgetMs) this.tat.delete(key);
  }
}

/**
 * The limiter a function keeps across warm invocations, so that back-to-back runs keep pacing each object's writes:
 * registered as warm state under `name`, and made anew when the rate or burst asked for changes.
 */
export function warmRateLimiter(
  name: string,
): (settings: { ratePerSecond: number; burst: number }) => ObjectRateLimiter {
  const kept = warmSlot<ObjectRateLimiter>(name);
  return (settings) => {
    const limiter = kept.get();
    if (limiter?.ratePerSecond === settings.ratePerSecond && limiter.burst === settings.burst) return limiter;
    return kept.set(new ObjectRateLimiter(settings));
  };
}
