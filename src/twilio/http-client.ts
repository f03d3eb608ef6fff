/**
 * The HTTP layer under every Twilio SDK call in this project:
 * - retries 429 / 5xx / network errors with the one retry policy, inside the invocation's deadline;
 * - optionally routes every request to the local emulator (only when an emulator URL is configured);
 * - remembers the Twilio server's clock (the Date header), which TTL and expiry decisions compare against;
 * - counts requests, retries and 429s for the job's summary log line.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import twilio from 'twilio';
import { warmMap } from '../runtime/warm-state';
import { Deadline } from './deadline';
import {
  backoffDelayMs,
  TWILIO_RETRY_POLICY,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
} from './retry-policy';
import { pooledAgent, sendSdkRequest, type SdkRequest } from './transport';

type RequestOptions<TData> = import('twilio/lib/base/RequestClient').RequestOptions<TData>;
type Response<TData> = import('twilio/lib/http/response').default<TData>;

/** Longest single attempt; a stalled connection must not eat the whole invocation. */
const MAX_ATTEMPT_TIMEOUT_MS = 5000;
const MIN_ATTEMPT_TIMEOUT_MS = 50;
/** A Date header this far below the clock estimate means the server's clock was set back (not mere flooring). */
const CLOCK_MOVED_BACK_MS = 3000;

export interface TwilioCallMetrics {
  requests: number;
  retries: number;
  throttled: number;
  serverErrors: number;
  networkErrors: number;
}

export interface TwilioHttpClientOptions {
  deadline?: Deadline;
  policy?: RetryPolicy;
  /** Base URL of the local emulator; every Twilio host is rewritten to it. Never set in production. */
  emulatorUrl?: string;
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic clock in ms (tests inject one); default performance.now. */
  monotonicNow?: () => number;
  /**
   * Sockets open at once per host: the most requests this client can have in flight. The SDK's own agent allows 20
   * (and keeps only 5 idle), so a caller that runs more requests at once must say so here.
   */
  maxSockets?: number;
  /**
   * Which connection pool to use (default: the shared one). Work that stands for separate Functions instances (the
   * job's shards, which run in one process only locally) names its own, so that locally it gets the sockets each
   * instance would have, not a share of one pool.
   */
  pool?: string;
}

/** The twilio SDK's own per-host default. */
export const DEFAULT_MAX_SOCKETS = 20;

/**
 * Best estimates of (server time − performance.now()) per server clock: all of Twilio shares one, each emulator has
 * its own. Module scope, so a warm instance's invocations keep refining what earlier ones learned.
 */
const serverOffsets = warmMap<string, number>('Twilio server clock offsets');

/**
 * Twilio's current time by this instance's estimate, without a client: what `serverNow()` of any client for that
 * server (Twilio, or the emulator at `emulatorUrl`) answers; the local clock until an answer was seen.
 */
export function estimatedServerNow(emulatorUrl?: string): number {
  const offset = serverOffsets.get(emulatorUrl?.replace(/\/+$/, '') ?? 'twilio');
  return offset === undefined ? Date.now() : performance.now() + offset;
}

const TWILIO_ORIGIN = /^https:\/\/[a-z0-9.-]+\.twilio\.com(?::443)?/i;

export class TwilioHttpClient extends twilio.RequestClient {
  /** The connection pools this client sends on, shared by every client of the same size and pool name. */
  readonly agents: { http: HttpAgent; https: HttpsAgent };
  readonly metrics: TwilioCallMetrics = { requests: 0, retries: 0, throttled: 0, serverErrors: 0, networkErrors: 0 };
  private readonly deadline: Deadline;
  private readonly policy: RetryPolicy;
  private readonly emulatorUrl?: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly monotonicNow: () => number;
  /** Which server clock this client reads: Twilio's, or this emulator's. */
  private readonly clockKey: string;

  constructor(options: TwilioHttpClientOptions = {}) {
    super({ keepAlive: true });
    const maxSockets = options.maxSockets ?? DEFAULT_MAX_SOCKETS;
    // The emulator is plain http on loopback; it gets the same pool limits, so local runs and benches see
    // production's concurrency, not Node's unlimited global agent.
    this.agents = {
      http: pooledAgent('http', maxSockets, options.pool),
      https: pooledAgent('https', maxSockets, options.pool),
    };
    // The requests that go the SDK's way (see send) use the same pools, except https through HTTP_PROXY.
    this.axios.defaults.httpAgent = this.agents.http;
    if (!process.env.HTTP_PROXY) this.axios.defaults.httpsAgent = this.agents.https;
    this.deadline = options.deadline ?? Deadline.none();
    this.policy = options.policy ?? TWILIO_RETRY_POLICY;
    this.emulatorUrl = options.emulatorUrl?.replace(/\/+$/, '');
    this.clockKey = this.emulatorUrl ?? 'twilio';
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
  }

  override async request<TData>(opts: RequestOptions<TData>): Promise<Response<TData>> {
    const uri = this.emulatorUrl ? String(opts.uri).replace(TWILIO_ORIGIN, this.emulatorUrl) : opts.uri;
    for (let attempt = 1; ; attempt++) {
      const remaining = this.deadline.remainingMs();
      const timeout = Math.max(MIN_ATTEMPT_TIMEOUT_MS, Math.min(MAX_ATTEMPT_TIMEOUT_MS, remaining));
      this.metrics.requests += 1;
      let retryAfterMs: number | undefined;
      try {
        const response = await this.send<TData>({ ...opts, uri }, timeout);
        this.noteServerClock(response.headers);
        if (!isRetryableStatus(response.statusCode)) return response;
        if (response.statusCode === 429) this.metrics.throttled += 1;
        else this.metrics.serverErrors += 1;
        retryAfterMs = parseRetryAfter(header(response.headers, 'retry-after'));
        const delay = this.nextDelay(attempt, retryAfterMs);
        if (delay === undefined) return response; // the SDK turns it into a RestException with the real status
        await this.pause(delay);
      } catch (error) {
        if (!isRetryableNetworkError(error)) throw error;
        this.metrics.networkErrors += 1;
        const delay = this.nextDelay(attempt, undefined);
        if (delay === undefined) throw error;
        await this.pause(delay);
      }
    }
  }

  /**
   * One attempt. Two cases go the SDK's own way (axios): https with HTTP_PROXY, through the SDK's proxy agent
   * (whose pool is the proxy's), and a client at log level debug, which the SDK prints. Everything else goes on this
   * client's pools.
   */
  private async send<TData>(opts: RequestOptions<TData>, timeout: number): Promise<Response<TData>> {
    const proxied = Boolean(process.env.HTTP_PROXY) && opts.uri.startsWith('https:');
    if (proxied || opts.logLevel === 'debug') return super.request<TData>({ ...opts, timeout });
    const response = await sendSdkRequest(opts as SdkRequest, this.agents, timeout);
    return response as unknown as Response<TData>;
  }

  /** The Twilio server's current time, from the last Date header seen; the local clock until one was seen. */
  serverNow(): number {
    const offset = serverOffsets.get(this.clockKey);
    return offset === undefined ? Date.now() : this.monotonicNow() + offset;
  }

  /** The delay before the next attempt, or undefined when no retry fits the policy or the deadline. */
  private nextDelay(attempt: number, retryAfterMs: number | undefined): number | undefined {
    if (attempt >= this.policy.attempts) return undefined;
    const delay = backoffDelayMs(attempt, this.policy, retryAfterMs);
    // Leave room for the retried request itself.
    if (delay + MIN_ATTEMPT_TIMEOUT_MS >= this.deadline.remainingMs()) return undefined;
    return delay;
  }

  private async pause(ms: number): Promise<void> {
    this.metrics.retries += 1;
    await this.sleep(ms);
  }

  /**
   * A Date header is floored to the second and stamped before the answer travelled, so `date − now` is a lower
   * bound of the true offset (at most 1 s + latency below it). Keeping the highest bound seen converges on the
   * true offset as answers arrive; a bound far below the current one means the server's clock moved back.
   */
  private noteServerClock(headers: unknown): void {
    const date = Date.parse(String(header(headers, 'date') ?? ''));
    if (Number.isNaN(date)) return;
    const bound = date - this.monotonicNow();
    const current = serverOffsets.get(this.clockKey);
    if (current === undefined || bound > current || bound < current - CLOCK_MOVED_BACK_MS)
      serverOffsets.set(this.clockKey, bound);
  }
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as Record<string, unknown> & { get?: (n: string) => unknown };
  const value = typeof h.get === 'function' ? h.get(name) : (h[name] ?? h[name.toLowerCase()]);
  return value === undefined || value === null ? undefined : String(value);
}
