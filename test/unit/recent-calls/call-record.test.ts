/** Building the Sync item of a recent call: timing sources, TTL arithmetic, size and content. */
import fc from 'fast-check';
import {
  buildCallRecord,
  collectionTtlSeconds,
  expiryOf,
  ItemTooLarge,
  itemTtlSeconds,
  MAX_ITEM_BYTES,
  toItem,
} from '../../../src/recent-calls/call-record';
import { callTiming } from '../../../src/recent-calls/calls-source';
import type { Completion } from '../../../src/recent-calls/events-source';
import { recentCallItemKey } from '../../../src/recent-calls/item-key';
import { classifyFailure } from '../../../src/recent-calls/writer';

const DAY = 86_400_000;
const COMPLETED = Date.parse('2026-03-01T10:20:00Z');

const completion = (overrides: Partial<Completion> = {}): Completion => ({
  eventSid: 'EV' + 'a'.repeat(32),
  eventDateMs: COMPLETED,
  workerSid: 'WK' + '1'.repeat(32),
  identity: 'alice_40example_2Ecom',
  taskSid: 'WT' + '2'.repeat(32),
  itemKey: recentCallItemKey('WT' + '2'.repeat(32), (COMPLETED - 600_000) / 1000),
  taskCreatedMs: COMPLETED - 600_000,
  callSid: 'CA' + '3'.repeat(32),
  direction: 'inbound',
  outbound: false,
  from: '+12065550100',
  to: '+14155550100',
  queue: 'Support',
  taskAgeSeconds: 600,
  ...overrides,
});

describe('buildCallRecord', () => {
  it('takes start, end and duration from the Calls list when it has the call', () => {
    const timing = callTiming({
      sid: 'CA' + '3'.repeat(32),
      startTime: new Date('2026-03-01T10:09:30Z'),
      endTime: new Date('2026-03-01T10:17:00Z'),
      duration: '450',
    });
    const record = buildCallRecord(completion(), timing);
    expect(record).toMatchObject({
      startedAtMs: Date.parse('2026-03-01T10:09:30Z'),
      endedAtMs: Date.parse('2026-03-01T10:17:00Z'),
      durationSeconds: 450,
      startSource: 'call',
    });
  });

  it('without the call in the list, takes the task: created → completed', () => {
    expect(buildCallRecord(completion())).toMatchObject({
      startedAtMs: COMPLETED - 600_000,
      endedAtMs: COMPLETED,
      durationSeconds: 600,
      startSource: 'task',
      callSource: 'task',
    });
  });

  it('an unenriched outbound task: the matched leg gives call SID and timing; unmatched, callSid null', () => {
    const outbound = completion({ callSid: null, outbound: true, direction: 'outbound' });
    const leg = callTiming({
      sid: 'x',
      startTime: new Date(COMPLETED - 590_000),
      endTime: new Date(COMPLETED - 100_000),
      duration: '490',
    })!;
    expect(buildCallRecord(outbound, leg, 'CA' + '9'.repeat(32))).toMatchObject({
      callSid: 'CA' + '9'.repeat(32),
      callSource: 'matched',
      startSource: 'call',
      durationSeconds: 490,
    });
    expect(buildCallRecord(outbound)).toMatchObject({
      callSid: null,
      callSource: 'none',
      startSource: 'task',
      startedAtMs: COMPLETED - 600_000,
    });
    expect(toItem(buildCallRecord(outbound)).callSid).toBeNull();
  });

  it('without an end time, ends the call its duration after its start; never before its start', () => {
    const start = Date.parse('2026-03-01T10:09:30Z');
    const noEnd = callTiming({ sid: 'x', startTime: new Date(start), endTime: null, duration: '450' });
    expect(buildCallRecord(completion(), noEnd)).toMatchObject({
      startedAtMs: start,
      endedAtMs: start + 450_000,
      durationSeconds: 450,
    });
    // An end before the start (clock trouble upstream) is clamped to the start.
    const backwards = callTiming({
      sid: 'x',
      startTime: new Date(start),
      endTime: new Date(start - 5000),
      duration: null,
    });
    expect(buildCallRecord(completion(), backwards)).toMatchObject({
      startedAtMs: start,
      endedAtMs: start,
      durationSeconds: 0,
    });
  });

  it('reads RFC 2822 strings from the raw API too', () => {
    expect(
      callTiming({ sid: 'x', startTime: 'Sun, 01 Mar 2026 10:09:30 +0000', endTime: null, duration: null }),
    ).toEqual({
      startMs: Date.parse('2026-03-01T10:09:30Z'),
      endMs: undefined,
      durationSeconds: undefined,
    });
    expect(callTiming({ sid: 'x', startTime: null })).toBeUndefined();
  });
});

describe('the item', () => {
  it('holds exactly the documented fields, with ISO dates', () => {
    const item = toItem(buildCallRecord(completion()));
    expect(item).toEqual({
      callSid: 'CA' + '3'.repeat(32),
      taskSid: 'WT' + '2'.repeat(32),
      direction: 'inbound',
      from: '+12065550100',
      to: '+14155550100',
      queue: 'Support',
      startedAt: '2026-03-01T10:10:00.000Z',
      endedAt: '2026-03-01T10:20:00.000Z',
      durationSeconds: 600,
    });
  });

  it('stays under 2 KiB whatever the attributes hold', () => {
    // size: 'max' makes fast-check draw lengths up to 5,000 (its default sizes stay short), so clipping really runs.
    const long = (unit?: 'binary') => fc.string({ maxLength: 5000, size: 'max', ...(unit ? { unit } : {}) });
    let longest = 0;
    fc.assert(
      fc.property(long('binary'), long(), long('binary'), (from, to, queue) => {
        longest = Math.max(longest, from.length, to.length, queue.length);
        const json = JSON.stringify(toItem(buildCallRecord(completion({ from, to, queue, direction: queue }))));
        return Buffer.byteLength(json) <= MAX_ITEM_BYTES;
      }),
      { numRuns: 100 },
    );
    expect(longest).toBeGreaterThan(MAX_ITEM_BYTES);
  });

  it('accepts an item of exactly 2 KiB and refuses one byte more, naming the item and its size', () => {
    const record = buildCallRecord(completion({}));
    const base = Buffer.byteLength(JSON.stringify(toItem({ ...record, from: '' })));
    const exact = { ...record, from: 'x'.repeat(MAX_ITEM_BYTES - base) };
    expect(Buffer.byteLength(JSON.stringify(toItem(exact)))).toBe(MAX_ITEM_BYTES);
    const over = { ...record, from: 'x'.repeat(MAX_ITEM_BYTES - base + 1) };
    let thrown: unknown;
    try {
      toItem(over);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ItemTooLarge);
    expect(thrown).toMatchObject({
      name: 'ItemTooLarge',
      itemKey: record.itemKey,
      bytes: MAX_ITEM_BYTES + 1,
      message: `item ${record.itemKey} is ${MAX_ITEM_BYTES + 1} bytes, over ${MAX_ITEM_BYTES}`,
    });
    // Bytes, not characters: a multi-byte character counts for its UTF-8 length.
    expect(() => toItem({ ...record, from: 'é'.repeat((MAX_ITEM_BYTES - base) / 2 + 1) })).toThrow(ItemTooLarge);
  });

  it('refuses to build an item over 2 KiB, and the writer treats that as permanent for the record', () => {
    const record = buildCallRecord(completion({}));
    const oversized = { ...record, from: 'x'.repeat(MAX_ITEM_BYTES) };
    expect(() => toItem(oversized)).toThrow(ItemTooLarge);
    let thrown: unknown;
    try {
      toItem(oversized);
    } catch (error) {
      thrown = error;
    }
    expect(classifyFailure(thrown)).toEqual({ retryable: false, code: 'ITEM_TOO_LARGE', cause: 'rejected' });
  });
});

describe('TTLs', () => {
  const record = { startedAtMs: Date.parse('2026-03-01T10:00:00Z') };

  it('sets ItemTtl so that date_expires = start + ttlDays (rounded up to the second)', () => {
    const now = record.startedAtMs + 5 * DAY + 400;
    const ttl = itemTtlSeconds(record, now, 30)!;
    expect(ttl).toBe(25 * 86_400);
    expect(now + ttl * 1000).toBeGreaterThanOrEqual(expiryOf(record, 30));
    expect(now + ttl * 1000 - expiryOf(record, 30)).toBeLessThan(1000);
  });

  it('skips calls already older than the TTL window (ItemTtl 0 would mean never)', () => {
    expect(itemTtlSeconds(record, record.startedAtMs + 30 * DAY, 30)).toBeUndefined();
    expect(itemTtlSeconds(record, record.startedAtMs + 31 * DAY, 30)).toBeUndefined();
    expect(itemTtlSeconds(record, record.startedAtMs + 30 * DAY - 1000, 30)).toBe(1);
  });

  it('caps at the Sync maximum and keeps the map alive a day longer than any item', () => {
    expect(itemTtlSeconds(record, record.startedAtMs - 400 * DAY, 365)).toBe(31_536_000);
    expect(collectionTtlSeconds(30)).toBe(31 * 86_400);
    expect(collectionTtlSeconds(365)).toBe(31_536_000);
  });
});
