/**
 * The paging logic of /recent-calls without servers: readRecentCallsPage over an in-memory lister that answers like
 * Sync's item list with `Order=desc`, `From` and `Bounds=exclusive` (the emulator test in
 * test/integration/recent-calls/reader.test.ts checks the same against the emulator over HTTP). Here: any map,
 * any page size, calls arriving and expiring between pages, and items another writer shaped differently.
 */
import fc from 'fast-check';
import { recentCallItemKey } from '../../../src/recent-calls/item-key';
import { decodePageToken, encodePageToken } from '../../../src/recent-calls/page-token';
import { readRecentCallsPage, type ItemLister, type StoredItem } from '../../../src/recent-calls/reader';
import { MapReadOutOfTime } from '../../../src/recent-calls/read-errors';
import { Deadline } from '../../../src/twilio/deadline';
import { answered, answeredAsync } from '../../helpers/answered';

const WK = 'WK' + '1'.repeat(32);
const OTHER_WK = 'WK' + '2'.repeat(32);
const T0 = Date.parse('2025-03-01T12:00:00Z');
const wt = (n: number) => 'WT' + n.toString(16).padStart(32, '0');

function item(
  task: number,
  createdMs: number,
  expiresMs: number | null,
  data: Record<string, unknown> = {},
): StoredItem {
  return {
    key: recentCallItemKey(wt(task), Math.floor(createdMs / 1000)),
    data: { callSid: null, taskSid: wt(task), startedAt: new Date(createdMs).toISOString(), ...data },
    dateExpires: expiresMs === null ? null : new Date(expiresMs),
    dateCreated: new Date(createdMs),
  };
}

/** Sync's list with Order=desc over `items()` (read on every request, so the map may change between pages). */
function lister(items: () => StoredItem[]): ItemLister & { requests: number } {
  const fn = (async ({ pageSize, afterKey }) => {
    fn.requests += 1;
    const sorted = [...items()].sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
    const rest = afterKey === undefined ? sorted : sorted.filter((i) => i.key < afterKey);
    const page = rest.slice(0, pageSize);
    return { instances: page, nextPageUrl: rest.length > pageSize ? 'next' : undefined, nextPage: () => undefined };
  }) as ItemLister & { requests: number };
  fn.requests = 0;
  return fn;
}

async function readAll(items: () => StoredItem[], nowMs: () => number, pageSize: number): Promise<string[]> {
  const list = lister(items);
  const keys: string[] = [];
  let after;
  for (let i = 0; i < 1000; i++) {
    const page = await readRecentCallsPage(list, { workerSid: WK, nowMs, pageSize, after });
    keys.push(...page.calls.map((c) => c.key));
    if (!page.nextPageToken) return keys;
    after = decodePageToken(page.nextPageToken, WK);
  }
  throw new Error('did not end');
}

describe('readRecentCallsPage', () => {
  it('answers newest key first, leaves out what expired at now (Twilio clock), keeps items without expiry', async () => {
    const items = [
      item(1, T0 - 3000, T0 + 10),
      item(2, T0 - 1000, T0 + 10),
      item(3, T0 - 2000, T0),
      item(4, T0 - 5000, null),
    ];
    const page = await readRecentCallsPage(
      lister(() => items),
      { workerSid: WK, nowMs: () => T0, pageSize: 10 },
    );
    expect(page.calls.map((c) => c.taskSid)).toEqual([wt(2), wt(1), wt(4)]);
    expect(page.calls[2].expiresAt).toBeNull();
    expect(page.nextPageToken).toBeNull();
  });

  it('tolerates items shaped by another writer, and skips keys that are not of the contract', async () => {
    const odd: StoredItem = { ...item(1, T0, null), data: { startedAt: 'yesterday', durationSeconds: 'long' } };
    const foreign: StoredItem = { key: 'CA' + '9'.repeat(32), data: {}, dateExpires: null, dateCreated: new Date(T0) };
    const { calls } = await readRecentCallsPage(
      lister(() => [odd, foreign]),
      { workerSid: WK, nowMs: () => T0, pageSize: 5 },
    );
    expect(calls).toEqual([
      {
        key: odd.key,
        callSid: null,
        taskSid: null,
        direction: null,
        from: null,
        to: null,
        queue: null,
        startedAt: new Date(T0).toISOString(),
        endedAt: null,
        durationSeconds: null,
        expiresAt: null,
      },
    ]);
  });

  it('pages any map with no call lost or repeated, for any page size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          fc.record({
            task: fc.integer({ min: 1, max: 0xffff }),
            ageS: fc.integer({ min: 0, max: 4000 }),
            ttlS: fc.integer({ min: -5, max: 40 }),
          }),
          {
            maxLength: 60,
            selector: (s) => s.task,
          },
        ),
        fc.integer({ min: 1, max: 12 }),
        async (specs, pageSize) => {
          // Expiry follows age (older calls expire first), as start + TTL makes it.
          const items = specs.map((s) =>
            item(s.task, T0 - s.ageS * 1000, s.ageS > 3000 ? T0 - 1 : T0 + (s.ttlS + 10) * 1000),
          );
          const live = items
            .filter((i) => i.dateExpires!.getTime() > T0)
            .sort((a, b) => (a.key < b.key ? 1 : -1))
            .map((i) => i.key);
          expect(
            await readAll(
              () => items,
              () => T0,
              pageSize,
            ),
          ).toEqual(live);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads one Sync page per page in the common case, and stops at the first expired item', async () => {
    const items = Array.from({ length: 300 }, (_, i) => item(i + 1, T0 - i * 60_000, i < 250 ? T0 + 1000 : T0 - 1));
    const list = lister(() => items);
    const first = await readRecentCallsPage(list, { workerSid: WK, nowMs: () => T0, pageSize: 20 });
    expect(first.calls).toHaveLength(20);
    expect(list.requests).toBe(1);
    // The page that reaches the expired items: 240 … 249, then the first expired one ends the read.
    const tail = await readRecentCallsPage(list, {
      workerSid: WK,
      nowMs: () => T0,
      pageSize: 20,
      after: { workerSid: WK, key: items[239].key },
    });
    expect(tail.calls.map((c) => c.taskSid)).toEqual(Array.from({ length: 10 }, (_, i) => wt(241 + i)));
    expect(tail.nextPageToken).toBeNull();
    expect(list.requests).toBe(2);
  });

  it('continues after the last call seen when calls arrive or expire between pages', async () => {
    let items = Array.from({ length: 10 }, (_, i) => item(i, T0 - i * 60_000, T0 + (10 - i) * 1000));
    const list = lister(() => items);
    const first = await readRecentCallsPage(list, { workerSid: WK, nowMs: () => T0, pageSize: 4 });
    expect(first.calls.map((c) => c.taskSid)).toEqual([0, 1, 2, 3].map(wt));
    // A new call arrives at the head, and 8 and 9 (the oldest) expire.
    items = [item(99, T0 + 1000, T0 + 99_000), ...items];
    const second = await readRecentCallsPage(list, {
      workerSid: WK,
      nowMs: () => T0 + 2500,
      pageSize: 4,
      after: decodePageToken(first.nextPageToken, WK),
    });
    expect(second.calls.map((c) => c.taskSid)).toEqual([4, 5, 6, 7].map(wt));
    expect(second.nextPageToken).toBeNull();
  });
});

describe('page tokens', () => {
  const key = recentCallItemKey(wt(1), Math.floor(T0 / 1000));

  it('round-trip, and belong to one worker list', () => {
    const token = encodePageToken({ workerSid: WK, key });
    expect(decodePageToken(token, WK)).toEqual({ workerSid: WK, key });
    expect(answered(() => decodePageToken(token, OTHER_WK))).toMatchObject({ status: 400, code: 'PAGE_TOKEN_INVALID' });
  });

  it('refuses anything this endpoint did not issue', () => {
    const bad = [
      '',
      'a b',
      'x'.repeat(1025),
      Buffer.from('[]').toString('base64url'),
      Buffer.from(JSON.stringify({ v: 1, w: WK, t: T0, k: key })).toString('base64url'),
      Buffer.from(JSON.stringify({ v: 2, w: WK, k: '' })).toString('base64url'),
      Buffer.from(JSON.stringify({ v: 2, w: 'WK1', k: key })).toString('base64url'),
      123,
    ];
    for (const token of bad) {
      expect(answered(() => decodePageToken(token, WK))).toMatchObject({ status: 400, code: 'PAGE_TOKEN_INVALID' });
    }
  });
});

describe('a read out of time', () => {
  it('stops between pages once the deadline has passed: MapReadOutOfTime, answered 503 with Retry-After', async () => {
    const clock = { t: 0 };
    // Keys no item of ours has (skipped), then one call: each page takes 600 ms of the fake clock.
    const junk = Array.from({ length: 200 }, (_, n) => ({
      ...item(n + 1, T0, null),
      key: `zz-${String(n).padStart(3)}`,
    }));
    const items = [...junk, item(999, T0, null)];
    const list = lister(() => items);
    const slow: ItemLister = async (request) => {
      clock.t += 600;
      return list(request);
    };
    const deadline = new Deadline(1000, () => clock.t);
    const refused = await answeredAsync(
      readRecentCallsPage(slow, { workerSid: WK, nowMs: () => T0, pageSize: 10, deadline }),
    );
    expect(refused.error).toBeInstanceOf(MapReadOutOfTime);
    expect(refused.error).toMatchObject({ pages: 2 });
    expect(list.requests).toBe(2); // the first page is always read; none starts after the deadline
    expect(refused).toMatchObject({ status: 503, code: 'UPSTREAM_UNAVAILABLE', headers: { 'Retry-After': '5' } });
  });
});
