/**
 * Reads stop between pages when one more page would end past the reads' deadline (a fake clock and a fake client
 * whose every page takes 400 ms): the window is then reported out of budget, like an overflow, and no request is
 * started that would time out.
 */
import type { Twilio } from 'twilio';
import { readCallTimings } from '../../../src/recent-calls/calls-source';
import { readCompletions } from '../../../src/recent-calls/events-source';
import { PageBudget } from '../../../src/recent-calls/paging';
import { Deadline } from '../../../src/twilio/deadline';

const PAGE_MS = 400;
const FROM = Date.parse('2026-03-01T00:00:00Z');

/** A client whose list pages (Events and Calls alike) each take 400 ms on the fake clock: `pages` pages of `perPage`. */
function fakeClient(pages: number, perPage: number) {
  const clock = { t: 0 };
  let requests = 0;
  const page = (n: number): Record<string, unknown> => {
    const items = Array.from({ length: perPage }, (_, i) => {
      const hex = String(n * 1000 + i).padStart(32, '0');
      return {
        sid: `EV${hex}`,
        event_type: 'reservation.completed',
        event_date_ms: FROM + n * 1000 + i,
        event_data: {
          task_channel_unique_name: 'voice',
          worker_sid: `WK${'a'.repeat(32)}`,
          task_sid: `WT${hex}`,
          task_date_created: String(Math.floor(FROM / 1000)),
          task_attributes: JSON.stringify({ call_sid: `CA${hex}`, direction: 'inbound' }),
        },
        start_time: new Date(FROM).toUTCString(),
      };
    });
    const next = n < pages ? `https://example.invalid/list?Page=${n + 1}` : null;
    return { events: items, calls: items, meta: { next_page_url: next } };
  };
  const client = {
    accountSid: 'AC' + '0'.repeat(32),
    request: async (opts: { uri: string }) => {
      requests += 1;
      clock.t += PAGE_MS;
      return { statusCode: 200, body: page(Number(/[?&]Page=(\d+)/.exec(opts.uri)?.[1] ?? 1)), headers: {} };
    },
  } as unknown as Twilio;
  return { client, clock, requests: () => requests };
}

describe('page budget', () => {
  it('events: stops before a page that would end past the deadline; reports what it read as a lower bound', async () => {
    const { client, clock, requests } = fakeClient(5, 10);
    const budget = new PageBudget(new Deadline(1000, () => clock.t));
    const read = await readCompletions(client, {
      workspaceSid: 'WS' + '0'.repeat(32),
      fromMs: FROM,
      toMs: FROM + 3600_000,
      maxEvents: 10_000,
      budget,
    });
    expect(read).toMatchObject({ outOfBudget: true, overflow: false, completions: [], pages: 2, eventsRead: 20 });
    expect(read.completionsSeen).toBe(20); // a lower bound of what the window holds
    expect(requests()).toBe(2); // the third page was never requested
    expect(clock.t).toBeLessThanOrEqual(1000);
  });

  it('events: a window read whole within the deadline is not out of budget', async () => {
    const { client, clock } = fakeClient(2, 10);
    const read = await readCompletions(client, {
      workspaceSid: 'WS' + '0'.repeat(32),
      fromMs: FROM,
      toMs: FROM + 3600_000,
      maxEvents: 10_000,
      budget: new PageBudget(new Deadline(1000, () => clock.t)),
    });
    expect(read).toMatchObject({ outOfBudget: false, overflow: false, pages: 2, eventsRead: 20, completionsSeen: 20 });
    expect(read.completions).toHaveLength(20);
  });

  it('events: nothing is requested when even the first page would start past the deadline', async () => {
    const { client, clock, requests } = fakeClient(2, 10);
    const budget = new PageBudget(new Deadline(1000, () => clock.t));
    clock.t = 1000;
    const read = await readCompletions(client, {
      workspaceSid: 'WS' + '0'.repeat(32),
      fromMs: FROM,
      toMs: FROM + 3600_000,
      maxEvents: 10_000,
      budget,
    });
    expect(read).toMatchObject({ outOfBudget: true, pages: 0, eventsRead: 0 });
    expect(requests()).toBe(0);
  });

  it('calls: the same rule between pages', async () => {
    const { client, clock, requests } = fakeClient(5, 10);
    const read = await readCallTimings(client, {
      fromMs: FROM,
      toMs: FROM + 3600_000,
      maxCalls: 20_000,
      budget: new PageBudget(new Deadline(1000, () => clock.t)),
    });
    expect(read).toMatchObject({ outOfBudget: true, truncated: false, pages: 2 });
    expect(requests()).toBe(2);
  });
});
