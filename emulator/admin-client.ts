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
  accountConcurrency: number;
  clockOffsetSeconds: number;
  now: string;
  /** The emulator as an HTTP proxy for https://*.twilio.com and *.twil.io (HTTP_PROXY). */
  proxyUrl: string;
  /** This run's CA certificate (PEM): what proxied HTTPS clients must trust. */
  caPem: string;
}

/** GET /__admin/serverless: what was deployed (paths, visibility, runtime, dependencies, variable names). */
export interface ServerlessRecord {
  services: Array<{
    sid: string;
    uniqueName: string;
    includeCredentials: boolean;
    environments: Array<{
      sid: string;
      uniqueName: string;
      domainSuffix: string | null;
      domainName: string;
      buildSid: string | null;
      variableNames: string[];
      deployments: string[];
    }>;
    builds: Array<{
      sid: string;
      status: 'building' | 'completed' | 'failed';
      failure: string | null;
      runtime: string;
      dependencies: Array<{ name: string; version: string }>;
      functions: Array<{ sid: string; path: string; visibility: string; contentType: string; bytes: number }>;
      assets: Array<{ sid: string; path: string; visibility: string; contentType: string; bytes: number }>;
    }>;
  }>;
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
  setLimits(limits: {
    writeRatePerSecond?: number;
    writeBurstSeconds?: number;
    readRatePerSecond?: number;
    permissionRatePerSecond?: number;
    sweepLagSeconds?: number;
    accountConcurrency?: number;
    eventsOrder?: 'newest' | 'oldest' | 'shuffled';
    callsTimeFilter?: 'exact' | 'day';
  }) {
    return this.call<EmulatorPublicConfig>('POST', 'config', limits);
  }
  serverless(): Promise<ServerlessRecord> {
    return this.call('GET', 'serverless');
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
    return this.call<{
      agents: Array<{ workerSid: string; identity: string; friendlyName: string; fullName: string; roles: string[] }>;
    }>('GET', 'agents');
  }
  advanceClock(advanceSeconds: number) {
    return this.call<{ now: string; offsetSeconds: number }>('POST', 'clock', { advanceSeconds });
  }
  faults(settings: Partial<FaultSettings>) {
    return this.call<FaultSettings>('POST', 'faults', settings);
  }
  /** Calls handled now, in real time: their events are pushed to the configured callback and sinks as they happen. */
  liveCalls(
    input: {
      workerSid?: string;
      count?: number;
      direction?: 'inbound' | 'outbound';
      talkSeconds?: number;
      spreadSeconds?: number;
    } = {},
  ) {
    return this.call<{
      calls: Array<{ taskSid: string; workerSid: string; callSid: string | null; direction: 'inbound' | 'outbound' }>;
    }>('POST', 'live-calls', input);
  }
  deliveries() {
    return this.call<{
      callbacks: Array<{ eventSid: string; eventType: string; status: number; ok: boolean; ms: number }>;
      streams: Array<{
        sinkSid: string;
        eventIds: string[];
        eventTypes: string[];
        attempt: number;
        status: number;
        ok: boolean;
        ms: number;
        at: number;
      }>;
      backlog: number;
    }>('GET', 'deliveries');
  }
  eventStreams(settings: Record<string, number | boolean>) {
    return this.call<Record<string, number>>('POST', 'event-streams', settings);
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
      concurrencyLimited: number;
    }>('GET', 'stats');
  }
}
