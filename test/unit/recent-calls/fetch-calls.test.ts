/**
 * fetchCalls (calls-source.ts): named calls fetched by SID, eight at a time. A stub client stands in for Twilio here:
 * the point is which request fails (the first of a hundred) and what the other workers do after it, which the
 * emulator's fault injection (a rate, not a chosen request) cannot arrange.
 */
import type { Twilio } from 'twilio';
import { fetchCalls } from '../../../src/recent-calls/calls-source';

const sid = (n: number) => `CA${n.toString(16).padStart(32, '0')}`;

function stubClient(answer: (n: number) => { statusCode: number; body: unknown }) {
  let sent = 0;
  let inFlight = 0;
  const client = {
    accountSid: 'AC' + '0'.repeat(32),
    request: async () => {
      const n = sent++;
      inFlight += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return { ...answer(n), headers: {} };
    },
  } as unknown as Twilio;
  return { client, sent: () => sent, inFlight: () => inFlight };
}

const call = (n: number) => ({
  sid: sid(n),
  start_time: 'Mon, 16 Nov 2026 01:19:09 +0000',
  end_time: 'Mon, 16 Nov 2026 01:29:09 +0000',
  duration: '600',
});

describe('fetchCalls', () => {
  it('fetches each named call, leaves out the ones Twilio no longer has, and stops at its cap', async () => {
    const stub = stubClient((n) => (n % 10 === 3 ? { statusCode: 404, body: {} } : { statusCode: 200, body: call(n) }));
    const sids = Array.from({ length: 150 }, (_, i) => sid(i));
    const { calls, requests } = await fetchCalls(stub.client, sids, { max: 40 });
    expect(requests).toBe(40);
    expect(stub.sent()).toBe(40);
    expect(calls.size).toBe(36); // 4 of the 40 answered 404
    expect(calls.get(sid(0))).toMatchObject({ durationSeconds: 600 });
  });

  it('after one fails, the others stop after the request they are in, and all have ended when it throws', async () => {
    const stub = stubClient((n) =>
      n === 0 ? { statusCode: 503, body: { code: 20503, status: 503 } } : { statusCode: 200, body: call(n) },
    );
    const sids = Array.from({ length: 100 }, (_, i) => sid(i));
    await expect(fetchCalls(stub.client, sids)).rejects.toMatchObject({ status: 503 });
    expect(stub.inFlight()).toBe(0);
    expect(stub.sent()).toBeLessThanOrEqual(16); // the first eight, and at most one more each
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stub.sent()).toBeLessThanOrEqual(16); // nothing sent after it answered
  });
});
