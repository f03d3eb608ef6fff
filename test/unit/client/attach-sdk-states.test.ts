/**
 * attach() against the SDK's real behaviour around expiry (twilio-sync 4.0.1 / twilsock 1.0.2, modelled by
 * FakeSyncClient): the `disconnecting` window after a 410 where updateToken never settles, events that arrive while a
 * refresh runs, a refusal that retrying cannot fix, and detach/clear stopping every pending wait. The same paths run
 * against the real SDK and the emulator in test/integration/client/sync-client.test.ts.
 */
import { SERVICE_SID, T0, json, deferred, flush, refusal, attachFixture } from './fakes';

const setup = attachFixture;

describe('attach and the SDK around expiry', () => {
  it('waits out `disconnecting` after tokenExpired before updateToken, so the update settles', async () => {
    const { provider, client } = setup();
    provider.attach(client);
    client.setState('disconnecting');
    client.emit('tokenExpired');
    await flush();
    expect(client.updatedWith).toEqual([]); // not sent into the window where it would hang
    client.setState('disconnected');
    await flush();
    expect(client.updatedWith).toEqual(['sync-token-1']);
    expect(client.connectionState).toBe('connected');
  });

  it('an updateToken that never settles times out, is reported, and a fresh token is tried', async () => {
    const { provider, client, errors, server, storage } = setup({ updateTimeoutMs: 20 });
    provider.attach(client);
    const hang = client.updateToken.bind(client);
    let calls = 0;
    client.updateToken = (token: string) => (++calls === 1 ? new Promise<void>(() => undefined) : hang(token));
    client.emit('tokenAboutToExpire');
    for (let i = 0; i < 50 && client.updatedWith.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(errors[0].error.code).toBe('UPDATE_TOKEN_FAILED');
    expect(errors[0].context).toMatchObject({ attempt: 1, willRetry: true });
    expect(server.requests).toHaveLength(2);
    expect(client.updatedWith).toEqual(['sync-token-2']);
    // The cache holds the token that worked, not the one the SDK swallowed.
    expect([...storage.values.values()].join()).toContain('sync-token-2');
  });

  it('a tokenExpired during a refresh that then gives up starts another refresh', async () => {
    const { provider, client, server } = setup({ refreshRetry: { attempts: 2 } });
    provider.attach(client);
    const gate = deferred<Response>();
    server.plan(() => gate.promise, refusal(503, 'UPSTREAM_UNAVAILABLE'));
    client.emit('tokenAboutToExpire');
    await flush();
    client.setState('disconnected');
    client.emit('tokenExpired'); // while the first refresh waits on the endpoint
    gate.resolve(refusal(503, 'UPSTREAM_UNAVAILABLE'));
    await flush(60);
    expect(server.requests).toHaveLength(3); // two failed attempts, then the second loop's success
    expect(client.updatedWith).toEqual(['sync-token-1']);
    expect(client.connectionState).toBe('connected');
  });

  it('a refusal retrying cannot fix (an expired Flex token) is reported once, not again on the next event', async () => {
    const { provider, client, server, errors } = setup();
    provider.attach(client);
    server.plan(refusal(401, 'FLEX_TOKEN_INVALID'));
    client.emit('tokenAboutToExpire');
    await flush();
    client.emit('tokenExpired');
    await flush();
    expect(server.requests).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ error: { code: 'FLEX_TOKEN_INVALID' }, context: { willRetry: false } });
  });

  it('a token identical to the last one given (same second) is asked for again a second later', async () => {
    const { provider, client, server, delays } = setup();
    provider.attach(client);
    const same = () =>
      json(200, {
        token: 'same-jwt',
        identity: server.identity,
        ttl: 3600,
        expiresAt: new Date(T0 + 3_600_000).toISOString(),
        serviceSid: SERVICE_SID,
      });
    server.plan(same, same);
    client.emit('tokenAboutToExpire');
    await flush();
    client.emit('tokenExpired');
    await flush(40);
    expect(client.updatedWith).toEqual(['same-jwt', 'sync-token-1']);
    expect(delays).toEqual([1000]);
  });

  it('detach clears a pending backoff timer (no timer left behind)', async () => {
    const { provider, client, server } = setup({ sleep: undefined });
    provider.attach(client);
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE', { 'Retry-After': '25' }));
    const detach = provider.attach(client);
    client.emit('tokenAboutToExpire');
    await flush();
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    detach();
    await flush();
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after).toBeLessThan(before);
    expect(server.requests).toHaveLength(1);
  });
});

describe('clear() and a running getToken()', () => {
  it('ends the retry loop at its next wait: no further request, nothing written back', async () => {
    const { provider, server, storage } = setup({
      sleep: undefined,
      retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE'));
    const pending = provider.getToken();
    await flush();
    expect(server.requests).toHaveLength(1); // now waiting up to a minute before its retry
    provider.clear(); // logout
    await expect(pending).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await flush();
    expect(server.requests).toHaveLength(1);
    expect(storage.values.size).toBe(0);
  });

  it('a retry in flight during clear() answers its caller but does not refill the cache', async () => {
    const { provider, server, storage } = setup();
    const gate = deferred<Response>();
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE'), () => gate.promise);
    const pending = provider.getToken();
    await flush();
    expect(server.requests).toHaveLength(2);
    provider.clear();
    gate.resolve(server.success());
    expect((await pending).token).toBe('sync-token-1');
    expect(storage.values.size).toBe(0);
  });
});
