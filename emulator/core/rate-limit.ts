/**
 * Per-object write limiter: a token bucket per Sync object (a map and its items share one), refilled at
 * `ratePerSecond` up to `ratePerSecond * burstSeconds`. It runs on real time, not the emulator clock, because
 * rate limits are about how fast requests arrive.
 */
export class WriteLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private ratePerSecond: number,
    private burstSeconds: number,
  ) {}

  /** Takes `cost` tokens for `objectKey` if it can; false means answer 429 / 54009. */
  take(objectKey: string, cost = 1): boolean {
    if (this.ratePerSecond <= 0) return true;
    const capacity = Math.max(1, this.ratePerSecond * this.burstSeconds);
    const now = performance.now();
    const bucket = this.buckets.get(objectKey) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    this.buckets.set(objectKey, bucket);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }

  /** Seconds until `cost` tokens are available again (the Retry-After a client may honour). */
  secondsUntilAvailable(objectKey: string, cost = 1): number {
    const bucket = this.buckets.get(objectKey);
    if (!bucket || bucket.tokens >= cost) return 0;
    return (cost - bucket.tokens) / this.ratePerSecond;
  }

  forget(objectKey: string): void {
    this.buckets.delete(objectKey);
  }
}
