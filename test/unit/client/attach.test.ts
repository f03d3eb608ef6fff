/**
 * attach(syncClient): the SDK's tokenAboutToExpire / tokenExpired answered with a freshly fetched token and
 * updateToken, retried with backoff, one refresh at a time, stopped by detach. The Sync client is a fake with the
 * SDK's event and updateToken surface (fakes.ts explains why fakes are right here).
 */
import { createSyncTokenProvider, type SyncClientLike } from '../../../src/client';
import {
  ENDPOINT,
  FLEX_TOKEN,
  FakeClock,
  FakeStorage,
  FakeSyncClient,
  FakeTokenEndpoint,
  deferred,
  flush,
  refusal,
  attachFixture,
} from './fakes';

const setup = attachFixture;

describe('attach', () => {
  it.each(['tokenAboutToExpire', 'tokenExpired'])(
    '%s: fetches a fresh token (not the cached one) and calls updateToken',
    async (event) => {
      const { provider, server, client } = setup();
      const { token } = await provider.getToken(); // cached and still fresh: it is the one about to expire
      provider.attach(client);
      client.emit(event);
      await flush();
      expect(server.requests).toHaveLength(2);
      expect(client.updatedWith).toEqual(['sync-token-2']);
      expect(token).toBe('sync-token-1');
      // The new token replaces the cached one.
      expect((await provider.getToken()).token).toBe('sync-token-2');
      expect(server.requests).toHaveLength(2);
    },
  );

  it('retries a failing endpoint with backoff, then updates the client', async () => {
    const { provider, server, client, delays, errors } = setup();
    provider.attach(client);
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE', { 'Retry-After': '3' }), new TypeError('Failed to fetch'));
    client.emit('tokenAboutToExpire');
    await flush();
    expect(server.requests).toHaveLength(3);
    expect(client.updatedWith).toEqual(['sync-token-1']);
    expect(delays).toEqual([3000, 1000]); // Retry-After 3 s; then half of the 2 s ceiling (random() = 0)
    expect(errors.map((e) => e.context)).toEqual([
      { source: 'refresh', attempt: 1, willRetry: true, event: 'tokenAboutToExpire' },
      { source: 'refresh', attempt: 2, willRetry: true, event: 'tokenAboutToExpire' },
    ]);
  });

  it('retries when the Sync client refuses updateToken', async () => {
    const { provider, server, client, errors } = setup();
    provider.attach(client);
    client.failUpdates = 1;
    client.emit('tokenExpired');
    await flush();
    expect(client.updatedWith).toEqual(['sync-token-1', 'sync-token-2']);
    expect(server.requests).toHaveLength(2);
    expect(errors.map((e) => e.error.code)).toEqual(['UPDATE_TOKEN_FAILED']);
  });

  it('after refreshRetry.attempts it pauses; the next event ends the pause and tries again', async () => {
    const { provider, server, client, errors } = setup({ refreshRetry: { attempts: 3 } });
    provider.attach(client);
    server.plan(...Array.from({ length: 3 }, () => () => refusal(502, 'UPSTREAM_UNAVAILABLE')));
    client.emit('tokenAboutToExpire');
    await flush();
    expect(server.requests).toHaveLength(3);
    expect(client.updatedWith).toEqual([]);
    // Every failure says another attempt follows: after this round, the next one (in recoveryIntervalMs at most).
    expect(errors.map((e) => e.context.willRetry)).toEqual([true, true, true]);

    client.emit('tokenExpired');
    await flush();
    expect(client.updatedWith).toEqual(['sync-token-1']);
  });

  it('keeps trying, a round every recoveryIntervalMs, while the SDK says nothing more (an outage past tokenExpired)', async () => {
    const { provider, server, client } = setup({ refreshRetry: { attempts: 2 }, recoveryIntervalMs: 20 });
    provider.attach(client);
    server.plan(...Array.from({ length: 5 }, () => () => refusal(503, 'UPSTREAM_UNAVAILABLE')));
    client.emit('tokenExpired'); // the SDK's last word
    await flush();
    expect(server.requests).toHaveLength(2);
    for (let i = 0; i < 100 && client.updatedWith.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(server.requests).toHaveLength(6); // three rounds failed (2 + 2 + 1 of the plan), then the fourth's first
    expect(client.updatedWith).toEqual(['sync-token-1']);
  });

  it("a round that ends on the server's Retry-After waits that long, not only recoveryIntervalMs", async () => {
    const { provider, server, client } = setup({ refreshRetry: { attempts: 1 }, recoveryIntervalMs: 20 });
    provider.attach(client);
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE', { 'Retry-After': '1' }));
    client.emit('tokenExpired');
    await flush();
    await new Promise((r) => setTimeout(r, 300)); // fifteen intervals, a third of the Retry-After
    expect(server.requests).toHaveLength(1);
    for (let i = 0; i < 100 && client.updatedWith.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.requests).toHaveLength(2);
    expect(client.updatedWith).toEqual(['sync-token-1']);
  });

  it('one answer that is not worth retrying at once (a 404 mid-redeploy) is tried again after the pause', async () => {
    const { provider, server, client, errors } = setup({ recoveryIntervalMs: 20 });
    provider.attach(client);
    server.plan(refusal(404, 'NOT_FOUND'));
    client.emit('tokenAboutToExpire');
    await flush();
    expect(server.requests).toHaveLength(1);
    expect(errors[0].context).toMatchObject({ attempt: 1, willRetry: true });
    for (let i = 0; i < 100 && client.updatedWith.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(client.updatedWith).toEqual(['sync-token-1']);
  });

  it('after a 401 it asks again only once Flex gives a new token', async () => {
    let flexToken = FLEX_TOKEN;
    const { provider, server, client, errors } = setup({ recoveryIntervalMs: 10, getFlexToken: () => flexToken });
    provider.attach(client);
    server.plan(refusal(401, 'FLEX_TOKEN_EXPIRED'));
    client.emit('tokenExpired');
    await flush();
    await new Promise((r) => setTimeout(r, 60)); // several pauses: the same Flex token is not sent again
    expect(server.requests).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0].context).toMatchObject({ willRetry: false });
    flexToken = `${FLEX_TOKEN}-renewed`;
    for (let i = 0; i < 100 && client.updatedWith.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(server.requests).toHaveLength(2);
    expect(client.updatedWith).toEqual(['sync-token-1']);
  });

  it('detach during the pause ends the refresh: nothing more is sent', async () => {
    const { provider, server, client } = setup({ refreshRetry: { attempts: 1 }, recoveryIntervalMs: 10 });
    const detach = provider.attach(client);
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE'));
    client.emit('tokenExpired');
    await flush();
    detach();
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests).toHaveLength(1);
    expect(client.updatedWith).toEqual([]);
  });

  it('does not retry a 401/403, and clears the cached token', async () => {
    const { provider, server, client, storage } = setup();
    await provider.getToken();
    provider.attach(client);
    server.plan(refusal(401, 'FLEX_TOKEN_EXPIRED'));
    client.emit('tokenAboutToExpire');
    await flush();
    expect(server.requests).toHaveLength(2);
    expect(client.updatedWith).toEqual([]);
    expect(storage.values.size).toBe(0);
    await provider.getToken();
    expect(server.requests).toHaveLength(3);
  });

  it('runs one refresh at a time: events during a refresh join it', async () => {
    const { provider, server, client } = setup();
    provider.attach(client);
    const gate = deferred<Response>();
    server.plan(() => gate.promise);
    client.emit('tokenAboutToExpire');
    client.emit('tokenAboutToExpire', 120);
    client.emit('tokenExpired');
    await flush();
    gate.resolve(server.success());
    await flush();
    expect(server.requests).toHaveLength(1);
    expect(client.updatedWith).toEqual(['sync-token-1']);

    client.emit('tokenAboutToExpire'); // a later event starts a new refresh
    await flush();
    expect(client.updatedWith).toEqual(['sync-token-1', 'sync-token-2']);
  });

  it('shares one request between a refresh and a concurrent getToken()', async () => {
    const { provider, server, client, clock } = setup();
    await provider.getToken();
    clock.advance(3600_000); // the cached token is stale, so getToken() must fetch too
    provider.attach(client);
    const gate = deferred<Response>();
    server.plan(() => gate.promise);
    client.emit('tokenExpired');
    await flush();
    const viaGetToken = provider.getToken();
    await flush();
    gate.resolve(server.success());
    expect((await viaGetToken).token).toBe('sync-token-2');
    await flush();
    expect(client.updatedWith).toEqual(['sync-token-2']);
    expect(server.requests).toHaveLength(2);
  });

  it('detach removes the listeners; later events do nothing', async () => {
    const { provider, server, client } = setup();
    const detach = provider.attach(client);
    expect(client.listenerCount('tokenAboutToExpire')).toBe(1);
    expect(client.listenerCount('tokenExpired')).toBe(1);
    detach();
    expect(client.listenerCount('tokenAboutToExpire')).toBe(0);
    expect(client.listenerCount('tokenExpired')).toBe(0);
    client.emit('tokenAboutToExpire');
    await flush();
    expect(server.requests).toHaveLength(0);
    detach(); // idempotent
  });

  it('detach stops a refresh that is waiting to retry', async () => {
    const clock = new FakeClock();
    const server = new FakeTokenEndpoint(clock);
    const waits: Array<() => void> = [];
    const provider = createSyncTokenProvider({
      endpoint: ENDPOINT,
      getFlexToken: () => FLEX_TOKEN,
      storage: new FakeStorage(),
      fetch: server.fetch,
      now: clock.now,
      sleep: () => new Promise<void>((resolve) => waits.push(resolve)),
    });
    const client = new FakeSyncClient();
    const detach = provider.attach(client);
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE'));
    client.emit('tokenAboutToExpire');
    await flush();
    expect(waits).toHaveLength(1);
    detach();
    waits[0]();
    await flush();
    expect(server.requests).toHaveLength(1);
    expect(client.updatedWith).toEqual([]);
  });

  it('does not call updateToken when detached while the request is in flight', async () => {
    const { provider, server, client } = setup();
    const detach = provider.attach(client);
    const gate = deferred<Response>();
    server.plan(() => gate.promise);
    client.emit('tokenExpired');
    await flush();
    detach();
    gate.resolve(server.success());
    await flush();
    expect(client.updatedWith).toEqual([]);
  });

  it('attaching the same client twice adds no second set of listeners', () => {
    const { provider, client } = setup();
    const first = provider.attach(client);
    const second = provider.attach(client);
    expect(second).toBe(first);
    expect(client.listenerCount('tokenExpired')).toBe(1);
    first();
    const third = provider.attach(client); // after detach, attaching again works
    expect(third).not.toBe(first);
    expect(client.listenerCount('tokenExpired')).toBe(1);
  });

  it('detaches through removeListener when the client has no off()', async () => {
    const { provider, server } = setup();
    const listeners = new Map<string, (...args: unknown[]) => void>();
    const client: SyncClientLike = {
      on: (event, listener) => listeners.set(event, listener),
      removeListener: (event) => listeners.delete(event),
      updateToken: async () => undefined,
    };
    const detach = provider.attach(client);
    expect([...listeners.keys()].sort()).toEqual(['tokenAboutToExpire', 'tokenExpired']);
    detach();
    expect(listeners.size).toBe(0);
    expect(server.requests).toHaveLength(0);
  });
});

// Compile-time check, enforced by `npx tsc -p .` (which type-checks the tests; ts-jest only transpiles): clients typed like twilio-sync's SyncClient,
// with per-event typed listeners (generic or overloaded `on`) and `updateToken(): Promise<SyncClient>`, fit
// SyncClientLike without casts.
interface SdkListeners {
  tokenAboutToExpire: (ttl: number) => void;
  tokenExpired: () => void;
  connectionStateChanged: (state: 'connecting' | 'connected' | 'disconnected') => void;
}
declare class GenericSdkClient {
  on<E extends keyof SdkListeners>(event: E, listener: SdkListeners[E]): this;
  off<E extends keyof SdkListeners>(event: E, listener: SdkListeners[E]): this;
  removeListener<E extends keyof SdkListeners>(event: E, listener: SdkListeners[E]): this;
  updateToken(token: string): Promise<GenericSdkClient>;
}
declare class OverloadedSdkClient {
  on(event: 'tokenAboutToExpire', listener: (ttl: number) => void): this;
  on(event: 'tokenExpired', listener: () => void): this;
  removeListener(event: 'tokenAboutToExpire' | 'tokenExpired', listener: (...args: never[]) => void): this;
  updateToken(token: string): Promise<OverloadedSdkClient>;
}
export type SdkClientsFit = [
  GenericSdkClient extends SyncClientLike ? true : never,
  OverloadedSdkClient extends SyncClientLike ? true : never,
];
const sdkClientsFit: SdkClientsFit = [true, true];
void sdkClientsFit;
