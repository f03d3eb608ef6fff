/**
 * The admin API driving the emulator: seed (agents, calls, events), Flex tokens for seeded agents answered by IAM,
 * the clock moving event windows, reset. Twilio-side effects are checked with the real SDK.
 */
import { seed } from '../../emulator/seed';
import { useEmulator } from '../helpers/emulator';

const t = useEmulator();

const DAY = 24 * 3600 * 1000;
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const workspace = () => t.client.taskrouter.v1.workspaces(t.emulator.config.workspaceSid);

/** IAM token validation, the call twilio-flex-token-validator makes, through the SDK's own HTTP path. */
async function validate(token: string): Promise<Record<string, any>> {
  const response = await t.client.request({
    method: 'post',
    uri: `https://iam.twilio.com/v1/Accounts/${t.emulator.config.accountSid}/Tokens/validate`,
    data: { token },
    headers: { 'Content-Type': 'application/json' },
  });
  expect(response.statusCode).toBe(200);
  return response.body as Record<string, any>;
}

describe('seed', () => {
  it('creates Flex agents with escaped identities, their calls and events', async () => {
    const result = await t.admin.seed({ agents: 3, callsPerAgent: 4, days: 10 });
    const identities = result.agents.map((a) => a.identity);
    expect(identities).toEqual(['alice_40example_2Ecom', 'bob_40example_2Ecom', 'carol_40example_2Ecom']);
    expect(result.agents[0]).toMatchObject({ friendlyName: 'alice@example.com', roles: ['agent'] });
    expect(result.agents[0].workerSid).toMatch(/^WK[0-9a-f]{32}$/);
    expect(result).toMatchObject({ calls: 12, handledCalls: 12, abandonedCalls: 0, chatTasks: 0 });
    expect((await t.client.calls.list({ pageSize: 1000 })).length).toBe(12);
    expect(t.emulator.state.taskrouter.events).toHaveLength(result.events);
    // At least 8 events per handled call: task created / queued / wrapup / completed,
    // reservation created / accepted / wrapup / completed.
    expect(result.events).toBeGreaterThanOrEqual(12 * 8);
  });

  it('adds new unique agents when seeded again, never duplicates', async () => {
    const first = await t.admin.seed({ agents: 26, callsPerAgent: 1, days: 1 });
    const second = await t.admin.seed({ agents: 3, callsPerAgent: 1, days: 1 });
    const identities = second.agents.map((a) => a.identity);
    expect(identities).toEqual(['alice2_40example_2Ecom', 'bob2_40example_2Ecom', 'carol2_40example_2Ecom']);
    const workers = await workspace().workers.list({ pageSize: 100 });
    expect(workers).toHaveLength(29);
    expect(new Set(workers.map((w) => w.friendlyName)).size).toBe(29);
    const contactUris = workers.map((w) => JSON.parse(w.attributes).contact_uri);
    expect(new Set(contactUris).size).toBe(29);
    expect((await t.client.calls.list({ pageSize: 1000 })).length).toBe(first.calls + second.calls);
  });

  it('is deterministic for the same state and request', async () => {
    const a = await t.admin.seed({ agents: 2, callsPerAgent: 5, days: 3 });
    const callsA = (await t.client.calls.list()).map((c) => [c.sid, c.from, c.to, c.duration]);
    await t.admin.reset();
    const b = await t.admin.seed({ agents: 2, callsPerAgent: 5, days: 3 });
    const callsB = (await t.client.calls.list()).map((c) => [c.sid, c.from, c.to, c.duration]);
    expect(b.agents).toEqual(a.agents);
    expect(b.seed).toBe(a.seed);
    expect(callsB).toEqual(callsA);
  });

  it('spreads calls over the days asked, some beyond the 30-day retention', async () => {
    await t.admin.seed({ agents: 2, callsPerAgent: 20, days: 40 });
    const now = Date.now();
    const starts = (await t.client.calls.list({ pageSize: 1000 })).map((c) => c.startTime.getTime());
    expect(Math.max(...starts)).toBeLessThan(now);
    expect(Math.min(...starts)).toBeGreaterThan(now - 40 * DAY - 3600_000);
    expect(starts.filter((t) => t < now - 30 * DAY).length).toBeGreaterThan(0);
    expect(starts.filter((t) => t > now - 10 * DAY).length).toBeGreaterThan(0);
  });

  // Costs as ratios measured in the same run, not as times: the machine is shared and its speed varies. Ten times
  // the calls must cost about ten times the seeding (not a hundred), and a page of events must cost about the same
  // over ten times the events (the queries do not grow with what the emulator holds).
  it('seeds in time linear in the calls, and an Events page costs about the same over ten times the events', async () => {
    const measure = async (agents: number) => {
      await t.admin.reset();
      let cpu = process.cpuUsage();
      const result = seed(t.emulator, { agents, callsPerAgent: 25, days: 40 });
      const seedMs = cpuMs(cpu);
      const since = new Date(Date.now() - 30 * DAY);
      const pageMs: number[] = [];
      for (let i = 0; i < 5; i++) {
        cpu = process.cpuUsage();
        const page = await workspace().events.page({ startDate: since, pageSize: 1000 });
        expect(page.instances).toHaveLength(1000);
        pageMs.push(cpuMs(cpu)); // both sides of the HTTP call: the emulator's scan and rendering, the SDK's parsing
      }
      const agentMs: number[] = [];
      for (let i = 0; i < 5; i++) {
        cpu = process.cpuUsage();
        const mine = await workspace().events.list({
          startDate: since,
          workerSid: result.agents[7].workerSid,
          pageSize: 1000,
        });
        expect(mine.length).toBeGreaterThan(0);
        agentMs.push(cpuMs(cpu));
      }
      // The least of five: the process's CPU clock also counts other threads (the collector after a big seed),
      // which only ever adds to a measurement.
      return { result, seedMs, pageMs: Math.min(...pageMs), agentMs: Math.max(1, Math.min(...agentMs)) };
    };
    await measure(20); // warm-up: the first seed and the first pages load code
    const small = await measure(20);
    const large = await measure(200);
    expect(large.result.handledCalls).toBe(5000);
    expect(large.result.events).toBeGreaterThan(30_000);
    expect(large.seedMs / small.seedMs).toBeLessThan(25); // quadratic would be about 100
    expect(large.pageMs / small.pageMs).toBeLessThan(3);
    expect(large.agentMs / small.agentMs).toBeLessThan(6); // one agent's events among ten times as many
  });
});

describe('flex tokens and IAM', () => {
  it('mints a token for a seeded agent that IAM validates with its worker SID', async () => {
    const { agents } = await t.admin.seed({ agents: 2, callsPerAgent: 0, days: 1 });
    const bob = agents[1];
    const { token } = await t.admin.flexToken({ identity: bob.identity, ttlSeconds: 3600 });
    const answer = await validate(token);
    expect(answer).toMatchObject({ valid: true, code: 0, identity: bob.identity, roles: ['agent'] });
    expect(answer.worker_sid).toBe(bob.workerSid);
    // twilio/twilio-flex-token-validator fixtures: raw user name in realm_user_id, expiration with milliseconds.
    expect(answer.realm_user_id).toBe(bob.friendlyName);
    expect(answer.expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Object.keys(answer).sort()).toEqual([
      'code',
      'expiration',
      'identity',
      'message',
      'realm_user_id',
      'roles',
      'valid',
      'worker_sid',
    ]);
    // A Flex token is a JWE (Flex "User Token" docs): five dot-separated base64url segments, opaque.
    expect(token.split('.')).toHaveLength(5);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it("answers 404 / 20404 for an account SID that is not the caller's (validator fixture)", async () => {
    const response = await t.client.request({
      method: 'post',
      uri: `https://iam.twilio.com/v1/Accounts/AC${'9'.repeat(32)}/Tokens/validate`,
      data: { token: 'x' },
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.statusCode).toBe(404);
    expect(response.body).toMatchObject({
      code: 20404,
      status: 404,
      message: `The requested resource /Accounts/AC${'9'.repeat(32)}/Tokens/validate was not found`,
    });
  });

  it('answers valid: false for expired and unknown tokens, and no worker SID for a guest', async () => {
    const { agents } = await t.admin.seed({ agents: 1, callsPerAgent: 0, days: 1 });
    const { token } = await t.admin.flexToken({ identity: agents[0].identity, ttlSeconds: 60 });
    expect((await validate(token)).valid).toBe(true);
    await t.admin.advanceClock(61);
    const refusal = { expiration: null, realm_user_id: null, identity: null, roles: null, worker_sid: null };
    expect(await validate(token)).toEqual({
      valid: false,
      code: 20104,
      message: 'Access Token expired or expiration date invalid',
      ...refusal,
    });

    expect(await validate('eyJhbGciOiJIUzI1NiJ9.e30.bm90LWEtdG9rZW4')).toEqual({
      valid: false,
      code: 20101,
      message: 'Invalid Access Token',
      ...refusal,
    });

    const guest = await t.admin.flexToken({ identity: 'visitor', roles: ['guest'] });
    const answer = await validate(guest.token);
    expect(answer).toMatchObject({ valid: true, identity: 'visitor', roles: ['guest'] });
    expect(answer.worker_sid).toBeNull();
  });
});

describe('clock and reset', () => {
  it('moves the Events windows with the clock', async () => {
    const result = await t.admin.seed({ agents: 2, callsPerAgent: 6, days: 0 });
    expect((await workspace().events.list({ pageSize: 1000 })).length).toBeGreaterThan(0);
    expect(await workspace().events.list({ minutes: 60, pageSize: 1000 })).toHaveLength(result.events);

    await t.admin.advanceClock(40 * 60);
    expect(await workspace().events.list({ pageSize: 1000 })).toEqual([]);
    expect(await workspace().events.list({ minutes: 90, pageSize: 1000 })).toHaveLength(result.events);

    // 31 days later the whole seed is past the retention.
    await t.admin.advanceClock(31 * 24 * 3600);
    expect(await workspace().events.list({ startDate: new Date(Date.now() - 90 * DAY), pageSize: 1000 })).toEqual([]);
    const [anyEvent] = t.emulator.state.taskrouter.events;
    await expect(workspace().events(anyEvent.sid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
  });

  it('reset empties workers, events and calls', async () => {
    await t.admin.seed({ agents: 2, callsPerAgent: 3, days: 1 });
    await t.admin.reset();
    expect(await workspace().workers.list()).toEqual([]);
    expect(await workspace().events.list({ minutes: 43_200 })).toEqual([]);
    expect(await t.client.calls.list()).toEqual([]);
    expect((await workspace().fetch()).sid).toBe(t.emulator.config.workspaceSid);
    // Identities start over after a reset.
    const again = await t.admin.seed({ agents: 1, callsPerAgent: 0, days: 1 });
    expect(again.agents[0].identity).toBe('alice_40example_2Ecom');
  });
});
