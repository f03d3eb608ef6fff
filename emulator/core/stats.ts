/** Request counts by route and by outcome, read by GET /__admin/stats (benchmarks count API calls with it). */
import { emptySyncClientStats } from '../sync-client/stats';

export class Stats {
  total = 0;
  byRoute: Record<string, number> = {};
  byStatus: Record<string, number> = {};
  byFamily: Record<string, number> = {};
  faults = { errors: 0, throttles: 0, drops: 0, delayed: 0 };
  rateLimited = 0;
  /** The Sync client WebSocket endpoint's counts. */
  syncClient = emptySyncClientStats();
  /** 429 / 20429 answers of the account-wide concurrency limit. */
  concurrencyLimited = 0;

  record(family: string, routeKey: string, status: number): void {
    this.total += 1;
    this.byRoute[routeKey] = (this.byRoute[routeKey] ?? 0) + 1;
    this.byStatus[String(status)] = (this.byStatus[String(status)] ?? 0) + 1;
    this.byFamily[family] = (this.byFamily[family] ?? 0) + 1;
  }

  toJSON() {
    return {
      total: this.total,
      byRoute: this.byRoute,
      byStatus: this.byStatus,
      byFamily: this.byFamily,
      faults: this.faults,
      rateLimited: this.rateLimited,
      syncClient: this.syncClient,
      concurrencyLimited: this.concurrencyLimited,
    };
  }
}
