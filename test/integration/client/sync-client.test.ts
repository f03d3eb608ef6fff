/**
 * The real twilio-sync SDK end to end: Sync tokens from /sync-token (twilio-run, Flex tokens from the emulator's IAM),
 * the emulator's /v3/wsconnect endpoint, maps the real job wrote. What an agent reads must match /recent-calls; ACLs
 * keep agents to their own map; the job's writes reach a subscribed client live; tokens are stamped by Twilio's clock.
 */
import type { SyncClient, SyncMapItem } from 'twilio-sync';
import {
  createSyncTokenProvider,
  memoryStorage,
  type SyncTokenError,
  type SyncTokenErrorContext,
} from '../../../src/client';
import type { SeededAgent } from '../../../emulator/seed';
import { withoutExpired } from '../../../src/client/expiry';
import { recentCallsMapName } from '../../../src/recent-calls/map-name';
import type { RecentCall } from '../../../src/recent-calls/reader';
import { startRecentCalls } from '../../../src/client/examples/flex-plugin-recent-calls';
import type { RecentCallItem } from '../../../src/client';
import { closeAll, connect, nextEvent, reachState, syncClientUri, syncError } from '../../helpers/sync-clients';
import { handledCalls } from '../../helpers/handled-calls';
import { startSystem, syncRecentCalls, type System } from '../../helpers/system';

let system: System;

beforeAll(async () => {
  // Validations are not reused here: these tests jump the emulator's clock past Flex tokens' expiry, and a cached
  // validation is timed by the host clock.
  system = await startSystem({ env: { FLEX_VALIDATION_CACHE_SECONDS: '0' } });
}, 60_000);
afterAll(() => system?.stop());
/** Attached providers are detached before their clients shut down (a refresh would otherwise reconnect them). */
const detachers: Array<() => void> = [];
afterEach(async () => {
  for (const detach of detachers.splice(0)) detach();
  await closeAll();
});

async function seedAndSync(request: { agents: number; callsPerAgent: number; days: number }): Promise<SeededAgent[]> {
  await system.admin.reset();
  const { agents } = await system.admin.seed(request);
  await system.admin.advanceClock(120); // past the job's settling lag
  const run = await syncRecentCalls(system);
  expect(run.done).toBe(true);
  return agents;
}

async function flexToken(identity: string, roles: string[] = ['agent']): Promise<string> {
  return (await system.admin.flexToken({ identity, roles })).token;
}

async function syncToken(flex: string): Promise<{ token: string; expiresAt: string; identity: string }> {
  const response = await fetch(`${system.functions.url}/sync-token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ Token: flex }),
    signal: AbortSignal.timeout(20_000),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { token: string; expiresAt: string; identity: string };
}

const agentClient = async (identity: string) =>
  connect(system.emulator.url, (await syncToken(await flexToken(identity))).token);

async function recentCalls(flex: string): Promise<RecentCall[]> {
  const response = await fetch(`${system.functions.url}/recent-calls?PageSize=100`, {
    headers: { Authorization: `Bearer ${flex}` },
    signal: AbortSignal.timeout(20_000),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { calls: RecentCall[] }).calls;
}

describe('an agent with a token from /sync-token', () => {
  let agents: SeededAgent[];
  beforeAll(async () => {
    await system.admin.setLimits({ sweepLagSeconds: 90 * 86_400 }); // expired items stay: readers must hide them
    agents = await seedAndSync({ agents: 3, callsPerAgent: 12, days: 40 });
    await system.admin.advanceClock(12 * 86_400); // the older calls have expired now, and are still in the maps
  }, 120_000);

  it('opens its own map and reads the same non-expired calls as /recent-calls', async () => {
    const agent = agents[0];
    const flex = await flexToken(agent.identity);
    const client = connect(system.emulator.url, (await syncToken(flex)).token);
    const map = await client.map({ id: recentCallsMapName(agent.workerSid), mode: 'open_existing' });
    const items: SyncMapItem[] = [];
    let page = await map.getItems({ order: 'desc', pageSize: 100 });
    for (let guard = 0; guard < 20; guard++) {
      items.push(...page.items);
      if (!page.hasNextPage) break;
      page = await page.nextPage();
    }
    const visible = withoutExpired(items, system.emulator.clock.now());
    expect(visible.length).toBeGreaterThan(0);
    // The map still holds expired items (not swept yet); the SDK's reads leave them out (HideExpired).
    const service = system.twilio.sync.v1.services(system.emulator.config.syncServiceSid);
    const stored = await service.syncMaps(map.sid).syncMapItems.list({ pageSize: 100 });
    expect(stored.length).toBeGreaterThan(items.length);
    expect(visible).toHaveLength(items.length);
    const viaSdk = visible.map((i) => (i.data as { taskSid: string }).taskSid).sort();
    const viaFunction = (await recentCalls(flex)).map((c) => c.taskSid).sort();
    expect(viaSdk).toEqual(viaFunction);
  });

  it("is refused another agent's map (SyncError 403), and so is a supervisor without a permission", async () => {
    const [me, other] = agents;
    const client = await agentClient(me.identity);
    const denied = await syncError(client.map({ id: recentCallsMapName(other.workerSid), mode: 'open_existing' }));
    expect(denied).toMatchObject({ status: 403, code: 54007 });

    const supervisorIdentity = agents[2].identity;
    const supervisor = connect(
      system.emulator.url,
      (await syncToken(await flexToken(supervisorIdentity, ['agent', 'supervisor']))).token,
    );
    const refused = await syncError(supervisor.map({ id: recentCallsMapName(other.workerSid), mode: 'open_existing' }));
    expect(refused.status).toBe(403);
    // Granted explicitly, the same token reads it.
    const service = system.twilio.sync.v1.services(system.emulator.config.syncServiceSid);
    await service
      .syncMaps(recentCallsMapName(other.workerSid))
      .syncMapPermissions(supervisorIdentity)
      .update({ read: true, write: false, manage: false });
    const opened = await supervisor.map({ id: recentCallsMapName(other.workerSid), mode: 'open_existing' });
    expect((await opened.getItems({ pageSize: 5 })).items.length).toBeGreaterThan(0);
  });

  it('cannot write its own map (the job grants read only)', async () => {
    const client = await agentClient(agents[1].identity);
    const map = await client.map({ id: recentCallsMapName(agents[1].workerSid), mode: 'open_existing' });
    expect(await syncError(map.set('forged', { callSid: 'CA0' }))).toMatchObject({ status: 403, code: 54007 });
  });
});

describe('live', () => {
  it('a call the job writes reaches the subscribed agent at once', async () => {
    // Calls spread over the last ~3 minutes: the newest end inside the job's 60 s settling lag and wait for a run.
    await system.admin.reset();
    const { agents } = await system.admin.seed({ agents: 4, callsPerAgent: 6, days: 0.002 });
    const first = await syncRecentCalls(system);
    expect(first.done).toBe(true);
    const service = system.twilio.sync.v1.services(system.emulator.config.syncServiceSid);
    const withMap = [];
    for (const agent of agents) {
      const found = await service
        .syncMaps(recentCallsMapName(agent.workerSid))
        .fetch()
        .then(
          () => true,
          () => false,
        );
      if (found) withMap.push(agent);
    }
    expect(withMap.length).toBeGreaterThan(0);
    const clients = await Promise.all(
      withMap.map(async (agent) => {
        const client = await agentClient(agent.identity);
        const map = await client.map({ id: recentCallsMapName(agent.workerSid), mode: 'open_existing' });
        const before = (await map.getItems({ pageSize: 100 })).items.length;
        return { agent, map, before, added: nextEvent<{ item: SyncMapItem; isLocal: boolean }>(map, 'itemAdded') };
      }),
    );
    await system.admin.advanceClock(120);
    const second = await syncRecentCalls(system);
    expect(second.done).toBe(true);
    // At least one subscribed agent got a new call from this run; each new call arrived as an itemAdded event.
    let delivered = 0;
    for (const c of clients) {
      const now = (await service.syncMaps(c.map.sid).syncMapItems.list({ pageSize: 100 })).length;
      if (now === c.before) continue;
      const event = await c.added;
      expect(event.isLocal).toBe(false);
      expect((event.item.data as { callSid: string }).callSid).toMatch(/^CA[0-9a-f]{32}$/);
      delivered += 1;
    }
    expect(delivered).toBeGreaterThan(0);
  });
});

describe("tokens by Twilio's clock", () => {
  it('a token issued after the emulator clock jumped a day is valid by that clock, and the SDK connects with it', async () => {
    await system.admin.reset();
    await system.admin.seed({ agents: 1, callsPerAgent: 2, days: 1 });
    await system.admin.advanceClock(86_400);
    const [agent] = (await system.admin.agents()).agents;
    const flex = await flexToken(agent.identity); // IAM's answer carries the emulator's Date
    const issued = await syncToken(flex);
    const now = system.emulator.clock.now();
    expect(Date.parse(issued.expiresAt)).toBeGreaterThan(now + 30 * 60_000);
    const client = connect(system.emulator.url, issued.token);
    await reachState(client, 'connected');
    expect(client.connectionState).toBe('connected');
  });
});

describe('refresh with attach()', () => {
  const MAP = 'refresh-map';
  let identity: string;

  beforeEach(async () => {
    await system.admin.reset();
    const { agents } = await system.admin.seed({ agents: 1, callsPerAgent: 0, days: 1 });
    identity = agents[0].identity;
    const service = system.twilio.sync.v1.services(system.emulator.config.syncServiceSid);
    await service.syncMaps.create({ uniqueName: MAP });
    await service.syncMaps(MAP).syncMapPermissions(identity).update({ read: true, write: false, manage: false });
  });

  function provider(flex: string) {
    const errors: Array<{ error: SyncTokenError; context: SyncTokenErrorContext }> = [];
    const p = createSyncTokenProvider({
      endpoint: `${system.functions.url}/sync-token`,
      getFlexToken: () => flex,
      storage: memoryStorage(),
      ttlSeconds: 1800,
      onError: (error, context) => errors.push({ error, context }),
    });
    return { provider: p, errors };
  }

  /** Resolves with the token of the client's next successful updateToken. */
  function nextUpdate(client: SyncClient): Promise<string> {
    const original = client.updateToken.bind(client);
    return new Promise((resolve) => {
      client.updateToken = async (token: string) => {
        await original(token);
        resolve(token);
      };
    });
  }

  const writeItem = (key: string) =>
    system.twilio.sync.v1
      .services(system.emulator.config.syncServiceSid)
      .syncMaps(MAP)
      .syncMapItems.create({ key, data: { key } });

  it('tokenAboutToExpire: a fresh token from /sync-token, updateToken, and the session outlives the first exp', async () => {
    const flex = (await system.admin.flexToken({ identity, ttlSeconds: 86_400 })).token;
    const { provider: tokens, errors } = provider(flex);
    const client = connect(system.emulator.url, (await tokens.getToken()).token);
    detachers.push(tokens.attach(client));
    const map = await client.map({ id: MAP, mode: 'open_existing' });
    const first = nextEvent<{ item: SyncMapItem }>(map, 'itemAdded');
    await writeItem('before');
    await first;

    const warned = nextEvent(client, 'tokenAboutToExpire');
    const updated = nextUpdate(client);
    await system.admin.advanceClock(1800 - 170);
    await warned;
    await updated;
    await system.admin.advanceClock(600); // past the first token's exp
    expect(client.connectionState).toBe('connected');
    const later = nextEvent<{ item: SyncMapItem }>(map, 'itemAdded');
    await writeItem('after');
    expect((await later).item.key).toBe('after');
    expect(errors).toEqual([]);

    // The same jump without attach(): the SDK is told its token expired.
    const bare = connect(system.emulator.url, (await provider(flex).provider.getToken()).token);
    await bare.map({ id: MAP, mode: 'open_existing' });
    const expired = nextEvent(bare, 'tokenExpired');
    await system.admin.advanceClock(1801);
    await expired;
  });

  it('tokenExpired (no warning came): waits out disconnecting, updates, reconnects and resubscribes', async () => {
    const flex = (await system.admin.flexToken({ identity, ttlSeconds: 86_400 })).token;
    const { provider: tokens } = provider(flex);
    const client = connect(system.emulator.url, (await tokens.getToken()).token);
    detachers.push(tokens.attach(client));
    const map = await client.map({ id: MAP, mode: 'open_existing' });
    map.on('itemAdded', () => undefined); // subscribed
    const expired = nextEvent(client, 'tokenExpired');
    const updated = nextUpdate(client);
    await system.admin.advanceClock(1801); // straight past exp: a 410 close, no warning first
    await expired;
    await updated;
    await reachState(client, 'connected');
    const added = nextEvent<{ item: SyncMapItem }>(map, 'itemAdded');
    await writeItem('after-reconnect');
    expect((await added).item.key).toBe('after-reconnect');
  });

  it('a Flex token that expired by refresh time is reported once (a clear error), with no retry loop', async () => {
    const flex = (await system.admin.flexToken({ identity, ttlSeconds: 900 })).token;
    const { provider: tokens, errors } = provider(flex);
    const client = connect(system.emulator.url, (await tokens.getToken()).token);
    detachers.push(tokens.attach(client));
    await client.map({ id: MAP, mode: 'open_existing' });
    const iamBefore = (await system.admin.stats()).byRoute['POST /v1/Accounts/:AccountSid/Tokens/validate'] ?? 0;
    const warned = nextEvent(client, 'tokenAboutToExpire');
    await system.admin.advanceClock(1800 - 170);
    await warned;
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(errors).toHaveLength(1);
    expect(errors[0].error.retryable).toBe(false);
    expect(errors[0].error.status).toBe(401);
    expect(errors[0].context).toMatchObject({ source: 'refresh', willRetry: false, event: 'tokenAboutToExpire' });

    const expired = nextEvent(client, 'tokenExpired');
    await system.admin.advanceClock(400);
    await expired;
    await system.admin.stats(); // a round trip: any refresh the event started would have called IAM by now
    expect(errors).toHaveLength(1);
    const iamAfter = (await system.admin.stats()).byRoute['POST /v1/Accounts/:AccountSid/Tokens/validate'] ?? 0;
    expect(iamAfter - iamBefore).toBe(1);
  });
});

/** The sample started for `agent` against the local system, every list it publishes pushed to `seen`. */
async function startSample(
  agent: { identity: string; workerSid: string },
  seen: RecentCallItem[][],
  mapRetryMs: number,
): Promise<() => Promise<void>> {
  const flex = (await system.admin.flexToken({ identity: agent.identity, ttlSeconds: 86_400 })).token;
  return startRecentCalls({
    manager: { user: { token: flex }, workerClient: { sid: agent.workerSid } },
    endpoint: `${system.functions.url}/sync-token`,
    onCalls: (calls) => seen.push(calls),
    mapRetryMs,
    syncClientOptions: { twilsock: { uri: syncClientUri(system.emulator.url) }, logLevel: 'silent' },
  });
}

describe('the Flex plugin sample (docs/flex-plugin.md)', () => {
  it('shows the newest calls and adds the ones the job writes, live', async () => {
    await system.admin.reset();
    const { agents } = await system.admin.seed({ agents: 4, callsPerAgent: 6, days: 0.002 });
    expect((await syncRecentCalls(system)).done).toBe(true);
    const service = system.twilio.sync.v1.services(system.emulator.config.syncServiceSid);
    const count = (workerSid: string) =>
      service
        .syncMaps(recentCallsMapName(workerSid))
        .syncMapItems.list({ pageSize: 100 })
        .then(
          (i) => i.length,
          () => 0,
        );
    const started = [];
    for (const agent of agents) {
      const before = await count(agent.workerSid); // 0: no call synced yet, so no map either
      const seen: RecentCallItem[][] = [];
      const stop = await startSample(agent, seen, 200);
      started.push({ agent, before, seen, stop });
    }
    expect(started.length).toBeGreaterThan(0);
    for (const s of started) {
      expect(s.seen[0]).toHaveLength(s.before);
      if (s.before === 0) continue; // an empty list, not an error: the view looks for the map again
      // Newest first: descending key order (keys sort by time), as the map holds them.
      const stored = await service.syncMaps(recentCallsMapName(s.agent.workerSid)).syncMapItems.list({ pageSize: 100 });
      const byKeyDesc = stored.sort((a, b) => (a.key < b.key ? 1 : -1)).map((i) => (i.data as RecentCallItem).taskSid);
      expect(s.seen[0].map((c) => c.taskSid)).toEqual(byKeyDesc);
    }
    await system.admin.advanceClock(120);
    expect((await syncRecentCalls(system)).done).toBe(true);
    let grew = 0;
    for (const s of started) {
      const after = await count(s.agent.workerSid);
      if (after > s.before) {
        for (let i = 0; i < 200 && s.seen[s.seen.length - 1].length < after; i++)
          await new Promise((r) => setTimeout(r, 25));
        expect(s.seen[s.seen.length - 1]).toHaveLength(after);
        grew += 1;
      }
      await s.stop();
    }
    expect(grew).toBeGreaterThan(0);
  });

  it('starts with an empty list for an agent without calls, and shows its first call once the job writes it', async () => {
    await system.admin.reset();
    const { agents } = await system.admin.seed({ agents: 1, callsPerAgent: 0, days: 1 });
    const [agent] = agents;
    const seen: RecentCallItem[][] = [];
    const stop = await startSample(agent, seen, 100);
    try {
      expect(seen).toEqual([[]]);
      await system.admin.liveCalls({ workerSid: agent.workerSid, count: 1, talkSeconds: 0 });
      // Handled and completed in the emulator's own time, then past the job's settling lag.
      for (let i = 0; i < 200 && handledCalls(system.emulator).length === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      await system.admin.advanceClock(120);
      expect((await syncRecentCalls(system)).done).toBe(true);
      for (let i = 0; i < 100 && (seen.at(-1)?.length ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(seen.at(-1)).toHaveLength(1);
    } finally {
      await stop();
    }
  });
});
