/**
 * The item key: time-ordered, one per task, and the same from every shape that reports a completed reservation.
 * Shapes: REST Events list (https://www.twilio.com/docs/taskrouter/api/event: event_date_ms, event_data with
 * snake_case string values), the workspace EventCallbackUrl form (https://www.twilio.com/docs/taskrouter/api/event/reference:
 * TaskSid, TaskAge, Timestamp, TimestampMs), Event Streams (https://www.twilio.com/docs/events/event-types/taskrouter/reservation:
 * data.payload with task_date_created as ISO 8601 with milliseconds, numbers as numbers).
 */
import {
  ITEM_KEY_LENGTH,
  itemKeyFromEventStreams,
  itemKeyFromRestEvent,
  itemKeyFromTaskRouterCallback,
  parseItemKey,
  recentCallItemKey,
  wholeSeconds,
} from '../../../src/recent-calls/item-key';

const WT = 'WT' + 'ab12'.repeat(8);
const CREATED_MS = Date.parse('2026-03-01T09:54:40.750Z');
const COMPLETED_MS = CREATED_MS + 412_318; // 412.318 s later
const AGE = 412; // TaskRouter's whole-second age at completion

function rest(data: Record<string, unknown> = {}) {
  return {
    eventDateMs: COMPLETED_MS,
    eventDate: new Date(COMPLETED_MS),
    eventData: {
      task_sid: WT,
      task_age: String(AGE),
      task_date_created: String(Math.floor(CREATED_MS / 1000)),
      ...data,
    },
  };
}

const callback = (form: Record<string, unknown> = {}) => ({
  EventType: 'reservation.completed',
  TaskSid: WT,
  TaskAge: String(AGE),
  TaskDateCreated: String(Math.floor(CREATED_MS / 1000)),
  Timestamp: String(Math.floor(COMPLETED_MS / 1000)),
  TimestampMs: String(COMPLETED_MS),
  ...form,
});

const streams = (payload: Record<string, unknown> = {}) => ({
  eventtype: 'reservation.completed',
  task_sid: WT,
  task_age: AGE,
  task_date_created: new Date(CREATED_MS).toISOString(),
  timestamp: new Date(COMPLETED_MS).toISOString(),
  ...payload,
});

describe('recent-call item key', () => {
  it('is the task creation second (UTC, basic ISO 8601) and the task SID, fixed width', () => {
    const key = recentCallItemKey(WT, Math.floor(CREATED_MS / 1000));
    expect(key).toBe(`20260301T095440Z-${WT}`);
    expect(key).toHaveLength(ITEM_KEY_LENGTH);
    expect(key).toMatch(/^[0-9A-Za-z-]+$/);
    expect(parseItemKey(key)).toEqual({ taskCreatedSeconds: Math.floor(CREATED_MS / 1000), taskSid: WT });
    expect(parseItemKey('CA' + '1'.repeat(32))).toBeUndefined();
  });

  it('sorts by time across days, years and within one second (then by task SID)', () => {
    const t = (iso: string) => Date.parse(iso) / 1000;
    const keys = [
      recentCallItemKey('WT' + 'f'.repeat(32), t('2026-03-01T00:00:00Z')),
      recentCallItemKey('WT' + '0'.repeat(32), t('2026-03-01T00:00:00Z')),
      recentCallItemKey('WT' + '5'.repeat(32), t('2026-02-28T23:59:59Z')),
      recentCallItemKey('WT' + '1'.repeat(32), t('2025-12-31T23:59:59Z')),
      recentCallItemKey('WT' + '2'.repeat(32), t('2026-03-10T08:00:00Z')),
    ];
    const byTime = [...keys].sort(
      (a, b) => parseItemKey(a)!.taskCreatedSeconds - parseItemKey(b)!.taskCreatedSeconds || (a < b ? -1 : 1),
    );
    expect([...keys].sort()).toEqual(byTime);
  });

  it('is the same for one reservation from the REST event, the TaskRouter callback and Event Streams', () => {
    const expected = `20260301T095440Z-${WT}`;
    expect(itemKeyFromRestEvent(rest())).toBe(expected);
    expect(itemKeyFromRestEvent({ event_date_ms: COMPLETED_MS, event_data: rest().eventData })).toBe(expected);
    expect(itemKeyFromTaskRouterCallback(callback())).toBe(expected);
    expect(itemKeyFromEventStreams(streams())).toBe(expected);
    // task_date_created as ISO in REST / callback (its format there is unconfirmed) gives the same key.
    expect(itemKeyFromRestEvent(rest({ task_date_created: new Date(CREATED_MS).toISOString() }))).toBe(expected);
    expect(itemKeyFromTaskRouterCallback(callback({ TaskDateCreated: new Date(CREATED_MS).toISOString() }))).toBe(
      expected,
    );
  });

  it('without task_date_created, every path falls back to the same event second minus the task age', () => {
    const fallback = recentCallItemKey(WT, Math.floor(COMPLETED_MS / 1000) - AGE);
    expect(itemKeyFromRestEvent(rest({ task_date_created: undefined }))).toBe(fallback);
    expect(itemKeyFromTaskRouterCallback(callback({ TaskDateCreated: undefined }))).toBe(fallback);
    expect(itemKeyFromTaskRouterCallback(callback({ TaskDateCreated: undefined, TimestampMs: undefined }))).toBe(
      fallback,
    );
    expect(itemKeyFromEventStreams(streams({ task_date_created: undefined }))).toBe(fallback);
    // Within a second of the real creation time.
    expect(Math.abs(parseItemKey(fallback)!.taskCreatedSeconds * 1000 - CREATED_MS)).toBeLessThan(1000);
  });

  it('has no key without a task SID or any usable time', () => {
    expect(itemKeyFromRestEvent(rest({ task_sid: 'WT-bogus' }))).toBeUndefined();
    expect(itemKeyFromEventStreams(streams({ task_date_created: 'yesterday', timestamp: undefined }))).toBeUndefined();
    expect(
      itemKeyFromTaskRouterCallback(callback({ TaskDateCreated: '', Timestamp: undefined, TimestampMs: undefined })),
    ).toBeUndefined();
  });

  it('reads epoch seconds, epoch ms and ISO 8601 as whole seconds (floor)', () => {
    expect(wholeSeconds('1772358880')).toBe(1772358880);
    expect(wholeSeconds(1772358880750)).toBe(1772358880);
    expect(wholeSeconds('2026-03-01T09:54:40.999Z')).toBe(Math.floor(Date.parse('2026-03-01T09:54:40Z') / 1000));
    expect(wholeSeconds('2026-03-01T09:54:40Z')).toBe(wholeSeconds('2026-03-01T09:54:40.001Z'));
    expect(wholeSeconds(null)).toBeUndefined();
    expect(wholeSeconds('')).toBeUndefined();
  });
});
