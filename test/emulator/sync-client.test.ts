/**
 * The emulator's Sync client endpoint (/v3/wsconnect) driven by the real twilio-sync SDK (pinned 4.0.1, twilsock
 * 1.0.2): tokens, the server-driven token lifetime, maps, live events for REST writes, ACLs, stats and bad frames.
 * Protocol as the SDK's own code speaks it (twilsock/dist/twilsock.js, twilio-sync/dist/syncmap.js,
 * subscriptions.js); Access Token error codes from https://www.twilio.com/docs/api/errors/20101 … 20107.
 */
import { WebSocket } from 'ws';
import type { SyncMapItem } from 'twilio-sync';
import { DEFAULT_CONFIG } from '../../emulator/core/config';
import { encodeFrame } from '../../emulator/sync-client/framing';
import { newestItems } from '../../src/client/newest';
import { useEmulator } from '../helpers/emulator';
import { closeAll, connect, mintToken, nextEvent, reachState, syncClientUri, syncError } from '../helpers/sync-clients';

const t = useEmulator();
afterEach(() => closeAll());

const service = () => t.client.sync.v1.services(t.emulator.config.syncServiceSid);
const setAcl = (aclEnabled: boolean) => service().update({ aclEnabled });

async function restMap(name: string, items: Array<{ key: string; data: object; ttl?: number }> = []) {
  const map = await service().syncMaps.create({ uniqueName: name });
  for (const item of items) await service().syncMaps(map.sid).syncMapItems.create(item);
  return map;
}

const grant = (mapSid: string, identity: string, flags: { read: boolean; write: boolean; manage: boolean }) =>
  service().syncMaps(mapSid).syncMapPermissions(identity).update(flags);

const client = (identity: string, ttl = 3600) => connect(t.emulator.url, mintToken(t.emulator, { identity, ttl }));

describe('maps', () => {
  it('opens a map by unique name and by SID and lists its items newest key first, expired ones hidden', async () => {
    const map = await restMap('calls-alice', [
      { key: 'k1', data: { n: 1 } },
      { key: 'k2', data: { n: 2 }, ttl: 60 },
      { key: 'k3', data: { n: 3 } },
    ]);
    const alice = client('alice');
    await grant(map.sid, 'alice', { read: true, write: false, manage: false });
    const byName = await alice.map({ id: 'calls-alice', mode: 'open_existing' });
    expect(byName.sid).toBe(map.sid);
    const bySid = await alice.map({ id: map.sid, mode: 'open_existing' });
    expect(bySid.uniqueName).toBe('calls-alice');

    const before = await byName.getItems({ order: 'desc', pageSize: 10 });
    expect(before.items.map((i: SyncMapItem) => i.key)).toEqual(['k3', 'k2', 'k1']);
    expect(typeof before.items[1].dateExpires).toBe('string');

    await t.admin.advanceClock(61);
    const fresh = connect(t.emulator.url, mintToken(t.emulator, { identity: 'alice' }));
    const page = await (
      await fresh.map({ id: map.sid, mode: 'open_existing' })
    ).getItems({ order: 'desc', pageSize: 10 });
    expect(page.items.map((i: SyncMapItem) => i.key)).toEqual(['k3', 'k1']);
  });

  it('pages through a map in both orders with From and PageSize', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `key-${String(i).padStart(2, '0')}`);
    await t.admin.setLimits({ writeRatePerSecond: 0 }); // 0: no write limit while the test fills the map
    const map = await restMap(
      'paged',
      keys.map((key) => ({ key, data: { key } })),
    ).finally(() => t.admin.setLimits({ writeRatePerSecond: DEFAULT_CONFIG.writeRatePerSecond }));
    await setAcl(false);
    const alice = client('alice');
    const opened = await alice.map({ id: map.sid, mode: 'open_existing' });
    const seen: string[] = [];
    let page = await opened.getItems({ order: 'desc', pageSize: 10 });
    for (let guard = 0; guard < 10; guard++) {
      seen.push(...page.items.map((i: SyncMapItem) => i.key));
      if (!page.hasNextPage) break;
      page = await page.nextPage();
    }
    expect(seen).toEqual([...keys].reverse());
    const from = await opened.getItems({ from: 'key-20', order: 'asc', pageSize: 3 });
    expect(from.items.map((i: SyncMapItem) => i.key)).toEqual(['key-20', 'key-21', 'key-22']);
  });

  it('creates a map on open_or_create when ACLs are off, sets, updates and removes items', async () => {
    await setAcl(false);
    const alice = client('alice');
    const map = await alice.map('scratch');
    expect(map.sid).toMatch(/^MP[0-9a-f]{32}$/);
    await map.set('a', { v: 1 }, { ttl: 120 });
    await map.update('a', { w: 2 });
    const rest = await service().syncMaps(map.sid).syncMapItems('a').fetch();
    expect(rest.data).toEqual({ v: 1, w: 2 });
    expect(rest.dateExpires).not.toBeNull();
    await map.remove('a');
    await expect(service().syncMaps(map.sid).syncMapItems('a').fetch()).rejects.toMatchObject({ status: 404 });
  });

  it('reports a missing map as 404 on open_existing', async () => {
    await setAcl(false);
    const error = await syncError(client('alice').map({ id: 'nothing-here', mode: 'open_existing' }));
    expect(error.status).toBe(404);
  });
});

describe('live events', () => {
  it('delivers REST adds, updates and removals to a subscribed client, in order', async () => {
    const map = await restMap('live-alice', [{ key: 'old', data: { n: 0 } }]);
    await grant(map.sid, 'alice', { read: true, write: false, manage: false });
    const opened = await client('alice').map({ id: map.sid, mode: 'open_existing' });
    const added = nextEvent<{ item: SyncMapItem; isLocal: boolean }>(opened, 'itemAdded');
    await service()
      .syncMaps(map.sid)
      .syncMapItems.create({ key: 'new', data: { n: 1 }, ttl: 3600 });
    const event = await added;
    expect(event.item.key).toBe('new');
    expect(event.item.data).toEqual({ n: 1 });
    expect(event.isLocal).toBe(false);
    expect(Date.parse(String(event.item.dateExpires))).toBeGreaterThan(t.emulator.clock.now());

    const updated = nextEvent<{ item: SyncMapItem }>(opened, 'itemUpdated');
    await service()
      .syncMaps(map.sid)
      .syncMapItems('new')
      .update({ data: { n: 2 } });
    expect((await updated).item.data).toEqual({ n: 2 });

    const removed = nextEvent<{ key: string }>(opened, 'itemRemoved');
    await service().syncMaps(map.sid).syncMapItems('old').remove();
    expect((await removed).key).toBe('old');
  });

  it('replays a write made between opening the map and subscribing', async () => {
    const map = await restMap('replay', []);
    await grant(map.sid, 'alice', { read: true, write: false, manage: false });
    const opened = await client('alice').map({ id: map.sid, mode: 'open_existing' });
    // Written after the open (the client's last_event_id is older), before the first listener subscribes.
    await service().syncMaps(map.sid).syncMapItems.create({ key: 'between', data: {} });
    const added = await nextEvent<{ item: SyncMapItem }>(opened, 'itemAdded');
    expect(added.item.key).toBe('between');
  });
});

describe('ACLs', () => {
  it('lets an identity read only what its permission allows', async () => {
    const own = await restMap('own', [{ key: 'a', data: {} }]);
    const other = await restMap('other', [{ key: 'b', data: {} }]);
    await grant(own.sid, 'alice', { read: true, write: false, manage: false });
    const alice = client('alice');
    const map = await alice.map({ id: 'own', mode: 'open_existing' });
    expect((await map.getItems()).items).toHaveLength(1);

    const write = await syncError(map.set('x', { no: true }));
    expect(write).toMatchObject({ status: 403, code: 54007 });
    const read = await syncError(alice.map({ id: other.sid, mode: 'open_existing' }));
    expect(read).toMatchObject({ status: 403, code: 54007 });
    const create = await syncError(alice.map('brand-new'));
    expect(create).toMatchObject({ status: 403, code: 54007 });
    const stats = await t.admin.stats();
    expect(stats.syncClient.denials).toBeGreaterThanOrEqual(3);
  });

  it('stops live events when read permission is withdrawn', async () => {
    const map = await restMap('revoked', []);
    await grant(map.sid, 'alice', { read: true, write: false, manage: false });
    await grant(map.sid, 'bob', { read: true, write: false, manage: false });
    const alice = await client('alice').map({ id: map.sid, mode: 'open_existing' });
    const bob = await client('bob').map({ id: map.sid, mode: 'open_existing' });
    const aliceEvents: string[] = [];
    alice.on('itemAdded', (e: { item: SyncMapItem }) => aliceEvents.push(e.item.key));
    const bobFirst = nextEvent<{ item: SyncMapItem }>(bob, 'itemAdded');
    await service().syncMaps(map.sid).syncMapItems.create({ key: 'first', data: {} });
    await bobFirst;
    await grant(map.sid, 'alice', { read: false, write: false, manage: false });
    const bobSecond = nextEvent<{ item: SyncMapItem }>(bob, 'itemAdded');
    await service().syncMaps(map.sid).syncMapItems.create({ key: 'second', data: {} });
    expect((await bobSecond).item.key).toBe('second');
    expect(aliceEvents).not.toContain('second');
  });
});

describe('tokens', () => {
  const refusal = async (token: string) => {
    const c = connect(t.emulator.url, token);
    const error = nextEvent<{ errorCode: number; httpStatusCode: number; terminal: boolean }>(c, 'connectionError');
    await reachState(c, 'denied');
    return { client: c, error: await error };
  };

  it('refuses a token signed with another secret (20107), garbage (20101) and another service (20106)', async () => {
    const signed = await refusal(
      mintToken(t.emulator, { identity: 'alice', apiSecret: 'not-the-secret-000000000000000000' }),
    );
    expect(signed.error).toMatchObject({ httpStatusCode: 401, errorCode: 20107, terminal: true });
    const garbage = await refusal('not.a.token');
    expect(garbage.error).toMatchObject({ httpStatusCode: 401, errorCode: 20101 });
    const service = await refusal(mintToken(t.emulator, { identity: 'alice', serviceSid: `IS${'f'.repeat(32)}` }));
    expect(service.error).toMatchObject({ httpStatusCode: 401, errorCode: 20106 });
    const issuer = await refusal(mintToken(t.emulator, { identity: 'alice', apiKey: `SK${'f'.repeat(32)}` }));
    expect(issuer.error).toMatchObject({ httpStatusCode: 401, errorCode: 20103 });
    expect((await t.admin.stats()).syncClient.refusals).toBe(4);
  });

  it('refuses a token that expired by the emulator clock with 20104, which the SDK reports as tokenExpired', async () => {
    const token = mintToken(t.emulator, { identity: 'alice', ttl: 600 });
    await t.admin.advanceClock(601);
    const c = connect(t.emulator.url, token);
    const expired = nextEvent(c, 'tokenExpired');
    const error = nextEvent<{ errorCode: number }>(c, 'connectionError');
    await expired;
    expect((await error).errorCode).toBe(20104);
    await reachState(c, 'denied');
  });

  it('warns before exp, accepts an update, and closes with 410 at the exp of a token not replaced', async () => {
    await setAcl(false);
    const first = client('alice', 3600);
    await first.map('lifetime');
    const warned = nextEvent(first, 'tokenAboutToExpire');
    await t.admin.advanceClock(3600 - 170);
    await warned;
    await first.updateToken(mintToken(t.emulator, { identity: 'alice', ttl: 3600 }));
    await t.admin.advanceClock(300); // past the first token's exp
    expect(first.connectionState).toBe('connected');
    const map = await first.map('lifetime');
    await map.set('still', { here: true });

    const unrefreshed = client('bob', 3600);
    await unrefreshed.map('lifetime');
    const expired = nextEvent(unrefreshed, 'tokenExpired');
    await t.admin.advanceClock(3601);
    await expired;
    const stats = (await t.admin.stats()).syncClient;
    expect(stats.tokenUpdates).toBe(1);
    expect(stats.expired).toBeGreaterThanOrEqual(1);
  });

  it('refuses an update to another identity and keeps the session on its own token', async () => {
    await setAcl(false);
    const c = client('alice');
    await c.map('who');
    const error = await syncError(c.updateToken(mintToken(t.emulator, { identity: 'mallory' })));
    expect(error.code).toBe(51130);
  });
});

describe('robustness', () => {
  const raw = () =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(syncClientUri(t.emulator.url));
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  const closed = (ws: WebSocket) => new Promise<void>((resolve) => ws.once('close', () => resolve()));

  it('closes sockets that send garbage, unknown methods, requests before init or oversized frames', async () => {
    const frames: Array<Buffer | string> = [
      Buffer.from('hello'),
      'TWILSOCK V3.0 5\r\n{"a":\r\n',
      encodeFrame({ method: 'dance', id: 'TM1' }),
      encodeFrame({ method: 'message', id: 'TM2', http_request: { method: 'GET', path: '/v3/Maps/x' } }),
      Buffer.alloc(300 * 1024, 1),
    ];
    for (const frame of frames) {
      const ws = await raw();
      const done = closed(ws);
      ws.send(frame);
      await done;
    }
    // Still serving.
    await setAcl(false);
    await client('alice').map('after-garbage');
    const stats = (await t.admin.stats()).syncClient;
    expect(stats.badFrames).toBeGreaterThanOrEqual(3);
    expect(stats.open).toBe(1);
  });

  it('answers anything but /v3/wsconnect with 404 and keeps REST on the same port', async () => {
    const ws = new WebSocket(`${syncClientUri(t.emulator.url)}/extra`);
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(error.message).toMatch(/404/);
    expect((await service().fetch()).sid).toBe(t.emulator.config.syncServiceSid);
  });
});

describe('newestItems (the browser client) through the real SDK', () => {
  it('reads the newest N non-expired items of a time-keyed map in one desc page, then fewer as they expire', async () => {
    // Keys sort by time (as the recent-calls keys do); older items expire first.
    await t.admin.setLimits({ writeRatePerSecond: 0 });
    const map = await service().syncMaps.create({ uniqueName: 'timeline' });
    for (let i = 1; i <= 30; i++) {
      const key = `2026-11-${String(i).padStart(2, '0')}T10:00:00Z-WT${i}`;
      await service()
        .syncMaps(map.sid)
        .syncMapItems.create({ key, data: { i }, itemTtl: 1000 + i * 100 });
    }
    await t.admin.setLimits({ writeRatePerSecond: DEFAULT_CONFIG.writeRatePerSecond });
    await grant(map.sid, 'alice', { read: true, write: false, manage: false });
    const opened = await client('alice').map({ id: map.sid, mode: 'open_existing' });
    const now = () => t.emulator.clock.now();
    const newest = await newestItems(opened, 10, now());
    expect(newest.map((i) => (i.data as { i: number }).i)).toEqual([30, 29, 28, 27, 26, 25, 24, 23, 22, 21]);
    const requests = t.emulator.stats.syncClient.byRequest['GET /v3/Maps/MP…/Items'];
    expect(requests).toBe(1);

    await t.admin.advanceClock(1000 + 27 * 100 + 1); // items 1–27 have expired
    const fresh = await client('alice').map({ id: map.sid, mode: 'open_existing' });
    expect((await newestItems(fresh, 10, now())).map((i) => (i.data as { i: number }).i)).toEqual([30, 29, 28]);
    await t.admin.advanceClock(1000);
    const later = await client('alice').map({ id: map.sid, mode: 'open_existing' });
    expect(await newestItems(later, 10, now())).toEqual([]);
  });

  it('stops at the first expired item when the source still returns expired ones (no HideExpired)', async () => {
    const at = Date.parse('2026-12-01T00:00:00Z');
    const item = (key: string, expiresMs: number) => ({ key, dateExpires: new Date(expiresMs).toISOString() });
    const pages = [
      [item('k9', at + 10), item('k8', at + 5)],
      [item('k7', at - 1), item('k6', at + 99)],
    ];
    let reads = 0;
    const page = (
      n: number,
    ): { items: ReturnType<typeof item>[]; hasNextPage: boolean; nextPage: () => Promise<never> } => ({
      items: pages[n],
      hasNextPage: n + 1 < pages.length,
      nextPage: () => {
        reads += 1;
        return Promise.resolve(page(n + 1)) as Promise<never>;
      },
    });
    const source = { getItems: () => Promise.resolve(page(0)) };
    expect((await newestItems(source, 5, at)).map((i) => i.key)).toEqual(['k9', 'k8']);
    expect(reads).toBe(1);
    await expect(newestItems(source, 0, at)).rejects.toThrow(RangeError);
  });
});
