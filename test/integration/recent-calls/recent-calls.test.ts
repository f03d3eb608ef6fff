/**
 * /recent-calls end to end: the built function under twilio-run, the emulator's seeded Flex workspace synced into Sync
 * by the real job, Flex tokens from the emulator's IAM, and the real SDK reading what Sync holds to compare with.
 */
import { recentCallsMapName } from '../../../src/recent-calls/map-name';
import type { SeededAgent } from '../../../emulator/seed';
import type { RecentCall } from '../../../src/recent-calls/reader';
import { startSystem, syncRecentCalls, type System } from '../../helpers/system';

const DAY_S = 86_400;
/** Items this close to "now" may flip between the test's reading and the function's: left out of comparisons. */
const FLIP_SLACK_MS = 60_000;

let system: System;
let agents: SeededAgent[];

interface Answer {
  status: number;
  headers: Headers;
  body: { calls: RecentCall[]; workerSid: string; nextPageToken: string | null; serverTime: string } & {
    code?: string;
    requestId?: string;
    message?: string;
  };
}

beforeAll(async () => {
  system = await startSystem();
  // Expired items stay readable for 90 days after they expire: the endpoint, not the sweeper, must hide them.
  await system.admin.setLimits({ sweepLagSeconds: 90 * DAY_S });
  agents = (await system.admin.seed({ agents: 4, callsPerAgent: 14, days: 40 })).agents;
  await system.admin.advanceClock(120); // past the job's settling lag
  const run = await syncRecentCalls(system);
  expect(run.done).toBe(true);
}, 60_000);
afterAll(() => system?.stop());

const url = (query: Record<string, string> = {}) => {
  const qs = new URLSearchParams(query).toString();
  return `${system.functions.url}/recent-calls${qs ? `?${qs}` : ''}`;
};

async function answer(response: Response): Promise<Answer> {
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

/** GET with the Flex token as a bearer token. */
async function get(
  token: string | undefined,
  query: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  const auth: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  return answer(await fetch(url(query), { headers: { ...auth, ...headers }, signal: AbortSignal.timeout(15_000) }));
}

async function post(params: Record<string, string>, headers: Record<string, string> = {}) {
  return answer(
    await fetch(url(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(15_000),
    }),
  );
}

async function tokenFor(agent: { identity: string; workerSid: string | null }, roles = ['agent'], ttlSeconds = 3600) {
  return (await system.admin.flexToken({ identity: agent.identity, roles, workerSid: agent.workerSid, ttlSeconds }))
    .token;
}

async function emulatorNow(): Promise<number> {
  return Date.parse((await system.admin.config()).now);
}

/** What Sync holds for the worker (SDK, all items, expired ones included). */
async function storedItems(workerSid: string) {
  const service = system.twilio.sync.v1.services(system.emulator.config.syncServiceSid);
  return service.syncMaps(recentCallsMapName(workerSid)).syncMapItems.list({ pageSize: 100 });
}

/** The calls the endpoint must answer at `nowMs`, newest first, from what Sync holds. */
async function expectedCalls(workerSid: string, nowMs: number) {
  const items = await storedItems(workerSid);
  const live = items.filter((i) => i.dateExpires === null || i.dateExpires.getTime() > nowMs);
  const near = items.filter((i) => i.dateExpires !== null && Math.abs(i.dateExpires.getTime() - nowMs) < FLIP_SLACK_MS);
  // Newest first by item key (the task's creation second, then its SID).
  const order = (a: (typeof items)[number], b: (typeof items)[number]) => (a.key < b.key ? 1 : -1);
  return { all: items, live: live.sort(order), near: new Set(near.map((i) => i.key)) };
}

async function readAll(token: string, pageSize: number, extra: Record<string, string> = {}) {
  const calls: RecentCall[] = [];
  let pageToken: string | null = null;
  let pages = 0;
  do {
    const query: Record<string, string> = { PageSize: String(pageSize), ...extra };
    if (pageToken) query.PageToken = pageToken;
    const res = await get(token, query);
    expect(res.status).toBe(200);
    expect(res.body.calls.length).toBeLessThanOrEqual(pageSize);
    calls.push(...res.body.calls);
    pageToken = res.body.nextPageToken;
    pages += 1;
  } while (pageToken && pages < 100);
  expect(pageToken).toBeNull();
  return { calls, pages };
}

describe('an agent reads its own recent calls', () => {
  it('answers every unexpired call of its map, newest first, with the documented shape', async () => {
    const agent = agents[0];
    const res = await get(await tokenFor(agent));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(['calls', 'nextPageToken', 'serverTime', 'workerSid']);
    expect(res.body.workerSid).toBe(agent.workerSid);
    expect(res.body.nextPageToken).toBeNull();

    const now = Date.parse(res.body.serverTime);
    expect(Math.abs(now - (await emulatorNow()))).toBeLessThan(5000); // the Twilio clock, not the function's
    const { all, live } = await expectedCalls(agent.workerSid, now);
    expect(live.length).toBeGreaterThan(3);
    expect(res.body.calls.map((c) => c.key)).toEqual(live.map((i) => i.key));

    const byKey = new Map(all.map((i) => [i.key, i]));
    for (const call of res.body.calls) {
      expect(Object.keys(call).sort()).toEqual([
        'callSid',
        'direction',
        'durationSeconds',
        'endedAt',
        'expiresAt',
        'from',
        'key',
        'queue',
        'startedAt',
        'taskSid',
        'to',
      ]);
      const item = byKey.get(call.key)!;
      const { callSid, taskSid, direction, from, to, queue, startedAt, endedAt, durationSeconds } = item.data;
      expect(call).toEqual({
        key: item.key,
        callSid,
        taskSid,
        direction,
        from,
        to,
        queue,
        startedAt,
        endedAt,
        durationSeconds,
        expiresAt: item.dateExpires!.toISOString(),
      });
    }
    const keys = res.body.calls.map((c) => c.key);
    expect([...keys].sort().reverse()).toEqual(keys);
  });

  it('takes the token only from Authorization: Bearer; a Token parameter (URL or body) is 400 TOKEN_IN_URL', async () => {
    const agent = agents[1];
    const token = await tokenFor(agent);
    const viaGet = await get(token, { PageSize: '100' });
    expect(viaGet.status).toBe(200);
    const viaPost = await post({ PageSize: '100' }, { Authorization: `Bearer ${token}` });
    expect(viaPost.status).toBe(200);
    expect(viaPost.body.calls).toEqual(viaGet.body.calls);

    // The token is a secret of the request: never in the function's logs.
    expect(system.functions.output.some((line) => line.includes(token))).toBe(false);
    // The runtime merges query and body: a Token anywhere is refused, with or without a Bearer next to it.
    const inUrl = await answer(await fetch(url({ Token: await tokenFor(agent) })));
    expect(inUrl).toMatchObject({ status: 400, body: { code: 'TOKEN_IN_URL' } });
    expect(await post({ Token: token })).toMatchObject({ status: 400, body: { code: 'TOKEN_IN_URL' } });
    expect(await post({ Token: token }, { Authorization: `Bearer ${token}` })).toMatchObject({
      status: 400,
      body: { code: 'TOKEN_IN_URL' },
    });
    const postWithQuery = await answer(
      await fetch(url({ Token: token }), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      }),
    );
    expect(postWithQuery).toMatchObject({ status: 400, body: { code: 'TOKEN_IN_URL' } });
  });

  it('reads one Sync page per answered page, never the whole map', async () => {
    const agent = agents[2];
    const token = await tokenFor(agent);
    const itemLists = async () =>
      (await system.admin.stats()).byRoute['GET /v1/Services/:ServiceSid/Maps/:MapSid/Items'] ?? 0;
    const stored = (await storedItems(agent.workerSid)).length;
    expect(stored).toBeGreaterThan(6);
    for (const size of ['2', '5']) {
      const before = await itemLists();
      const res = await get(token, { PageSize: size });
      expect(res.status).toBe(200);
      expect(res.body.calls).toHaveLength(Number(size));
      expect(await itemLists()).toBe(before + 1);
      const next = await get(token, { PageSize: size, PageToken: res.body.nextPageToken! });
      expect(next.status).toBe(200);
      expect(await itemLists()).toBe(before + 2);
    }
  });

  it('pages through the list with no call lost or repeated', async () => {
    const agent = agents[2];
    const token = await tokenFor(agent);
    const whole = await get(token, { PageSize: '100' });
    expect(whole.body.calls.length).toBeGreaterThan(6);
    for (const size of [1, 3, 4]) {
      const { calls, pages } = await readAll(token, size);
      expect(pages).toBe(Math.ceil(whole.body.calls.length / size));
      expect(calls.map((c) => c.key)).toEqual(whole.body.calls.map((c) => c.key));
    }
    const defaultSize = await get(token);
    expect(defaultSize.body.calls.length).toBe(Math.min(50, whole.body.calls.length));
  });

  it('answers an empty list, not an error, for a worker that has no map', async () => {
    const res = await get(await tokenFor({ identity: 'newcomer', workerSid: 'WK' + 'e'.repeat(32) }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ calls: [], workerSid: 'WK' + 'e'.repeat(32), nextPageToken: null });
  });
});

describe('supervisors and other agents', () => {
  it("lets supervisors and admins read another agent's calls by WorkerSid", async () => {
    const target = agents[3];
    const own = await get(await tokenFor(target), { PageSize: '100' });
    for (const role of ['supervisor', 'admin']) {
      const res = await get(await tokenFor({ identity: `boss-${role}`, workerSid: 'WK' + 'b'.repeat(32) }, [role]), {
        WorkerSid: target.workerSid,
        PageSize: '100',
      });
      expect(res.status).toBe(200);
      expect(res.body.workerSid).toBe(target.workerSid);
      expect(res.body.calls).toEqual(own.body.calls);
    }
  });

  it("refuses an agent asking for another agent's calls (403), but not for its own by WorkerSid", async () => {
    const token = await tokenFor(agents[0]);
    const other = await get(token, { WorkerSid: agents[1].workerSid });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ code: 'WORKER_NOT_ALLOWED', status: 403, requestId: expect.any(String) });
    expect(other.body).not.toHaveProperty('calls');
    expect((await get(token, { WorkerSid: agents[0].workerSid })).status).toBe(200);
  });

  it('does not let a page token of one list page another', async () => {
    const boss = await tokenFor({ identity: 'boss', workerSid: 'WK' + 'b'.repeat(32) }, ['supervisor']);
    const first = await get(boss, { WorkerSid: agents[0].workerSid, PageSize: '1' });
    expect(first.body.nextPageToken).toEqual(expect.any(String));
    const misuse = await get(boss, { WorkerSid: agents[1].workerSid, PageToken: first.body.nextPageToken! });
    expect(misuse).toMatchObject({ status: 400, body: { code: 'PAGE_TOKEN_INVALID' } });
  });
});

describe('refusals', () => {
  it('refuses guest, invalid, expired and missing Flex tokens', async () => {
    const guest = await system.admin.flexToken({ identity: 'visitor', roles: ['guest'], ttlSeconds: 600 });
    expect(await get(guest.token)).toMatchObject({ status: 403, body: { code: 'GUEST_NOT_ALLOWED' } });
    const noWorker = await system.admin.flexToken({
      identity: 'viewer',
      roles: ['agent'],
      workerSid: null,
      ttlSeconds: 600,
    });
    expect(await get(noWorker.token)).toMatchObject({ status: 403, body: { code: 'GUEST_NOT_ALLOWED' } });

    expect(await get('eyJhbGciOiJIUzI1NiJ9.eyJmb28iOiJiYXIifQ.c2lnbmF0dXJl')).toMatchObject({
      status: 401,
      body: { code: 'FLEX_TOKEN_INVALID' },
    });
    expect(await get('not a token!')).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST' } });
    expect(await get(await tokenFor(agents[0], ['agent'], -60))).toMatchObject({
      status: 401,
      body: { code: 'FLEX_TOKEN_EXPIRED' },
    });
    expect(await get(undefined)).toMatchObject({ status: 401, body: { code: 'CREDENTIALS_MISSING' } });
    expect(await get(undefined, {}, { Authorization: 'Basic dXNlcjpwYXNz' })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_REQUEST' },
    });
  });

  it('refuses bad parameters with stable codes', async () => {
    const token = await tokenFor(agents[0]);
    for (const size of ['0', '101', 'abc', '-1', '2.5']) {
      expect(await get(token, { PageSize: size })).toMatchObject({ status: 400, body: { code: 'PAGE_SIZE_INVALID' } });
    }
    // The runtime's query parser makes objects and arrays of brackets; String() of {toString: '1'} would throw.
    const bracketed: Array<Record<string, string>> = [
      { 'PageSize[toString]': '1' },
      { 'PageSize[]': '5' },
      { 'PageSize[a]': '5' },
    ];
    for (const query of bracketed) {
      expect(await get(token, query)).toMatchObject({ status: 400, body: { code: 'PAGE_SIZE_INVALID' } });
    }
    const jsonBody = await fetch(url(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ PageSize: { toString: 1 } }),
      signal: AbortSignal.timeout(15_000),
    });
    expect(await answer(jsonBody)).toMatchObject({ status: 400, body: { code: 'PAGE_SIZE_INVALID' } });
    const forged = (key: string) =>
      Buffer.from(JSON.stringify({ v: 2, w: agents[0].workerSid, k: key })).toString('base64url');
    for (const pageToken of [
      'garbage',
      'e30',
      Buffer.from('{"v":1}').toString('base64url'),
      'x'.repeat(2000),
      forged('not-an-item-key'),
      forged(''),
    ]) {
      expect(await get(token, { PageToken: pageToken })).toMatchObject({
        status: 400,
        body: { code: 'PAGE_TOKEN_INVALID' },
      });
    }
    expect(await get(token, { WorkerSid: 'WK123' })).toMatchObject({
      status: 400,
      body: { code: 'WORKER_SID_INVALID' },
    });
  });

  it('refuses browser origins outside ALLOWED_ORIGINS', async () => {
    const res = await get(await tokenFor(agents[0]), {}, { Origin: 'https://evil.example' });
    expect(res).toMatchObject({ status: 403, body: { code: 'ORIGIN_NOT_ALLOWED' } });
    const flex = await get(await tokenFor(agents[0]), {}, { Origin: 'https://flex.twilio.com' });
    expect(flex.status).toBe(200);
    expect(flex.headers.get('access-control-allow-origin')).toBe('https://flex.twilio.com');
  });
});

// Last: these move the emulator's clock.
describe('expiry', () => {
  it('hides items whose date_expires has passed while Sync still holds them, and keeps paging consistent', async () => {
    const agent = agents[0];
    const before = await get(await tokenFor(agent), { PageSize: '100' });
    const firstPage = await get(await tokenFor(agent), { PageSize: '2' });
    expect(firstPage.body.nextPageToken).toEqual(expect.any(String));

    // 12 days on, the calls of the oldest 12 of the last 30 days have expired; the rest have not.
    await system.admin.advanceClock(12 * DAY_S);
    const token = await tokenFor(agent); // the earlier tokens expired with the jump
    const res = await get(token, { PageSize: '100' });
    expect(res.status).toBe(200);
    const now = Date.parse(res.body.serverTime);
    const { all, live, near } = await expectedCalls(agent.workerSid, now);
    const expiredKeys = all.filter((i) => i.dateExpires!.getTime() <= now).map((i) => i.key);
    expect(expiredKeys.length).toBeGreaterThan(0); // some expired...
    expect(live.length).toBeGreaterThan(0); // ...some not
    expect(all.length).toBe(before.body.calls.length); // and Sync still holds every one of them
    const answered = res.body.calls.map((c) => c.key).filter((k) => !near.has(k));
    expect(answered).toEqual(live.map((i) => i.key).filter((k) => !near.has(k)));
    for (const key of expiredKeys) if (!near.has(key)) expect(answered).not.toContain(key);
    for (const call of res.body.calls) expect(Date.parse(call.expiresAt!)).toBeGreaterThan(now);

    // The page after the first one (read before the jump) continues after it, without the calls that expired since.
    const seen = new Set(firstPage.body.calls.map((c) => c.key));
    const next = await get(token, { PageSize: '100', PageToken: firstPage.body.nextPageToken! });
    expect(next.status).toBe(200);
    const lastSeen = firstPage.body.calls[firstPage.body.calls.length - 1].key;
    expect(next.body.calls.map((c) => c.key)).toEqual(
      res.body.calls.filter((c) => !seen.has(c.key) && c.key < lastSeen).map((c) => c.key),
    );
  });

  it('answers an empty list once every call has expired, though the map still holds them', async () => {
    await system.admin.advanceClock(31 * DAY_S);
    const agent = agents[1];
    const res = await get(await tokenFor(agent));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ calls: [], nextPageToken: null });
    expect((await storedItems(agent.workerSid)).length).toBeGreaterThan(0);
  });
});

describe('configuration', () => {
  let other: System;
  beforeAll(async () => {
    other = await startSystem({ env: { RECENT_CALLS_SUPERVISOR_ROLES: 'team-lead' } });
  }, 60_000);
  afterAll(() => other?.stop());

  const getFrom = async (sys: System, token: string, query: Record<string, string> = {}) => {
    const qs = new URLSearchParams(query).toString();
    const res = await fetch(`${sys.functions.url}/recent-calls${qs ? `?${qs}` : ''}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const mint = async (sys: System, identity: string, workerSid: string, roles: string[]) =>
    (await sys.admin.flexToken({ identity, roles, workerSid, ttlSeconds: 600 })).token;

  it('RECENT_CALLS_SUPERVISOR_ROLES names the roles that may read other agents', async () => {
    const target = 'WK' + 'c'.repeat(32);
    const lead = await mint(other, 'lead', 'WK' + 'd'.repeat(32), ['team-lead']);
    expect(await getFrom(other, lead, { WorkerSid: target })).toMatchObject({
      status: 200,
      body: { workerSid: target, calls: [] },
    });
    const supervisor = await mint(other, 'sup', 'WK' + 'd'.repeat(32), ['supervisor']);
    expect(await getFrom(other, supervisor, { WorkerSid: target })).toMatchObject({
      status: 403,
      body: { code: 'WORKER_NOT_ALLOWED' },
    });
  });

  it('a wrong SYNC_SERVICE_SID is a configuration error, not an empty list', async () => {
    const wrong = await startSystem({ env: { SYNC_SERVICE_SID: 'IS' + '0'.repeat(32) } });
    try {
      const token = await mint(wrong, 'alice', 'WK' + 'c'.repeat(32), ['agent']);
      expect(await getFrom(wrong, token)).toMatchObject({ status: 500, body: { code: 'CONFIG_INVALID' } });
    } finally {
      await wrong.stop();
    }
  }, 60_000);
});
