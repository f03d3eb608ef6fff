/** A typed client for the emulator's admin API (tests, scripts and outside tools drive the emulator with it). */
import type { FaultSettings } from './core/faults';
import type { SeedRequest, SeedResult } from './seed';
import type { SyncClientStats } from './sync-client/stats';

export interface EmulatorPublicConfig {
  accountSid: string;
  authToken: string;
  apiKey: string;
  apiSecret: string;
  syncServiceSid: string;
  workspaceSid: string;
  writeRatePerSecond: number;
  writeBurstSeconds: number;
  sweepLagSeconds: number;
  clockOffsetSeconds: number;
  now: string;
}

export class EmulatorAdmin {
  constructor(readonly baseUrl: string) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/__admin/${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const payload = await response.json();
    if (!response.ok) throw new Error(`emulator admin ${path}: ${response.status} ${JSON.stringify(payload)}`);
    return payload as T;
  }

  config(): Promise<EmulatorPublicConfig> {
    return this.call('GET', 'config');
  }
  setLimits(limits: { writeRatePerSecond?: number; writeBurstSeconds?: number; sweepLagSeconds?: number }) {
    return this.call<EmulatorPublicConfig>('POST', 'config', limits);
  }
  reset(): Promise<{ reset: true }> {
    return this.call('POST', 'reset', {});
  }
  seed(request: Partial<SeedRequest>): Promise<SeedResult> {
    return this.call('POST', 'seed', request);
  }
  flexToken(input: { identity: string; roles?: string[]; workerSid?: string | null; ttlSeconds?: number }) {
    return this.call<{ token: string; expiration: string }>('POST', 'flex-tokens', input);
  }
  agents() {
    return this.call<{ agents: Array<{ workerSid: string; identity: string; friendlyName: string; fullName: string; roles: string[] }> }>(
      'GET',
      'agents',
    );
  }
  advanceClock(advanceSeconds: number) {
    return this.call<{ now: string; offsetSeconds: number }>('POST', 'clock', { advanceSeconds });
  }
  faults(settings: Partial<FaultSettings>) {
    return this.call<FaultSettings>('POST', 'faults', settings);
  }
  stats() {
    return this.call<{
      total: number;
      byRoute: Record<string, number>;
      byStatus: Record<string, number>;
      byFamily: Record<string, number>;
      faults: Record<string, number>;
      rateLimited: number;
      syncClient: SyncClientStats;
    }>('GET', 'stats');
  }
}
