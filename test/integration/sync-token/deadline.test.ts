/**
 * /sync-token within the invocation's deadline: IAM and the service's ACL check each take a budget carved from the
 * one deadline the wrapper makes, so however slow Twilio is, the function answers its own JSON error before the
 * platform's 10 s limit would cut it off. Slowness comes from the emulator's latency setting (no sleep here); the
 * time asserted is the one the function itself logs, with the platform's limit as the bound.
 */
import { FUNCTION_TIME_LIMIT_MS, ROOT_MARGIN_MS } from '../../../src/twilio/deadline';
import { IAM_BUDGET_MS } from '../../../src/tokens/caller';
import { startSystem, type System } from '../../helpers/system';
import { call, IAM_ROUTE, workerSid } from './support';

const ROOT_MS = FUNCTION_TIME_LIMIT_MS - ROOT_MARGIN_MS;

let system: System;
// A fresh system: no earlier request has cached the service's ACL setting, so the check really runs here.
beforeAll(async () => {
  system = await startSystem();
});
afterAll(() => system?.stop());
beforeEach(() => system.admin.reset());

async function flexToken() {
  return (await system.admin.flexToken({ identity: 'slow-agent', roles: ['agent'], workerSid: workerSid() })).token;
}

/** The wrapper's last line for the request answered with this id: its status, code and measured ms. */
function outcomeOf(requestId: string | null) {
  for (const line of system.functions.output) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.requestId === requestId && (entry.msg === 'request failed' || entry.msg === 'request done')) {
        return entry as { msg: string; status: number; code?: string; ms: number };
      }
    } catch {
      // not a log line
    }
  }
  return undefined;
}

async function outcome(requestId: string | null) {
  // stdout reaches this process asynchronously: wait (bounded) for the line.
  for (let i = 0; i < 200; i++) {
    const found = outcomeOf(requestId);
    if (found) return found;
    await new Promise((resolve) => setImmediate(resolve));
    await system.admin.stats();
  }
  throw new Error(`no outcome logged for ${requestId}`);
}

function expectUpstreamError(reply: Awaited<ReturnType<typeof call>>) {
  expect(reply.status).toBe(503);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.headers.get('retry-after')).toBe('5');
  expect(reply.body).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503 });
  expect(reply.body.requestId).toBe(reply.headers.get('x-request-id'));
}

describe('/sync-token within its deadline', () => {
  it('IAM answers slowly and the ACL check is slower still: the two together end within the root', async () => {
    const token = await flexToken();
    // IAM answers (well inside its budget); the service lookup after it cannot finish in its own budget.
    await system.admin.faults({ latencyMs: 2500, families: ['iam', 'sync'] });
    const reply = await call(system, { Token: token });
    expectUpstreamError(reply);
    const stats = await system.admin.stats();
    expect(stats.byRoute[IAM_ROUTE]).toBe(1); // answered, once
    // Counted on arrival: IAM's request and the service lookup that was still waiting when the function gave up.
    expect(stats.faults.delayed).toBe(2);
    const logged = await outcome(reply.headers.get('x-request-id'));
    expect(logged).toMatchObject({ msg: 'request failed', status: 503, code: 'UPSTREAM_UNAVAILABLE' });
    expect(logged.ms).toBeLessThan(ROOT_MS);
  });

  it('IAM never answers in time: a JSON 503 when its budget runs out, not a platform cut-off at 10 s', async () => {
    // Longer than any one attempt may wait (5 s): every attempt times out.
    const token = await flexToken();
    await system.admin.faults({ latencyMs: 6000, families: ['iam', 'sync'] });
    const reply = await call(system, { Token: token });
    expectUpstreamError(reply);
    const logged = await outcome(reply.headers.get('x-request-id'));
    expect(logged).toMatchObject({ msg: 'request failed', status: 503, code: 'UPSTREAM_UNAVAILABLE' });
    // IAM's budget was spent (every attempt timed out), and the answer still left before the root ended.
    expect(logged.ms).toBeGreaterThanOrEqual(IAM_BUDGET_MS - 100);
    expect(logged.ms).toBeLessThan(ROOT_MS);
    expect(ROOT_MS).toBeLessThan(FUNCTION_TIME_LIMIT_MS);
  });
});
