/**
 * Sync tokens for a browser (a Flex plugin or a plain page), the client half of Twilio's Sync best practices:
 *
 * - `getToken()` pre-fetches a token from /sync-token and keeps it in sessionStorage for less than its lifetime;
 *   every call re-checks the cached token (expiry, endpoint, Flex session) so a stale token is never handed out;
 *   concurrent callers share one request; 401/403 clear the cache and are not retried; 408/429/5xx (except 500
 *   CONFIG_INVALID), network errors and timeouts are retried with backoff and Retry-After, a bounded number of times.
 * - `attach(syncClient)` answers the SDK's `tokenAboutToExpire` / `tokenExpired` with a freshly fetched token
 *   (never the cached one: that is the one expiring) and `updateToken`, retrying with backoff; one refresh at a time
 *   per client, and an event that arrives during one is answered by another when it ends; the returned function
 *   detaches and stops every pending wait. After a `tokenExpired` the SDK spends a moment `disconnecting`, when an
 *   `updateToken` never settles (twilsock's state machine has no such transition): the refresh waits that out, and
 *   bounds `updateToken` with a timeout.
 *
 * One HTTP request at a time per provider: getToken() and refreshes that overlap share it.
 */
import {
  DEFAULT_REFRESH_RETRY_POLICY,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  realSleep,
  retrying,
  validatePolicy,
  type RetryPolicy,
  type Sleep,
} from './backoff';
import { CLIENT_ERROR_CODES, SyncTokenError, isRetryableAnswer } from './errors';
import { defaultStorage, safeStorage, type KeyValueStorage } from './storage';
import {
  decodeEntry,
  encodeEntry,
  fingerprint,
  isFresh,
  makeEntry,
  readTokenResult,
  type CacheEntry,
  type SyncTokenResult,
} from './token-cache';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** The part of twilio-sync's `SyncClient` the provider uses (typed structurally: no runtime dependency). */
export interface SyncClientLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off?(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener?(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Resolves (to nothing) once the server took the token; the same token twice does nothing. */
  updateToken(token: string): Promise<unknown>;
  /** `connecting` | `connected` | `disconnecting` | `disconnected` | `denied` (twilio-sync's ConnectionState). */
  readonly connectionState?: string;
}

export type SyncClientEvent = 'tokenAboutToExpire' | 'tokenExpired';

export interface SyncTokenErrorContext {
  /** `getToken`: a getToken() call (its caller also gets the rejection); `refresh`: an attached client's refresh. */
  source: 'getToken' | 'refresh';
  /** 1 for the first try. */
  attempt: number;
  /** Whether another attempt follows. */
  willRetry: boolean;
  /** For `refresh`: the SDK event that started it. */
  event?: SyncClientEvent;
}

export interface SyncTokenProviderOptions {
  /** URL of the /sync-token function, e.g. `https://<service>.twil.io/sync-token` (or `/sync-token` on the same origin). */
  endpoint: string;
  /** The current Flex token; a Flex plugin passes `() => manager.user.token` (read on every request, as Flex refreshes it). */
  getFlexToken: () => string | Promise<string>;
  /** Default: sessionStorage when usable, else in memory. Pass `memoryStorage()` to keep tokens out of Web Storage. */
  storage?: KeyValueStorage;
  /**
   * Default `flex-sync-token:<endpoint>` (one entry per endpoint: two plugins in one tab do not evict each other's).
   * The entry also records the endpoint and the Flex session it belongs to.
   */
  storageKey?: string;
  /**
   * A cached token counts as stale this many seconds before it expires. Default: 10 % of its lifetime, at least
   * 300 s; always capped at half the lifetime.
   */
  refreshMarginSeconds?: number;
  /** Ask for this lifetime (`Ttl`, seconds; the server accepts 1800 up to its configured maximum). */
  ttlSeconds?: number;
  /** getToken() retries. Default `{ attempts: 4, baseDelayMs: 500, maxDelayMs: 30000, jitter: 'equal' }`. */
  retry?: Partial<RetryPolicy>;
  /** Retries of an attached client's refresh. Default `{ attempts: 6, baseDelayMs: 1000, maxDelayMs: 30000, jitter: 'equal' }`. */
  refreshRetry?: Partial<RetryPolicy>;
  /** Abort a request after this long (a timeout is retryable). Default 15000. */
  requestTimeoutMs?: number;
  /** An attached client's `updateToken` that has not settled after this long counts as failed (retryable). Default 15000. */
  updateTimeoutMs?: number;
  /**
   * When an attached client's refresh has used up `refreshRetry`, it starts again after this long, and so on until
   * the client has its token or is detached (the SDK says nothing more after `tokenExpired`, and a client without a
   * token never reconnects by itself). A refusal of the Flex token (401/403) waits for Flex to give a new one.
   * Default 60000.
   */
  recoveryIntervalMs?: number;
  /** Told of every failed attempt (errors of attached refreshes have no other outlet). Must not throw. */
  onError?: (error: SyncTokenError, context: SyncTokenErrorContext) => void;
  /** Injectable for tests: the fetch implementation (default the global fetch). */
  fetch?: FetchLike;
  /** Injectable for tests: the clock in epoch ms (default `Date.now`). */
  now?: () => number;
  /** Injectable for tests: how to wait between retries (default setTimeout). */
  sleep?: Sleep;
  /** Injectable for tests: jitter source in [0, 1) (default Math.random). */
  random?: () => number;
}

export interface SyncTokenProvider {
  /** A token that is valid for longer than the refresh margin: the cached one if fresh, else a new one. */
  getToken(): Promise<SyncTokenResult>;
  /** Forgets the cached token (e.g. on logout). A request in flight no longer fills the cache. */
  clear(): void;
  /** Keeps `syncClient`'s token fresh; returns the function that stops it. Attaching a client twice is a no-op. */
  attach(syncClient: SyncClientLike): () => void;
}

/** The storage key's prefix; by default the endpoint follows it, so that two providers in one tab keep one each. */
export const DEFAULT_STORAGE_KEY = 'flex-sync-token';
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
export const DEFAULT_UPDATE_TIMEOUT_MS = 15_000;
export const DEFAULT_RECOVERY_INTERVAL_MS = 60_000;
/** How long a refresh waits for the SDK to leave `disconnecting` (its own timer is 3 s: twilsock DISCONNECTING_TIMEOUT). */
const SETTLE_TIMEOUT_MS = 10_000;
/** States in which the client has no live session and needs a new token to get one. */
const NEEDS_TOKEN = new Set(['disconnected', 'denied']);
const REFRESH_EVENTS: readonly SyncClientEvent[] = ['tokenAboutToExpire', 'tokenExpired'];

interface Fetched {
  entry: CacheEntry;
}

export function createSyncTokenProvider(options: SyncTokenProviderOptions): SyncTokenProvider {
  const config = readOptions(options);
  const { endpoint, storageKey, now, sleep, random } = config;
  const storage = safeStorage(options.storage ?? defaultStorage());

  /** Bumped by clear(): requests and getToken() loops started before it must not fill the cache. */
  let generation = 0;
  /** Aborted by clear(): ends the waits of getToken() loops started before it. */
  let clearSignal = new AbortController();
  let pendingRequest: Promise<Fetched> | null = null;
  let pendingGet: Promise<SyncTokenResult> | null = null;
  const attachments = new Map<SyncClientLike, () => void>();

  function report(error: SyncTokenError, context: SyncTokenErrorContext): void {
    try {
      options.onError?.(error, context);
    } catch {
      // a faulty callback must not break token handling
    }
  }

  async function readFlexToken(): Promise<string> {
    let value: unknown;
    try {
      value = await options.getFlexToken();
    } catch (cause) {
      throw new SyncTokenError({
        code: CLIENT_ERROR_CODES.FLEX_TOKEN_UNAVAILABLE,
        message: 'getFlexToken() failed',
        status: 0,
        retryable: false,
        cause,
      });
    }
    if (typeof value !== 'string' || value === '') {
      throw new SyncTokenError({
        code: CLIENT_ERROR_CODES.FLEX_TOKEN_UNAVAILABLE,
        message: 'getFlexToken() gave no token',
        status: 0,
        retryable: false,
      });
    }
    return value;
  }

  function removeEntry(): void {
    storage.removeItem(storageKey);
  }

  /** The cached token if it belongs to this endpoint and Flex session and is fresh; drops unusable entries. */
  function readCache(user: string): CacheEntry | undefined {
    const text = storage.getItem(storageKey);
    if (text === null) return undefined;
    const entry = decodeEntry(text);
    if (!entry || entry.endpoint !== endpoint || entry.user !== user || !isFresh(entry, now(), config.marginSeconds)) {
      removeEntry();
      return undefined;
    }
    return entry;
  }

  /**
   * One POST to /sync-token, shared by everyone who asks while it is in flight. `startedGeneration`: the generation
   * of the caller's own start (a getToken() whose first await a clear() came during stores nothing).
   */
  function request(startedGeneration = generation): Promise<Fetched> {
    if (!pendingRequest) {
      const pending = requestOnce(startedGeneration);
      pendingRequest = pending;
      const settle = () => {
        if (pendingRequest === pending) pendingRequest = null;
      };
      pending.then(settle, settle);
    }
    return pendingRequest;
  }

  async function requestOnce(startedGeneration: number): Promise<Fetched> {
    const flexToken = await readFlexToken();
    const user = fingerprint(flexToken);
    const body: Record<string, unknown> = { Token: flexToken };
    if (config.ttlSeconds !== undefined) body.Ttl = config.ttlSeconds;

    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller?.abort();
    }, config.requestTimeoutMs);
    const obtainedAtMs = now();
    let response: Response;
    let text: string;
    try {
      response = await config.fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        signal: controller?.signal,
      });
      text = await response.text();
    } catch (cause) {
      throw new SyncTokenError({
        code: timedOut ? CLIENT_ERROR_CODES.TIMEOUT : CLIENT_ERROR_CODES.NETWORK_ERROR,
        message: timedOut
          ? `no answer from the token endpoint within ${config.requestTimeoutMs} ms`
          : 'the token endpoint could not be reached',
        status: 0,
        retryable: true,
        cause,
      });
    } finally {
      clearTimeout(timer);
    }

    const parsed = parseJson(text);
    if (response.ok) {
      const result = readTokenResult(parsed);
      if (!result) {
        throw new SyncTokenError({
          code: CLIENT_ERROR_CODES.INVALID_RESPONSE,
          message: `the token endpoint answered ${response.status} without a token`,
          status: response.status,
          retryable: false,
        });
      }
      const entry = makeEntry(endpoint, user, obtainedAtMs, result);
      if (generation === startedGeneration) storage.setItem(storageKey, encodeEntry(entry));
      return { entry };
    }

    const error = errorFromAnswer(response, parsed, now());
    if (response.status === 401 || response.status === 403) removeEntry();
    throw error;
  }

  function classify(raw: unknown): SyncTokenError {
    if (raw instanceof SyncTokenError) return raw;
    return new SyncTokenError({
      code: CLIENT_ERROR_CODES.NETWORK_ERROR,
      message: raw instanceof Error ? raw.message : 'unexpected failure',
      status: 0,
      retryable: true,
      cause: raw,
    });
  }

  /** `startedGeneration`: the generation of the getToken() call; a clear() since then ends the loop. */
  async function fetchFresh(startedGeneration: number, signal: AbortSignal): Promise<SyncTokenResult> {
    return retrying(
      async () => {
        const { entry } = await request(startedGeneration);
        // A request that outlasted the margin: the token is already too old to hand out.
        if (!isFresh(entry, now(), config.marginSeconds)) {
          throw new SyncTokenError({
            code: CLIENT_ERROR_CODES.TOKEN_STALE,
            message: 'the token arrived inside its refresh margin',
            status: 0,
            retryable: true,
          });
        }
        return entry.result;
      },
      {
        policy: config.retry,
        sleep,
        random,
        classify,
        cancelled: () => generation !== startedGeneration,
        signal,
        onFailure: (error, attempt, willRetry) => {
          if (generation === startedGeneration) report(error, { source: 'getToken', attempt, willRetry });
        },
      },
    );
  }

  function getToken(): Promise<SyncTokenResult> {
    if (!pendingGet) {
      const startedGeneration = generation;
      const signal = clearSignal.signal;
      const pending = (async () => {
        const user = fingerprint(await readFlexToken());
        const cached = readCache(user);
        return cached ? cached.result : fetchFresh(startedGeneration, signal);
      })();
      pendingGet = pending;
      const settle = () => {
        if (pendingGet === pending) pendingGet = null;
      };
      pending.then(settle, settle);
    }
    return pendingGet;
  }

  function clear(): void {
    generation++;
    clearSignal.abort();
    clearSignal = new AbortController();
    pendingGet = null;
    pendingRequest = null;
    removeEntry();
  }

  function attach(client: SyncClientLike): () => void {
    const existing = attachments.get(client);
    if (existing) return existing;

    let detached = false;
    let running = false;
    /** Counts the SDK's events; `answered` is the count a successful update covered. */
    let events = 0;
    let answered = 0;
    let lastEvent: SyncClientEvent = 'tokenAboutToExpire';
    /** The Flex token the endpoint refused (401/403): not asked again (nor reported) until Flex gives another. */
    let refusedFlexToken: string | null = null;
    /** Ends the wait between two rounds of retries early (a new SDK event). */
    let wake: (() => void) | undefined;
    /** The token this client was last given: an identical one would be ignored by the SDK. */
    let lastGiven: string | null = null;
    const stop = new AbortController();

    const updateFailed = (message: string, cause?: unknown) =>
      new SyncTokenError({ code: CLIENT_ERROR_CODES.UPDATE_TOKEN_FAILED, message, status: 0, retryable: true, cause });

    async function updateOnce(): Promise<void> {
      const { entry } = await request();
      if (detached) return;
      const token = entry.result.token;
      if (token === lastGiven) {
        // Issued in the same second for the same user: the same JWT. Ask again a second later.
        throw new SyncTokenError({ ...TOKEN_REPEATED, retryAfterMs: 1000 });
      }
      await settled(client, SETTLE_TIMEOUT_MS, stop.signal);
      if (detached) return;
      const seenEvents = events;
      try {
        await withTimeout(client.updateToken(token), config.updateTimeoutMs, stop.signal);
      } catch (cause) {
        // The SDK keeps the token it was given even when the update failed: a later getToken() must not hand it
        // out again (the SDK would ignore it as unchanged), so the cached copy goes.
        removeEntry();
        lastGiven = token;
        if (cause === TIMED_OUT) throw updateFailed(`updateToken did not settle within ${config.updateTimeoutMs} ms`);
        throw updateFailed(
          cause instanceof Error ? `updateToken failed: ${cause.message}` : 'updateToken failed',
          cause,
        );
      }
      lastGiven = token;
      if (detached) return;
      if (client.connectionState !== undefined && NEEDS_TOKEN.has(client.connectionState)) {
        throw updateFailed(`the Sync client is still ${client.connectionState} after updateToken`);
      }
      answered = seenEvents;
    }

    /**
     * Waits recoveryIntervalMs (or `atLeastMs`, the server's Retry-After, when longer), or until detach or a new SDK
     * event. A timer of its own, not the injectable sleep: a client left without a token waits like this for as long
     * as it stays attached.
     */
    function pause(atLeastMs = 0): Promise<void> {
      if (stop.signal.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          stop.signal.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        // The interval, or the server's Retry-After when longer; spread by up to a tenth (tabs of one outage).
        const ms = Math.max(config.recoveryIntervalMs, atLeastMs) * (1 + random() / 10);
        const timer = setTimeout(done, ms);
        // The pause alone must not keep a Node process alive (a test, a server-side render).
        (timer as { unref?: () => void }).unref?.();
        stop.signal.addEventListener('abort', done, { once: true });
        wake = done;
      });
    }

    /**
     * Until the client has a token for every event it sent (or is detached): rounds of `refreshRetry`, and between
     * two rounds a pause. The client cannot recover without a token, so a round that failed is not the end.
     */
    async function refreshLoop(): Promise<void> {
      while (!detached && events > answered) {
        const event = lastEvent;
        const flexToken = await currentFlexToken();
        if (flexToken !== null && flexToken === refusedFlexToken) {
          await pause(); // refused and reported: nothing to ask until Flex gives a new token
          continue;
        }
        const target = events;
        try {
          await retrying(updateOnce, {
            policy: config.refreshRetry,
            sleep,
            random,
            classify,
            cancelled: () => detached,
            signal: stop.signal,
            onFailure: (error, attempt, willRetry) => {
              // After the last attempt of a round the next round follows, unless the Flex token was refused.
              if (!detached)
                report(error, { source: 'refresh', attempt, willRetry: willRetry || !isRefusal(error), event });
            },
          });
        } catch (error) {
          if (isRefusal(error)) refusedFlexToken = flexToken;
          // The SDK said something new meanwhile: the next round starts at once; else after a pause.
          const retryAfterMs = error instanceof SyncTokenError ? (error.retryAfterMs ?? 0) : 0;
          if (!detached && events <= target) await pause(retryAfterMs);
        }
      }
    }

    async function currentFlexToken(): Promise<string | null> {
      try {
        return await readFlexToken();
      } catch {
        return null; // reported by the attempt itself
      }
    }

    const listeners = REFRESH_EVENTS.map((event) => {
      const listener = () => {
        if (detached) return;
        events += 1;
        lastEvent = event;
        // One loop at a time; an event during it is answered by it (a later successful update) or by the next loop,
        // and ends the loop's pause between two rounds.
        if (running) {
          wake?.();
          return;
        }
        running = true;
        void refreshLoop()
          .catch(() => undefined) // reported through onError
          .then(() => {
            running = false;
          });
      };
      client.on(event, listener);
      return { event, listener };
    });

    const detach = () => {
      if (detached) return;
      detached = true;
      stop.abort();
      attachments.delete(client);
      for (const { event, listener } of listeners) removeListener(client, event, listener);
    };
    attachments.set(client, detach);
    return detach;
  }

  return { getToken, clear, attach };
}

/** The endpoint refused the Flex token (401/403): asking again with the same one cannot help. */
function isRefusal(error: unknown): boolean {
  return error instanceof SyncTokenError && (error.status === 401 || error.status === 403);
}

const TOKEN_REPEATED = {
  code: CLIENT_ERROR_CODES.TOKEN_STALE,
  message: 'the token endpoint gave the same token again',
  status: 0,
  retryable: true,
} as const;

const TIMED_OUT = Symbol('timed out');

function removeListener(client: SyncClientLike, event: string, listener: (...args: unknown[]) => void): void {
  if (typeof client.off === 'function') client.off(event, listener);
  else if (typeof client.removeListener === 'function') client.removeListener(event, listener);
}

/** Resolves once the client is not `disconnecting` (or after `timeoutMs`, or when `signal` aborts). */
function settled(client: SyncClientLike, timeoutMs: number, signal: AbortSignal): Promise<void> {
  if (client.connectionState !== 'disconnecting' || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const listener = (...args: unknown[]) => {
      if (args[0] !== 'disconnecting') done();
    };
    const timer = setTimeout(done, timeoutMs);
    signal.addEventListener('abort', done, { once: true });
    client.on('connectionStateChanged', listener);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      removeListener(client, 'connectionStateChanged', listener);
      resolve();
    }
  });
}

/** `promise`, or a rejection with TIMED_OUT after `ms` (or when `signal` aborts); the timer never outlives it. */
function withTimeout<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(TIMED_OUT)), ms);
    const onAbort = () => finish(() => reject(TIMED_OUT));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
    function finish(settle: () => void) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      settle();
    }
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The server's `{code, message, status, requestId}` error, or a generic one for bodies it did not write. */
function errorFromAnswer(response: Response, body: unknown, nowMs: number): SyncTokenError {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof b.code === 'string' && b.code !== '' ? b.code : `HTTP_${response.status}`;
  const message =
    typeof b.message === 'string' && b.message !== ''
      ? b.message
      : `the token endpoint answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'), nowMs);
  return new SyncTokenError({
    code,
    message,
    status: response.status,
    retryable: isRetryableAnswer(response.status, code),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(typeof b.requestId === 'string' ? { requestId: b.requestId } : {}),
  });
}

interface Config {
  endpoint: string;
  storageKey: string;
  marginSeconds?: number;
  ttlSeconds?: number;
  retry: RetryPolicy;
  refreshRetry: RetryPolicy;
  requestTimeoutMs: number;
  updateTimeoutMs: number;
  recoveryIntervalMs: number;
  fetch: FetchLike;
  now: () => number;
  sleep: Sleep;
  random: () => number;
}

function readOptions(options: SyncTokenProviderOptions): Config {
  if (!options || typeof options !== 'object') throw new TypeError('createSyncTokenProvider needs options');
  const { endpoint, getFlexToken, refreshMarginSeconds, ttlSeconds } = options;
  if (typeof endpoint !== 'string' || endpoint.trim() === '') throw new TypeError('endpoint must be a URL');
  if (typeof getFlexToken !== 'function') throw new TypeError('getFlexToken must be a function');
  if (refreshMarginSeconds !== undefined && !(refreshMarginSeconds >= 0 && Number.isFinite(refreshMarginSeconds))) {
    throw new TypeError('refreshMarginSeconds must be a number >= 0');
  }
  if (ttlSeconds !== undefined && !(Number.isInteger(ttlSeconds) && ttlSeconds > 0)) {
    throw new TypeError('ttlSeconds must be a positive whole number of seconds');
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!(requestTimeoutMs > 0 && Number.isFinite(requestTimeoutMs))) throw new TypeError('requestTimeoutMs must be > 0');
  const updateTimeoutMs = options.updateTimeoutMs ?? DEFAULT_UPDATE_TIMEOUT_MS;
  if (!(updateTimeoutMs > 0 && Number.isFinite(updateTimeoutMs))) throw new TypeError('updateTimeoutMs must be > 0');
  const recoveryIntervalMs = options.recoveryIntervalMs ?? DEFAULT_RECOVERY_INTERVAL_MS;
  if (!(recoveryIntervalMs > 0 && Number.isFinite(recoveryIntervalMs)))
    throw new TypeError('recoveryIntervalMs must be > 0');
  const storageKey = options.storageKey ?? `${DEFAULT_STORAGE_KEY}:${endpoint}`;
  if (typeof storageKey !== 'string' || storageKey === '') throw new TypeError('storageKey must be a non-empty string');
  return {
    endpoint,
    storageKey,
    marginSeconds: refreshMarginSeconds,
    ttlSeconds,
    retry: validatePolicy({ ...DEFAULT_RETRY_POLICY, ...options.retry }, 'retry'),
    refreshRetry: validatePolicy({ ...DEFAULT_REFRESH_RETRY_POLICY, ...options.refreshRetry }, 'refreshRetry'),
    requestTimeoutMs,
    updateTimeoutMs,
    recoveryIntervalMs,
    // Called through globalThis at request time: a detached `fetch` throws "Illegal invocation" in browsers.
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    now: options.now ?? (() => Date.now()),
    sleep: options.sleep ?? realSleep,
    random: options.random ?? Math.random,
  };
}
