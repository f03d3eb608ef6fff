/**
 * Fakes for the browser client's unit tests. Fakes are the right tool here: fetch, Web Storage, the clock and the
 * twilio-sync client are browser-side APIs with no emulator path (the emulator stands in for Twilio's REST API, not
 * for a browser). The end-to-end path (real Chromium, real /sync-token, emulator) is covered by the browser test.
 */
import type { FetchLike, SyncClientLike } from '../../../src/client';
import type { KeyValueStorage } from '../../../src/client';
import {
  createSyncTokenProvider,
  type SyncTokenError,
  type SyncTokenErrorContext,
  type SyncTokenProviderOptions,
} from '../../../src/client';

export const ENDPOINT = 'https://flex-sync-1234.twil.io/sync-token';
export const FLEX_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJUSzEifQ.flex-signature-a';
export const SERVICE_SID = 'IS00000000000000000000000000000001';
export const T0 = Date.parse('2026-03-01T09:00:00Z');

export class FakeClock {
  constructor(public t = T0) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A sleep that records each delay and moves the fake clock by it, without waiting. */
export function recordingSleep(clock: FakeClock): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
      clock.advance(ms);
    },
  };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise chains (and the provider's loops) run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  });
}

export function refusal(status: number, code: string, headers: Record<string, string> = {}): Response {
  return json(status, { code, message: `refused: ${code}`, status, requestId: 'RQ-test' }, headers);
}

type Answer = Response | Error | Promise<Response>;

export interface RecordedRequest {
  url: string;
  init: RequestInit;
  body: Record<string, unknown>;
}

/**
 * The /sync-token endpoint as the browser sees it: answers planned with `plan(...)` first, in order, then a fresh
 * token per request. Tokens it mints expire `ttl` seconds after the request by the (fake) server clock.
 */
export class FakeTokenEndpoint {
  readonly requests: RecordedRequest[] = [];
  private readonly planned: Array<Answer | (() => Answer)> = [];
  minted = 0;
  ttl = 3600;
  identity = 'alice_40example_2Ecom';
  /** The server's clock; by default the same as the browser's. */
  serverNow: () => number;

  constructor(clock: FakeClock) {
    this.serverNow = clock.now;
  }

  plan(...answers: Array<Answer | (() => Answer)>): this {
    this.planned.push(...answers);
    return this;
  }

  success(ttl = this.ttl): Response {
    this.minted++;
    return json(200, {
      token: `sync-token-${this.minted}`,
      identity: this.identity,
      ttl,
      expiresAt: new Date(this.serverNow() + ttl * 1000).toISOString(),
      serviceSid: SERVICE_SID,
    });
  }

  readonly fetch: FetchLike = async (input, init) => {
    this.requests.push({ url: input, init, body: JSON.parse(String(init.body)) });
    const next = this.planned.shift();
    const answer = typeof next === 'function' ? next() : next;
    if (answer === undefined) return this.success();
    if (answer instanceof Error) throw answer;
    return answer;
  };
}

/** Web Storage stand-in that can be told to refuse (like Safari's private mode or a sandboxed iframe). */
export class FakeStorage implements KeyValueStorage {
  readonly values = new Map<string, string>();
  refuseReads = false;
  refuseWrites = false;
  getItem(key: string): string | null {
    if (this.refuseReads) throw new Error('SecurityError');
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    if (this.refuseWrites) throw new Error('QuotaExceededError');
    this.values.set(key, value);
  }
  removeItem(key: string): void {
    this.values.delete(key);
  }
}

type Listener = (...args: unknown[]) => void;

/**
 * The part of twilio-sync's SyncClient the provider touches, modelled on twilio-sync 4.0.1 / twilsock 1.0.2:
 * `tokenAboutToExpire` / `tokenExpired` carry no argument; `updateToken` resolves to nothing, does nothing for the
 * token it already has, and never settles while the client is `disconnecting` (twilsock's state machine has no
 * transition for it there); `connectionState` and `connectionStateChanged` as the SDK has them.
 */
export class FakeSyncClient implements SyncClientLike {
  readonly listeners = new Map<string, Set<Listener>>();
  readonly updatedWith: string[] = [];
  readonly offCalls: string[] = [];
  /** Rejections to give the next updateToken calls. */
  failUpdates = 0;
  connectionState = 'connected';
  /** The token the SDK holds (it keeps one it was given even if the update never completed). */
  token: string | null = null;

  on(event: string, listener: Listener): this {
    const set = this.listeners.get(event) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(event, set);
    return this;
  }

  off(event: string, listener: Listener): this {
    this.offCalls.push(event);
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) listener(...args);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  setState(state: string): void {
    this.connectionState = state;
    this.emit('connectionStateChanged', state);
  }

  updateToken(token: string): Promise<void> {
    if (token === this.token) return Promise.resolve();
    this.token = token;
    this.updatedWith.push(token);
    if (this.connectionState === 'disconnecting') return new Promise<void>(() => undefined);
    if (this.failUpdates > 0) {
      this.failUpdates--;
      return Promise.reject(new Error('Sync client refused the token'));
    }
    if (this.connectionState !== 'connected') this.setState('connected');
    return Promise.resolve();
  }
}

/** A token provider over the fakes (no retry jitter), its errors recorded, and a fake SDK client to attach it to. */
export function attachFixture(overrides: Partial<SyncTokenProviderOptions> = {}) {
  const clock = new FakeClock();
  const server = new FakeTokenEndpoint(clock);
  const storage = new FakeStorage();
  const { sleep, delays } = recordingSleep(clock);
  const errors: Array<{ error: SyncTokenError; context: SyncTokenErrorContext }> = [];
  const provider = createSyncTokenProvider({
    endpoint: ENDPOINT,
    getFlexToken: () => FLEX_TOKEN,
    storage,
    fetch: server.fetch,
    now: clock.now,
    sleep,
    random: () => 0,
    onError: (error, context) => errors.push({ error, context }),
    ...overrides,
  });
  return { clock, server, storage, delays, errors, provider, client: new FakeSyncClient() };
}
