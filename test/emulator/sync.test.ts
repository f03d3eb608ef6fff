/** The real twilio SDK against the emulator's Sync v1: the behaviour the functions rely on. */
import { DEFAULT_CONFIG } from '../../emulator/core/config';
import { rejection, useEmulator } from '../helpers/emulator';
import { emulatorClient } from '../helpers/system';

const t = useEmulator();

const service = () => t.client.sync.v1.services(t.emulator.config.syncServiceSid);

describe('maps and items', () => {
  it('creates a map, writes an item with a TTL and reads it back with the right date_expires', async () => {
    const map = await service().syncMaps.create({ uniqueName: 'agent-calls' });
    expect(map.sid).toMatch(/^MP[0-9a-f]{32}$/);
    expect(map.revision).toBe('0');
    expect(map.dateExpires).toBeNull();

    const created = await service()
      .syncMaps('agent-calls')
      .syncMapItems.create({ key: 'CA1', data: { n: 1 }, itemTtl: 3600 });
    expect(created.dateExpires!.getTime() - created.dateCreated.getTime()).toBe(3600 * 1000);

    const fetched = await service().syncMaps(map.sid).syncMapItems('CA1').fetch();
    expect(fetched.data).toEqual({ n: 1 });
    expect(fetched.dateExpires!.toISOString()).toBe(created.dateExpires!.toISOString());
    expect(fetched.mapSid).toBe(map.sid);
  });

  it('answers 409 / 54208 to a duplicate item and 409 / 54301 to a duplicate unique name', async () => {
    await service().syncMaps.create({ uniqueName: 'dup' });
    expect(await rejection(service().syncMaps.create({ uniqueName: 'dup' }))).toMatchObject({
      status: 409,
      code: 54301,
    });
    await service().syncMaps('dup').syncMapItems.create({ key: 'k', data: {} });
    expect(await rejection(service().syncMaps('dup').syncMapItems.create({ key: 'k', data: {} }))).toMatchObject({
      status: 409,
      code: 54208,
    });
  });

  it('rate-limits writes to one map: writes beyond its bucket get 429 / 54009', async () => {
    // The default bucket (20 writes, refilled at 20/s) with the refill slowed to nothing, so the count does not depend
    // on how fast this machine serves the burst: 20 writes of capacity, one taken by the map's creation.
    await t.admin.setLimits({ writeRatePerSecond: 0.02, writeBurstSeconds: 1000 });
    await service().syncMaps.create({ uniqueName: 'busy' });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        service()
          .syncMaps('busy')
          .syncMapItems.create({ key: `k${i}`, data: { i } }),
      ),
    );
    await t.admin.setLimits({ writeRatePerSecond: 20, writeBurstSeconds: DEFAULT_CONFIG.writeBurstSeconds });
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    expect(failures).toHaveLength(11);
    for (const failure of failures) expect(failure).toMatchObject({ status: 429, code: 54009 });
    expect((await service().syncMaps('busy').syncMapItems.list()).length).toBe(19);
  });

  // Docs "Sync limits": 20 writes/s per object with a 10 s burst window; 20 reads/s per object; 80 permission
  // requests/s. The defaults are those; the mechanics are checked at rates slow enough that no token refills during
  // the test (a bucket holds rate × window).
  it('defaults to the documented limits: 20 writes/s with a 10 s window, 20 reads/s, 80 permission requests/s', async () => {
    expect(await t.admin.config()).toMatchObject({
      writeRatePerSecond: 20,
      writeBurstSeconds: 10,
      readRatePerSecond: 20,
      permissionRatePerSecond: 80,
    });
    await t.admin.setLimits({ writeRatePerSecond: 0.5, readRatePerSecond: 0.3, permissionRatePerSecond: 0.4 });
    try {
      // Buckets of 5 writes, 3 reads and 4 permission requests per object (rate × 10 s).
      await service().syncMaps.create({ uniqueName: 'slow' }); // one write
      const outcome = async (n: number, request: (i: number) => Promise<unknown>) => {
        const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => request(i)));
        for (const r of settled)
          if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 429, code: 54009 });
        return settled.filter((r) => r.status === 'fulfilled').length;
      };
      expect(
        await outcome(6, (i) =>
          service()
            .syncMaps('slow')
            .syncMapItems.create({ key: `k${i}`, data: {} }),
        ),
      ).toBe(4);
      expect(await outcome(5, () => service().syncMaps('slow').syncMapItems.page({ pageSize: 1 }))).toBe(3);
      expect(
        await outcome(6, (i) =>
          service().syncMaps('slow').syncMapPermissions(`a${i}`).update({ read: true, write: false, manage: false }),
        ),
      ).toBe(4);
    } finally {
      await t.admin.setLimits({ writeRatePerSecond: 20, readRatePerSecond: 20, permissionRatePerSecond: 80 });
    }
  });

  // twilio_sync_v1.json: every list's PageSize has maximum 100.
  it('refuses PageSize above 100 on every Sync list', async () => {
    await service().syncMaps.create({ uniqueName: 'paged' });
    const lists = [
      () => service().syncMaps.page({ pageSize: 101 }),
      () => service().syncMaps('paged').syncMapItems.page({ pageSize: 101 }),
      () => service().syncMaps('paged').syncMapPermissions.page({ pageSize: 101 }),
      () => service().documents.page({ pageSize: 101 }),
      () => t.client.sync.v1.services.page({ pageSize: 101 }),
    ];
    for (const list of lists) expect(await rejection(list())).toMatchObject({ status: 400 });
    expect((await service().syncMaps('paged').syncMapItems.page({ pageSize: 100 })).instances).toEqual([]);
  });

  // Docs "objects-ttl": with both Ttl and CollectionTtl, CollectionTtl wins; on an item update, CollectionTtl applies
  // only when the item's Data or TTL changes in the same request.
  it('applies CollectionTtl over Ttl on maps, and on item updates only with Data or a TTL', async () => {
    const map = await service().syncMaps.create({ uniqueName: 'both', ttl: 100, collectionTtl: 5000 });
    expect(map.dateExpires!.getTime() - map.dateCreated.getTime()).toBe(5000 * 1000);
    const updatedMap = await service().syncMaps('both').update({ ttl: 100, collectionTtl: 7000 });
    expect(updatedMap.dateExpires!.getTime() - updatedMap.dateUpdated.getTime()).toBe(7000 * 1000);

    await service()
      .syncMaps('both')
      .syncMapItems.create({ key: 'k', data: { v: 1 } });
    const expiry = async () => (await service().syncMaps('both').fetch()).dateExpires!.getTime();
    const before = await expiry();
    await service().syncMaps('both').syncMapItems('k').update({ collectionTtl: 60 }); // nothing else changes: ignored
    expect(await expiry()).toBe(before);
    await service()
      .syncMaps('both')
      .syncMapItems('k')
      .update({ data: { v: 2 }, collectionTtl: 60 });
    expect(await expiry()).toBeLessThan(before);
  });

  // Docs: If-Match takes the object's ETag header, the revision.
  it('answers an ETag header (the revision) that If-Match accepts', async () => {
    const raw = async (
      method: 'get' | 'post',
      path: string,
      data?: Record<string, string>,
      headers: Record<string, string> = {},
    ) =>
      t.client.request({
        method,
        uri: `https://sync.twilio.com/v1/Services/${t.emulator.config.syncServiceSid}${path}`,
        data,
        headers,
      });
    const created = await raw('post', '/Maps', { UniqueName: 'tagged' });
    expect(created.headers.etag).toBe('0');
    const item = await raw('post', '/Maps/tagged/Items', { Key: 'k', Data: '{}' });
    expect(item.headers.etag).toBe((item.body as { revision: string }).revision);
    const fetched = await raw('get', '/Maps/tagged/Items/k');
    const updated = await raw(
      'post',
      '/Maps/tagged/Items/k',
      { Data: '{"v":1}' },
      { 'If-Match': String(fetched.headers.etag) },
    );
    expect(updated.statusCode).toBe(200);
    expect(updated.headers.etag).toBe('1');
    const stale = await raw(
      'post',
      '/Maps/tagged/Items/k',
      { Data: '{"v":2}' },
      { 'If-Match': String(fetched.headers.etag) },
    );
    expect(stale.statusCode).toBe(412);
  });

  it('counts a map and its items against one limit, and other maps separately', async () => {
    // A bucket of 5 (0.005/s for 1000 s) that refills too slowly to matter during the test (one write per 200 s), so
    // the count does not depend on how fast this machine serves the writes.
    await t.admin.setLimits({ writeRatePerSecond: 0.005, writeBurstSeconds: 1000 });
    await service().syncMaps.create({ uniqueName: 'a' });
    await service().syncMaps.create({ uniqueName: 'b' });
    const writes = (name: string) =>
      Promise.allSettled(
        Array.from({ length: 5 }, (_, i) =>
          service()
            .syncMaps(name)
            .syncMapItems.create({ key: `${i}`, data: {} }),
        ),
      );
    const [a, b] = await Promise.all([writes('a'), writes('b')]);
    // Map creation took one token from each map's bucket, so each map lets 4 of its 5 item writes through.
    expect(a.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(b.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    await t.admin.setLimits({ writeRatePerSecond: 20, writeBurstSeconds: DEFAULT_CONFIG.writeBurstSeconds });
  });

  it('refuses data over 16 KiB (54006), an invalid TTL (54011) and an invalid key (54209)', async () => {
    await service().syncMaps.create({ uniqueName: 'limits' });
    const items = service().syncMaps('limits').syncMapItems;
    expect(await rejection(items.create({ key: 'big', data: { s: 'x'.repeat(17_000) } }))).toMatchObject({
      code: 54006,
    });
    expect(await rejection(items.create({ key: 'ttl', data: {}, itemTtl: 31_536_001 }))).toMatchObject({
      status: 400,
      code: 54011,
    });
    // The stricter of the documented limits (the spec's 320, error 54209's 256) is modelled.
    expect(await rejection(items.create({ key: 'x'.repeat(257), data: {} }))).toMatchObject({
      status: 400,
      code: 54209,
    });
    expect(await items.create({ key: 'x'.repeat(256), data: {} })).toMatchObject({ key: 'x'.repeat(256) });
    // Unique names: 1–256 characters (54302).
    expect(await rejection(service().syncMaps.create({ uniqueName: 'm'.repeat(257) }))).toMatchObject({
      status: 400,
      code: 54302,
    });
    expect(await rejection(service().documents.create({ uniqueName: 'd'.repeat(257) }))).toMatchObject({
      status: 400,
      code: 54302,
    });
    expect(await service().syncMaps.create({ uniqueName: 'm'.repeat(256) })).toMatchObject({
      uniqueName: 'm'.repeat(256),
    });
  });

  it('answers 404 for missing maps (20404) and items (54201)', async () => {
    expect(await rejection(service().syncMaps('nope').fetch())).toMatchObject({ status: 404, code: 20404 });
    await service().syncMaps.create({ uniqueName: 'm' });
    expect(await rejection(service().syncMaps('m').syncMapItems('none').fetch())).toMatchObject({
      status: 404,
      code: 54201,
    });
  });

  it('checks If-Match on item updates (412 / 54205)', async () => {
    await service().syncMaps.create({ uniqueName: 'rev' });
    const item = await service()
      .syncMaps('rev')
      .syncMapItems.create({ key: 'k', data: { v: 1 } });
    const updated = await service()
      .syncMaps('rev')
      .syncMapItems('k')
      .update({ data: { v: 2 }, ifMatch: item.revision });
    expect(updated.revision).toBe('1');
    expect(
      await rejection(
        service()
          .syncMaps('rev')
          .syncMapItems('k')
          .update({ data: { v: 3 }, ifMatch: '0' }),
      ),
    ).toMatchObject({
      status: 412,
      code: 54205,
    });
  });

  it('lists items in key order with Order, From, Bounds and paging', async () => {
    await t.admin.setLimits({ writeRatePerSecond: 0 });
    await service().syncMaps.create({ uniqueName: 'ordered' });
    for (const key of ['c', 'a', 'e', 'b', 'd'])
      await service().syncMaps('ordered').syncMapItems.create({ key, data: {} });
    const items = service().syncMaps('ordered').syncMapItems;
    expect((await items.list({ pageSize: 2 })).map((i) => i.key)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect((await items.list({ order: 'desc', pageSize: 2 })).map((i) => i.key)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect((await items.list({ from: 'c', bounds: 'exclusive' })).map((i) => i.key)).toEqual(['d', 'e']);
    expect((await items.list({ from: 'c', order: 'desc' })).map((i) => i.key)).toEqual(['c', 'b', 'a']);
    const page = await items.page({ pageSize: 2 });
    expect(page.nextPageUrl).toContain(t.emulator.url);
    await t.admin.setLimits({ writeRatePerSecond: 20 });
  });

  // Docs "objects-ttl": expired objects are removed "within minutes", not at their expiry.
  it('by default removes expired objects a few minutes after they expire', async () => {
    expect((await t.admin.config()).sweepLagSeconds).toBe(180);
    await service().syncMaps.create({ uniqueName: 'soon' });
    await service().syncMaps('soon').syncMapItems.create({ key: 'k', data: {}, itemTtl: 60 });
    await t.admin.advanceClock(90);
    expect((await service().syncMaps('soon').syncMapItems('k').fetch()).key).toBe('k'); // expired, still there
    await t.admin.advanceClock(200);
    expect(await rejection(service().syncMaps('soon').syncMapItems('k').fetch())).toMatchObject({ code: 54201 });
  });

  it('keeps expired items readable until the sweeper removes them, and CollectionTtl refreshes the map TTL', async () => {
    await t.admin.setLimits({ sweepLagSeconds: 600 });
    await service().syncMaps.create({ uniqueName: 'ttl', ttl: 100 });
    await service().syncMaps('ttl').syncMapItems.create({ key: 'short', data: {}, itemTtl: 60, collectionTtl: 7200 });
    const map = await service().syncMaps('ttl').fetch();
    expect(map.dateExpires!.getTime() - map.dateCreated.getTime()).toBeGreaterThanOrEqual(7200 * 1000 - 1000);

    await t.admin.advanceClock(120); // expired, not yet swept
    const expired = await service().syncMaps('ttl').syncMapItems('short').fetch();
    expect(expired.dateExpires!.getTime()).toBeLessThan(Date.now() + 120_000);

    await t.admin.advanceClock(600); // past the sweep lag
    expect(await rejection(service().syncMaps('ttl').syncMapItems('short').fetch())).toMatchObject({ code: 54201 });
  });
});

describe('permissions, documents and services', () => {
  it('grants per-identity map permissions', async () => {
    await service().syncMaps.create({ uniqueName: 'perm' });
    const p = await service()
      .syncMaps('perm')
      .syncMapPermissions('alice')
      .update({ read: true, write: false, manage: false });
    expect(p).toMatchObject({ identity: 'alice', read: true, write: false, manage: false });
    expect((await service().syncMaps('perm').syncMapPermissions.list()).map((x) => x.identity)).toEqual(['alice']);
  });

  it('creates and updates documents with If-Match (412 / 54103)', async () => {
    const doc = await service().documents.create({ uniqueName: 'checkpoint', data: { at: 1 } });
    const updated = await service()
      .documents('checkpoint')
      .update({ data: { at: 2 }, ifMatch: doc.revision });
    expect(updated.data).toEqual({ at: 2 });
    expect(
      await rejection(
        service()
          .documents('checkpoint')
          .update({ data: { at: 3 }, ifMatch: '0' }),
      ),
    ).toMatchObject({
      status: 412,
      code: 54103,
    });
  });

  it('creates services and updates AclEnabled', async () => {
    const created = await t.client.sync.v1.services.create({ friendlyName: 'x', aclEnabled: true });
    expect(created.aclEnabled).toBe(true);
    const updated = await t.client.sync.v1.services(created.sid).update({ aclEnabled: false });
    expect(updated.aclEnabled).toBe(false);
  });
});

describe('authentication', () => {
  it('answers 401 / 20003 to a wrong auth token', async () => {
    const wrong = emulatorClient(t.emulator, { username: t.emulator.config.accountSid, password: 'f'.repeat(32) });
    expect(await rejection(wrong.sync.v1.services(t.emulator.config.syncServiceSid).fetch())).toMatchObject({
      status: 401,
      code: 20003,
    });
  });

  it('accepts an API key and secret', async () => {
    const keyed = emulatorClient(t.emulator, {
      username: t.emulator.config.apiKey,
      password: t.emulator.config.apiSecret,
    });
    expect((await keyed.sync.v1.services(t.emulator.config.syncServiceSid).fetch()).sid).toBe(
      t.emulator.config.syncServiceSid,
    );
  });
});
