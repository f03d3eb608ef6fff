/** Reading completed voice reservations out of TaskRouter events (shapes as the Events API and the seed give them). */
import { recentCallItemKey } from '../../../src/recent-calls/item-key';
import {
  identityFromContactUri,
  parseCompletion,
  selectCompletions,
  type RawEvent,
} from '../../../src/recent-calls/events-source';

const WK = 'WK' + '1'.repeat(32);
const WT = 'WT' + '2'.repeat(32);
const CA = 'CA' + '3'.repeat(32);
const CA2 = 'CA' + '4'.repeat(32);
const T0 = Date.parse('2026-03-01T10:00:00Z');

function event(
  overrides: Partial<RawEvent> = {},
  data: Record<string, unknown> = {},
  task: Record<string, unknown> = {},
): RawEvent {
  return {
    sid: 'EV' + 'a'.repeat(32),
    eventType: 'reservation.completed',
    eventDateMs: String(T0),
    eventDate: new Date(T0),
    eventData: {
      task_sid: WT,
      task_age: '320',
      task_date_created: String(Math.floor(T0 / 1000) - 320),
      task_queue_name: 'Support',
      task_channel_unique_name: 'voice',
      worker_sid: WK,
      worker_name: 'alice@example.com',
      worker_attributes: JSON.stringify({ contact_uri: 'client:alice_40example_2Ecom', roles: ['agent'] }),
      reservation_sid: 'WR' + '5'.repeat(32),
      task_attributes: JSON.stringify({
        call_sid: CA,
        direction: 'inbound',
        caller: '+12065550100',
        called: '+14155550100',
        from: '+12065550100',
        to: '+14155550100',
        ...task,
      }),
      ...data,
    },
    ...overrides,
  };
}

describe('parseCompletion', () => {
  it('reads an inbound voice completion: caller → called, queue, worker identity, task age', () => {
    const parsed = parseCompletion(event());
    expect(parsed).toEqual({
      ok: true,
      completion: {
        eventSid: 'EV' + 'a'.repeat(32),
        eventDateMs: T0,
        workerSid: WK,
        identity: 'alice_40example_2Ecom',
        taskSid: WT,
        reservationSid: 'WR' + '5'.repeat(32),
        itemKey: recentCallItemKey(WT, Math.floor(T0 / 1000) - 320),
        taskCreatedMs: T0 - 320_000,
        callSid: CA,
        direction: 'inbound',
        outbound: false,
        from: '+12065550100',
        to: '+14155550100',
        queue: 'Support',
        taskAgeSeconds: 320,
      },
    });
  });

  it('reads a Flex dialpad completion as StartOutboundCall writes it: no call SID, dialled number in E.164', () => {
    // flex-project-template, dual-channel-recording (addCallDataToTask): "Outbound calls initiated from Flex (via
    // StartOutboundCall Action) do not include call_sid and conference metadata in task attributes".
    const parsed = parseCompletion(
      event(
        {},
        {},
        {
          call_sid: undefined,
          caller: undefined,
          called: undefined,
          direction: 'outbound',
          from: '+14155550100',
          to: '(312) 555-0111',
          outbound_to: '(312) 555-0111',
          name: '(312) 555-0111',
        },
      ),
    );
    expect(parsed.ok && parsed.completion).toMatchObject({
      callSid: null,
      outbound: true,
      direction: 'outbound',
      from: '+14155550100',
      to: '+13125550111',
    });
  });

  it('reads an enriched outbound completion (call_sid written into the task by a plugin)', () => {
    const parsed = parseCompletion(
      event(
        {},
        {},
        {
          call_sid: CA2,
          direction: 'outbound',
          from: '+14155550100',
          to: '+13125550111',
          outbound_to: '+13125550111',
          conference: { sid: 'CF' + '6'.repeat(32) },
        },
      ),
    );
    expect(parsed.ok && parsed.completion).toMatchObject({ callSid: CA2, outbound: true, to: '+13125550111' });
  });

  it('gives each completion the item key of its task; without task_date_created, event second minus task age', () => {
    const parsed = parseCompletion(event({}, { task_date_created: undefined }));
    expect(parsed.ok && parsed.completion.itemKey).toBe(recentCallItemKey(WT, Math.floor(T0 / 1000) - 320));
  });

  it('skips redacted attributes (events older than 43,200 minutes: official spec, taskrouter ListEvent Minutes)', () => {
    for (const redacted of ['{}', '', 'REDACTED', undefined, '{"routing":{}}']) {
      expect(parseCompletion(event({}, { task_attributes: redacted }))).toEqual({ ok: false, reason: 'redacted' });
    }
  });

  it('accepts attributes as objects and event times from event_date alone', () => {
    const parsed = parseCompletion(
      event(
        { eventDateMs: null },
        { task_attributes: { call_sid: CA, direction: 'inbound', from: 'a', to: 'b' }, worker_attributes: undefined },
      ),
    );
    expect(parsed.ok && parsed.completion).toMatchObject({
      callSid: CA,
      eventDateMs: T0,
      identity: undefined,
      from: 'a',
      to: 'b',
    });
  });

  it('tells apart what is not a handled call', () => {
    expect(parseCompletion(event({ eventType: 'reservation.accepted' }))).toEqual({
      ok: false,
      reason: 'not-completed-event',
    });
    expect(parseCompletion(event({}, { task_channel_unique_name: 'chat' }))).toEqual({
      ok: false,
      reason: 'not-voice',
    });
    expect(parseCompletion(event({}, { worker_sid: undefined }))).toEqual({ ok: false, reason: 'no-worker' });
    expect(parseCompletion(event({}, { task_sid: 'nope' }))).toEqual({ ok: false, reason: 'no-task' });
    expect(parseCompletion(event({}, { task_date_created: undefined, task_age: undefined }))).toEqual({
      ok: false,
      reason: 'no-task-time',
    });
    expect(parseCompletion(event({ eventDateMs: null, eventDate: null }))).toEqual({
      ok: false,
      reason: 'no-event-date',
    });
  });
});

describe('identityFromContactUri', () => {
  it('takes the client identity, nothing else', () => {
    expect(identityFromContactUri('client:alice_40example_2Ecom')).toBe('alice_40example_2Ecom');
    expect(identityFromContactUri('sip:alice@example.com')).toBeUndefined();
    expect(identityFromContactUri(undefined)).toBeUndefined();
  });
});

describe('selectCompletions', () => {
  it('keeps [from, to), drops repeated event SIDs, sorts by time then SID, and counts what it ignored', () => {
    const at = (sid: string, ms: number, data: Record<string, unknown> = {}) =>
      event({ sid: 'EV' + sid.repeat(32), eventDateMs: ms }, data);
    const raw = [
      at('c', T0 + 2000),
      at('b', T0 + 1000),
      at('a', T0 + 1000),
      at('a', T0 + 1000), // the same event twice (a page boundary shifted)
      at('d', T0 - 1), // before the window
      at('e', T0 + 5000), // at the end: next window's
      at('f', T0 + 3000, { task_channel_unique_name: 'chat' }),
    ];
    const { completions, ignored } = selectCompletions(raw, T0, T0 + 5000);
    expect(completions.map((c) => c.eventSid[2])).toEqual(['a', 'b', 'c']);
    expect(ignored).toEqual({ 'not-voice': 1 });
  });
});
