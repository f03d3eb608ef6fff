/**
 * One record per completed voice reservation, and the customer leg of an unenriched outbound (Flex dialpad) task:
 * flex-project-template, dual-channel-recording (addCallDataToTask) says StartOutboundCall tasks carry no call_sid
 * and no conference; the leg is an outbound call in the Calls list (to the dialled number, from the caller ID).
 */
import type { CallSummary } from '../../../src/recent-calls/calls-source';
import type { Completion } from '../../../src/recent-calls/events-source';
import { recentCallItemKey } from '../../../src/recent-calls/item-key';
import { recordsOf } from '../../../src/recent-calls/completion-records';
import { toE164 } from '../../../src/recent-calls/phone-number';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;
let seq = 0;
const hex = () => (++seq).toString(16).padStart(32, '0');

function dialpad(
  createdMs: number,
  completedMs: number,
  to = '+13125550111',
  extra: Partial<Completion> = {},
): Completion {
  const taskSid = `WT${hex()}`;
  return {
    eventSid: `EV${hex()}`,
    eventDateMs: completedMs,
    workerSid: 'WK' + '1'.repeat(32),
    taskSid,
    itemKey: recentCallItemKey(taskSid, createdMs / 1000),
    taskCreatedMs: createdMs,
    callSid: null,
    direction: 'outbound',
    outbound: true,
    from: '+14155550100',
    to,
    queue: 'Everyone',
    ...extra,
  };
}

function leg(startMs: number, durationS: number, to = '+13125550111', extra: Partial<CallSummary> = {}): CallSummary {
  return {
    sid: `CA${hex()}`,
    from: '+14155550100',
    to,
    direction: 'outbound-api',
    startMs,
    endMs: startMs + durationS * 1000,
    durationSeconds: durationS,
    ...extra,
  };
}

const byId = (calls: CallSummary[]) => new Map(calls.map((c) => [c.sid, c]));

describe('outbound matching', () => {
  it('matches the one outbound leg between the same numbers within the task life', () => {
    const task = dialpad(T0, T0 + 5 * MIN);
    const mine = leg(T0 + 3000, 120);
    const [record] = recordsOf(
      [task],
      byId([
        mine,
        leg(T0 + 3000, 60, '+13125550999'),
        leg(T0 + 3000, 60, '+13125550111', { direction: 'inbound', from: '+13125550111', to: '+14155550100' }),
      ]),
    );
    expect(record).toMatchObject({
      callSid: mine.sid,
      callSource: 'matched',
      startSource: 'call',
      startedAtMs: mine.startMs,
      durationSeconds: 120,
    });
  });

  it('two dialpad calls to the same number minutes apart: each task gets its own leg, no cross-match', () => {
    const first = dialpad(T0, T0 + 4 * MIN);
    const second = dialpad(T0 + 10 * MIN, T0 + 14 * MIN);
    const a = leg(T0 + 2000, 100);
    const b = leg(T0 + 10 * MIN + 2000, 90);
    const records = recordsOf([first, second], byId([b, a]));
    expect(records.map((r) => r.callSid)).toEqual([a.sid, b.sid]);
    expect(new Set(records.map((r) => r.itemKey)).size).toBe(2);
  });

  it('no candidate, or two in the task life: callSid null and the task times', () => {
    const task = dialpad(T0, T0 + 5 * MIN);
    for (const calls of [
      [],
      [leg(T0 - 1000, 30)],
      [leg(T0 + 1000, 30), leg(T0 + 2 * MIN, 30)],
      [leg(T0 + 6 * MIN, 30)],
    ]) {
      const [record] = recordsOf([task], byId(calls));
      expect(record).toMatchObject({
        callSid: null,
        callSource: 'none',
        startSource: 'task',
        startedAtMs: T0,
        endedAtMs: T0 + 5 * MIN,
        durationSeconds: 300,
      });
    }
  });

  it('a call another task names is never a candidate; dialled numbers are compared in E.164', () => {
    const named = leg(T0 + 1000, 30);
    const enriched = dialpad(T0, T0 + 5 * MIN, '+13125550111', { callSid: named.sid });
    const typed = dialpad(T0, T0 + 5 * MIN, '(312) 555-0111');
    const records = recordsOf([enriched, typed], byId([named]));
    expect(records.map((r) => [r.callSid, r.callSource])).toEqual([
      [named.sid, 'task'],
      [null, 'none'],
    ]);
    const other = leg(T0 + 2000, 30);
    expect(recordsOf([dialpad(T0, T0 + 5 * MIN, toE164('(312) 555-0111')!)], byId([other]))[0].callSid).toBe(other.sid);
  });

  it('reads dialled numbers as E.164 where it can', () => {
    expect(toE164('(312) 555-0111')).toBe('+13125550111');
    expect(toE164('1 312 555 0111')).toBe('+13125550111');
    expect(toE164('+44 7700 900123')).toBe('+447700900123');
    expect(toE164('0044 7700 900123')).toBe('+447700900123');
    expect(toE164('client:alice')).toBeUndefined();
    expect(toE164('555-0111')).toBeUndefined();
  });
});
