/**
 * The in-memory half of /recent-calls (no servers): ordering, expiry filtering and the keyset cursor, including the
 * cases the end-to-end tests rarely meet (equal start times, items without expiry, lists that change between pages).
 */
import fc from 'fast-check';
import { decodePageToken, encodePageToken } from '../../../src/recent-calls/page-token';
import { pageOfCalls, type StoredItem } from '../../../src/recent-calls/reader';

const WK = 'WK' + '1'.repeat(32);
const OTHER_WK = 'WK' + '2'.repeat(32);
const T0 = Date.parse('2025-03-01T12:00:00Z');

function item(key: string, startMs: number, expiresMs: number | null, data: Record<string, unknown> = {}): StoredItem {
  return {
    key,
    data: { callSid: key, startedAt: new Date(startMs).toISOString(), from: '+1206', to: '+1415', ...data },
    dateExpires: expiresMs === null ? null : new Date(expiresMs),
    dateCreated: new Date(startMs),
  };
}

function readAll(items: StoredItem[], nowMs: number, pageSize: number) {
  const keys: string[] = [];
  let after;
  for (let i = 0; i < 1000; i++) {
    const page = pageOfCalls(items, { workerSid: WK, nowMs, pageSize, after });
    keys.push(...page.calls.map((c) => c.key));
    if (!page.nextPageToken) return keys;
    after = decodePageToken(page.nextPageToken, WK);
  }
  throw new Error('did not end');
}

describe('pageOfCalls', () => {
  it('sorts newest first, breaking equal start times by key, and drops what expired at now (Twilio clock)', () => {
    const items = [
      item('CAa', T0, T0 + 10),
      item('CAc', T0 + 5, T0 + 10),
      item('CAb', T0, T0 + 10),
      item('CAd', T0 + 9, T0), // expires exactly at now: hidden
      item('CAe', T0 - 5, null), // no expiry: kept
    ];
    const page = pageOfCalls(items, { workerSid: WK, nowMs: T0, pageSize: 10 });
    expect(page.calls.map((c) => c.key)).toEqual(['CAc', 'CAb', 'CAa', 'CAe']);
    expect(page.calls[3].expiresAt).toBeNull();
    expect(page.nextPageToken).toBeNull();
  });

  it('tolerates items shaped by another writer', () => {
    const odd: StoredItem = { key: 'CAodd', data: { startedAt: 'yesterday', durationSeconds: 'long' }, dateExpires: null, dateCreated: new Date(T0) };
    const [call] = pageOfCalls([odd], { workerSid: WK, nowMs: T0, pageSize: 1 }).calls;
    expect(call).toEqual({
      key: 'CAodd',
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
    });
  });

  it('pages any list with no call lost or repeated, for any page size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ n: fc.integer({ min: 0, max: 0xffff }), start: fc.integer({ min: 0, max: 20 }), ttl: fc.integer({ min: -5, max: 40 }) }), {
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 12 }),
        (specs, pageSize) => {
          const byKey = new Map(specs.map((s) => [`CA${s.n.toString(16).padStart(4, '0')}`, s]));
          const items = [...byKey].map(([key, s]) => item(key, T0 - s.start * 1000, T0 + s.ttl * 1000));
          const whole = pageOfCalls(items, { workerSid: WK, nowMs: T0, pageSize: 1000 }).calls.map((c) => c.key);
          expect(readAll(items, T0, pageSize)).toEqual(whole);
          expect(whole.length).toBe(items.filter((i) => i.dateExpires!.getTime() > T0).length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('continues after the last call seen when calls arrive or expire between pages', () => {
    const items = Array.from({ length: 10 }, (_, i) => item(`CA${i}`, T0 - i * 60_000, T0 + (10 - i) * 1000));
    const first = pageOfCalls(items, { workerSid: WK, nowMs: T0, pageSize: 4 });
    expect(first.calls.map((c) => c.key)).toEqual(['CA0', 'CA1', 'CA2', 'CA3']);
    // A new call arrives at the head, and CA9, CA8 (the oldest) expire.
    const later = [item('CAnew', T0 + 1, T0 + 99_000), ...items];
    const second = pageOfCalls(later, { workerSid: WK, nowMs: T0 + 2500, pageSize: 4, after: decodePageToken(first.nextPageToken, WK) });
    expect(second.calls.map((c) => c.key)).toEqual(['CA4', 'CA5', 'CA6', 'CA7']);
    expect(second.nextPageToken).toBeNull();
  });
});

describe('page tokens', () => {
  it('round-trip, and belong to one worker list', () => {
    const token = encodePageToken({ workerSid: WK, startedAtMs: T0, key: 'CA0' });
    expect(decodePageToken(token, WK)).toEqual({ workerSid: WK, startedAtMs: T0, key: 'CA0' });
    expect(() => decodePageToken(token, OTHER_WK)).toThrow(expect.objectContaining({ status: 400, code: 'PAGE_TOKEN_INVALID' }));
  });

  it('refuses anything this endpoint did not issue', () => {
    const bad = [
      '',
      'a b',
      'x'.repeat(1025),
      Buffer.from('[]').toString('base64url'),
      Buffer.from(JSON.stringify({ v: 2, w: WK, t: T0, k: 'CA0' })).toString('base64url'),
      Buffer.from(JSON.stringify({ v: 1, w: WK, t: 1.5, k: 'CA0' })).toString('base64url'),
      Buffer.from(JSON.stringify({ v: 1, w: WK, t: T0, k: '' })).toString('base64url'),
      123,
    ];
    for (const token of bad) {
      expect(() => decodePageToken(token, WK)).toThrow(expect.objectContaining({ status: 400, code: 'PAGE_TOKEN_INVALID' }));
    }
  });
});
