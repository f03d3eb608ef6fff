/** The real twilio SDK against the emulator's TaskRouter v1: workspaces, workers and the Events log. */
import type { EventInstance } from 'twilio/lib/rest/taskrouter/v1/workspace/event';
import type { SeedResult } from '../../emulator/seed';
import { rejection, useEmulator } from '../helpers/emulator';

const t = useEmulator();

// Every property the OpenAPI spec (twilio_taskrouter_v1.json) documents for these resources.
const WORKSPACE_FIELDS = [
  'account_sid',
  'date_created',
  'date_updated',
  'default_activity_name',
  'default_activity_sid',
  'event_callback_url',
  'events_filter',
  'friendly_name',
  'multi_task_enabled',
  'sid',
  'timeout_activity_name',
  'timeout_activity_sid',
  'prioritize_queue_order',
  'url',
  'links',
];
const WORKER_FIELDS = [
  'account_sid',
  'activity_name',
  'activity_sid',
  'attributes',
  'available',
  'date_created',
  'date_status_changed',
  'date_updated',
  'friendly_name',
  'sid',
  'workspace_sid',
  'url',
  'links',
];
const EVENT_FIELDS = [
  'account_sid',
  'actor_sid',
  'actor_type',
  'actor_url',
  'description',
  'event_data',
  'event_date',
  'event_date_ms',
  'event_type',
  'resource_sid',
  'resource_type',
  'resource_url',
  'sid',
  'source',
  'source_ip_address',
  'url',
  'workspace_sid',
];
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const DAY = 24 * 3600 * 1000;

const workspace = () => t.client.taskrouter.v1.workspaces(t.emulator.config.workspaceSid);

/** The raw JSON the emulator answers, through the SDK's own HTTP path. */
async function raw(path: string): Promise<{ status: number; body: Record<string, any> }> {
  const response = await t.client.request({ method: 'get', uri: `https://taskrouter.twilio.com${path}` });
  return { status: response.statusCode, body: response.body as Record<string, any> };
}

/** Every event of the last `minutes` minutes, newest first, in one large page. */
const allEvents = (minutes = 60, extra: Record<string, unknown> = {}) =>
  workspace().events.list({ minutes, pageSize: 1000, ...extra });

const attributesOf = (e: EventInstance) => JSON.parse(e.eventData.task_attributes as string) as Record<string, any>;

describe('workspaces', () => {
  it('lists and fetches the Flex workspace with every documented field, ISO dates without milliseconds', async () => {
    const list = await t.client.taskrouter.v1.workspaces.list();
    expect(list.map((w) => w.sid)).toEqual([t.emulator.config.workspaceSid]);
    expect(await t.client.taskrouter.v1.workspaces.list({ friendlyName: 'nope' })).toEqual([]);

    const fetched = await workspace().fetch();
    expect(fetched).toMatchObject({ friendlyName: 'Flex Task Assignment', defaultActivityName: 'Offline' });
    expect(fetched.multiTaskEnabled).toBe(true);
    expect(fetched.defaultActivitySid).toMatch(/^WA[0-9a-f]{32}$/);

    const { body } = await raw(`/v1/Workspaces/${t.emulator.config.workspaceSid}`);
    for (const field of WORKSPACE_FIELDS) expect(body).toHaveProperty(field);
    expect(body.date_created).toMatch(ISO_SECONDS);
    expect(body.links.events).toBe(`${t.emulator.url}/v1/Workspaces/${t.emulator.config.workspaceSid}/Events`);
  });

  it('answers 404 / 20404 for an unknown workspace on every route', async () => {
    const other = t.client.taskrouter.v1.workspaces('WS' + 'f'.repeat(32));
    const calls = [
      other.fetch(),
      other.workers.list(),
      other.events.list(),
      other.events('EV' + 'f'.repeat(32)).fetch(),
    ];
    for (const call of calls) {
      expect(await rejection(call)).toMatchObject({ status: 404, code: 20404 });
    }
  });
});

describe('workers', () => {
  it('renders Flex workers with attributes as a JSON string and every documented field', async () => {
    const seeded = await t.admin.seed({ agents: 3, callsPerAgent: 0, days: 1 });
    const workers = await workspace().workers.list();
    expect(workers.map((w) => w.sid).sort()).toEqual(seeded.agents.map((a) => a.workerSid).sort());

    const alice = workers.find((w) => w.friendlyName === 'alice@example.com')!;
    expect(typeof alice.attributes).toBe('string');
    expect(JSON.parse(alice.attributes)).toMatchObject({
      routing: { skills: [], levels: {} },
      roles: ['agent'],
      contact_uri: 'client:alice_40example_2Ecom',
      email: 'alice@example.com',
    });
    expect(JSON.parse(alice.attributes).full_name).toMatch(/^Alice /);

    const { body } = await raw(`/v1/Workspaces/${t.emulator.config.workspaceSid}/Workers/${alice.sid}`);
    for (const field of WORKER_FIELDS) expect(body).toHaveProperty(field);
    expect(body.date_status_changed).toMatch(ISO_SECONDS);
    expect(body.links.activity).toContain(`/Activities/${body.activity_sid}`);
  });

  it('filters by FriendlyName (case-insensitive), Available and a simple TargetWorkersExpression', async () => {
    await t.admin.seed({ agents: 4, callsPerAgent: 0, days: 1 });
    const bob = await workspace().workers.list({ friendlyName: 'BOB@example.com' });
    expect(bob.map((w) => w.friendlyName)).toEqual(['bob@example.com']);
    expect(await workspace().workers.list({ friendlyName: 'nobody@example.com' })).toEqual([]);

    const expression = 'contact_uri == "client:carol_40example_2Ecom"';
    const byContact = await workspace().workers.list({ targetWorkersExpression: expression });
    expect(byContact.map((w) => w.friendlyName)).toEqual(['carol@example.com']);

    const available = await workspace().workers.list({ available: 'true' });
    const all = await workspace().workers.list();
    expect(available.every((w) => w.available)).toBe(true);
    expect(available.length).toBe(all.filter((w) => w.available).length);
  });

  it('pages through many workers with list() and each()', async () => {
    await t.admin.seed({ agents: 30, callsPerAgent: 0, days: 1 });
    const listed = await workspace().workers.list({ pageSize: 7 });
    expect(listed).toHaveLength(30);
    expect(new Set(listed.map((w) => w.sid)).size).toBe(30);

    const seen: string[] = [];
    await workspace().workers.each({ pageSize: 4 }, (w) => void seen.push(w.sid));
    expect(seen).toEqual(listed.map((w) => w.sid));

    const page = await workspace().workers.page({ pageSize: 7 });
    expect(page.nextPageUrl).toContain(`${t.emulator.url}/v1/Workspaces/`);
  });

  it('fetches a worker and answers 404 / 20404 for an unknown one', async () => {
    const { agents } = await t.admin.seed({ agents: 1, callsPerAgent: 0, days: 1 });
    expect((await workspace().workers(agents[0].workerSid).fetch()).friendlyName).toBe(agents[0].friendlyName);
    expect(
      await rejection(
        workspace()
          .workers('WK' + '0'.repeat(32))
          .fetch(),
      ),
    ).toMatchObject({ status: 404, code: 20404 });
  });
});

describe('events', () => {
  let seeded: SeedResult;
  // days: 0 puts every call in the last ~20 minutes; callsPerAgent 10 adds an abandoned call and a chat per agent.
  const seedRecent = async () => (seeded = await t.admin.seed({ agents: 4, callsPerAgent: 10, days: 0 }));

  it('renders every documented field in Twilio formats: ISO dates, string numbers, JSON-string attributes', async () => {
    await seedRecent();
    const { body } = await raw(`/v1/Workspaces/${t.emulator.config.workspaceSid}/Events?Minutes=60&PageSize=1000`);
    expect(body.meta).toMatchObject({ key: 'events', page: 0, page_size: 1000, previous_page_url: null });
    expect(body.events.length).toBe(seeded.events);
    for (const e of body.events) {
      for (const field of EVENT_FIELDS) expect(e).toHaveProperty(field);
      expect(e.event_date).toMatch(ISO_SECONDS);
      expect(Number.isInteger(e.event_date_ms)).toBe(true);
      expect(Math.floor(e.event_date_ms / 1000) * 1000).toBe(Date.parse(e.event_date));
      expect(e.sid).toMatch(/^EV[0-9a-f]{32}$/);
      expect(typeof e.event_data).toBe('object');
      // Numbers inside event_data are strings; attributes are JSON strings.
      for (const value of Object.values(e.event_data)) expect(typeof value).toBe('string');
      for (const key of ['task_attributes', 'worker_attributes']) {
        if (e.event_data[key] !== undefined) expect(typeof JSON.parse(e.event_data[key])).toBe('object');
      }
      expect(e.url).toBe(`${t.emulator.url}/v1/Workspaces/${t.emulator.config.workspaceSid}/Events/${e.sid}`);
    }
  });

  it('records a handled inbound call the way Flex does', async () => {
    await seedRecent();
    const completed = (await allEvents(60, { eventType: 'reservation.completed', taskChannel: 'voice' })).filter(
      (e) => attributesOf(e).direction === 'inbound',
    );
    expect(completed.length).toBeGreaterThan(0);
    const event = completed[0];
    expect(event).toMatchObject({ resourceType: 'reservation', actorType: 'worker' });
    expect(event.resourceSid).toBe(event.eventData.reservation_sid);
    expect(event.resourceUrl).toContain(`/Tasks/${event.eventData.task_sid}/Reservations/${event.resourceSid}`);
    expect(event.eventData).toMatchObject({ task_channel_unique_name: 'voice', task_assignment_status: 'completed' });
    expect(event.eventData.task_age).toMatch(/^\d+$/);
    expect(seeded.agents.map((a) => a.workerSid)).toContain(event.eventData.worker_sid);

    const attributes = attributesOf(event);
    expect(attributes).toMatchObject({ direction: 'inbound', type: 'inbound' });
    expect(attributes.call_sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(attributes.caller).toBe(attributes.from);
    expect(attributes.called).toBe(attributes.to);
    expect(attributes.conference.participants.customer).toBe(attributes.call_sid);
    const worker = JSON.parse(event.eventData.worker_attributes as string);
    expect(worker.contact_uri).toMatch(/^client:[A-Za-z0-9_]+$/);

    const call = await t.client.calls(attributes.call_sid).fetch();
    expect(call).toMatchObject({ from: attributes.from, to: attributes.to, direction: 'inbound', status: 'completed' });
  });

  // flex-project-template, feature dual-channel-recording (addCallDataToTask, "Last Reviewed: 2021/02/01"):
  // "Outbound calls initiated from Flex (via StartOutboundCall Action) do not include call_sid and conference
  // metadata in task attributes"; that feature writes call_sid and conference.sid into the task itself.
  it('records dialpad calls as StartOutboundCall writes them (no call SID), some enriched, the leg in the Calls list', async () => {
    seeded = await t.admin.seed({ agents: 4, callsPerAgent: 10, days: 0, enrichedOutboundShare: 0.5 });
    const completed = (await allEvents(60, { eventType: 'reservation.completed', taskChannel: 'voice' })).filter(
      (e) => attributesOf(e).direction === 'outbound',
    );
    expect(completed.length).toBe(seeded.outboundTasks);
    const enriched = completed.filter((e) => attributesOf(e).call_sid !== undefined);
    const plain = completed.filter((e) => attributesOf(e).call_sid === undefined);
    expect(enriched.length).toBe(seeded.enrichedOutboundTasks);
    expect(enriched.length).toBeGreaterThan(0);
    expect(plain.length).toBeGreaterThan(0);
    for (const e of plain) {
      const attributes = attributesOf(e);
      expect(Object.keys(attributes).sort()).toEqual(['direction', 'from', 'name', 'outbound_to', 'to']);
      expect(attributes.outbound_to).toBe(attributes.to);
    }
    for (const e of enriched) {
      const attributes = attributesOf(e);
      expect(attributes.conference).toEqual({ sid: expect.stringMatching(/^CF[0-9a-f]{32}$/) });
      const call = await t.client.calls(attributes.call_sid).fetch();
      expect(call).toMatchObject({ direction: 'outbound-api', from: attributes.from });
      // The leg starts seconds after the task was created (task_date_created: epoch seconds, unconfirmed format).
      const created = Number(e.eventData.task_date_created) * 1000;
      expect(call.startTime.getTime()).toBeGreaterThanOrEqual(created);
      expect(call.startTime.getTime()).toBeLessThan(created + 60_000);
    }
    // Every leg, enriched or not, is an outbound-api call to the dialled number from the caller ID.
    const legs = (await t.client.calls.list({ pageSize: 1000 })).filter((c) => c.direction === 'outbound-api');
    expect(legs).toHaveLength(completed.length);
  });

  it('seeds transfers: one call, two agents, two tasks naming it', async () => {
    seeded = await t.admin.seed({ agents: 3, callsPerAgent: 30, days: 1 });
    expect(seeded.transfers).toBeGreaterThan(0);
    const completed = await allEvents(60 * 24 * 2, { eventType: 'reservation.completed', taskChannel: 'voice' });
    const byCall = new Map<string, EventInstance[]>();
    for (const e of completed) {
      const sid = attributesOf(e).call_sid;
      if (sid) byCall.set(sid, [...(byCall.get(sid) ?? []), e]);
    }
    const transferred = [...byCall.values()].filter((list) => list.length > 1);
    expect(transferred).toHaveLength(seeded.transfers);
    for (const [first, second] of transferred) {
      expect(first.eventData.task_sid).not.toBe(second.eventData.task_sid);
      expect(first.eventData.worker_sid).not.toBe(second.eventData.worker_sid);
    }
  });

  it('runs every task from task.created to reservation.completed; the noise never looks handled', async () => {
    await seedRecent();
    const events = (await allEvents()).reverse(); // oldest first
    const byTask = new Map<string, EventInstance[]>();
    for (const e of events) {
      const sid = e.eventData.task_sid as string | undefined;
      if (sid) byTask.set(sid, [...(byTask.get(sid) ?? []), e]);
    }
    let declined = 0;
    for (const taskEvents of byTask.values()) {
      const types = taskEvents.map((e) => e.eventType);
      expect(types[0]).toBe('task.created');
      const accepted = taskEvents.filter((e) => e.eventType === 'reservation.accepted');
      const last = types[types.length - 1];
      if (types.includes('task.canceled')) {
        expect(accepted).toHaveLength(0); // the caller hung up in queue
        continue;
      }
      expect(accepted).toHaveLength(1);
      expect(last).toBe('reservation.completed');
      const declines = taskEvents.filter((x) => ['reservation.rejected', 'reservation.timeout'].includes(x.eventType));
      for (const e of declines) {
        declined += 1;
        expect(e.eventData.worker_sid).not.toBe(accepted[0].eventData.worker_sid);
        expect(e.eventData.reservation_sid).not.toBe(accepted[0].eventData.reservation_sid);
      }
    }
    expect(byTask.size).toBe(seeded.handledCalls + 2 * seeded.transfers + seeded.abandonedCalls + seeded.chatTasks);
    expect(declined).toBeGreaterThan(0); // the seed is deterministic: this one has a few
    const chats = events.filter(
      (e) => e.eventType === 'task.created' && e.eventData.task_channel_unique_name === 'chat',
    );
    expect(chats).toHaveLength(seeded.chatTasks);
    for (const chat of chats) expect(attributesOf(chat).call_sid).toBeUndefined();
  });

  it('covers only the last 15 minutes without StartDate or Minutes', async () => {
    await seedRecent();
    const now = Date.now();
    const recent = await workspace().events.list({ pageSize: 1000 });
    const hour = await allEvents(60);
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.length).toBeLessThan(hour.length);
    for (const e of recent) expect(e.eventDateMs).toBeGreaterThanOrEqual(now - 15 * 60_000 - 1000);
    expect(hour).toHaveLength(seeded.events);
  });

  it('applies each filter, alone and combined, exactly as a scan of the full list would', async () => {
    await seedRecent();
    const all = await allEvents();
    const isVoice = (e: EventInstance) => e.eventData.task_channel_unique_name === 'voice';
    const voiceTask = all.find((e) => e.eventType === 'reservation.accepted' && isVoice(e))!;
    const { reservation_sid: reservation, task_queue_sid: queue } = voiceTask.eventData;
    const agent = seeded.agents[1].workerSid;
    const cases: Array<[Record<string, unknown>, (e: EventInstance) => boolean]> = [
      [{ eventType: 'reservation.accepted' }, (e) => e.eventType === 'reservation.accepted'],
      [{ workerSid: agent }, (e) => e.eventData.worker_sid === agent],
      [{ taskChannel: 'chat' }, (e) => e.eventData.task_channel_unique_name === 'chat'],
      [{ taskChannel: 'TC' + '0'.repeat(31) + '2' }, (e) => e.eventData.task_channel_unique_name === 'voice'],
      [{ reservationSid: reservation }, (e) => e.eventData.reservation_sid === reservation],
      [{ taskSid: voiceTask.eventData.task_sid }, (e) => e.eventData.task_sid === voiceTask.eventData.task_sid],
      [{ taskQueueSid: queue }, (e) => e.eventData.task_queue_sid === queue],
      [
        { workerSid: agent, eventType: 'reservation.completed', taskChannel: 'voice' },
        (e) =>
          e.eventData.worker_sid === agent &&
          e.eventType === 'reservation.completed' &&
          e.eventData.task_channel_unique_name === 'voice',
      ],
    ];
    for (const [filter, keep] of cases) {
      const expected = all.filter(keep).map((e) => e.sid);
      expect(expected.length).toBeGreaterThan(0);
      expect((await allEvents(60, filter)).map((e) => e.sid)).toEqual(expected);
    }
  });

  it('bounds the window with StartDate and EndDate (inclusive), Date objects serialized by the SDK', async () => {
    await seedRecent();
    const all = await allEvents();
    const middle = all[Math.floor(all.length / 2)];
    const start = new Date(Math.floor(middle.eventDateMs / 1000) * 1000);
    const end = new Date(start.getTime() + 5 * 60_000);
    const inWindow = await workspace().events.list({ startDate: start, endDate: end, pageSize: 1000 });
    const expected = all.filter((e) => e.eventDateMs >= start.getTime() && e.eventDateMs <= end.getTime());
    expect(inWindow.map((e) => e.sid)).toEqual(expected.map((e) => e.sid));
    expect(inWindow.map((e) => e.sid)).toContain(middle.sid);
  });

  it('pages across several pages with list() and each(); next_page_url repeats the filters', async () => {
    await seedRecent();
    const all = await allEvents(60, { eventType: 'reservation.created' });
    expect(all.length).toBeGreaterThan(12);
    const paged = await workspace().events.list({ minutes: 60, eventType: 'reservation.created', pageSize: 5 });
    expect(paged.map((e) => e.sid)).toEqual(all.map((e) => e.sid));

    const seen: string[] = [];
    const params = { minutes: 60, eventType: 'reservation.created', pageSize: 4 };
    await workspace().events.each(params, (e) => void seen.push(e.sid));
    expect(seen).toEqual(all.map((e) => e.sid));

    const limited = await workspace().events.list({ minutes: 60, pageSize: 5, limit: 7 });
    expect(limited).toHaveLength(7);

    const page = await workspace().events.page({ minutes: 60, eventType: 'reservation.created', pageSize: 5 });
    const next = new URL(page.nextPageUrl!);
    expect(next.origin).toBe(t.emulator.url);
    expect(next.searchParams.get('EventType')).toBe('reservation.created');
    expect(next.searchParams.get('Minutes')).toBe('60');
    expect(next.searchParams.get('PageSize')).toBe('5');
  });

  // Official spec, taskrouter ListEvent: retention 30 days, `Minutes` with no maximum, and "Task Attributes for
  // Events occurring more 43,200 minutes ago will be redacted" (how long past 30 days and the redacted form are
  // unconfirmed: one day, "{}").
  it('lists events up to a day past the 30-day retention, with their task attributes redacted; nothing older', async () => {
    const result = await t.admin.seed({ agents: 2, callsPerAgent: 12, days: 45 });
    const now = Date.now();
    const stored = t.emulator.state.taskrouter.events;
    const gone = stored.filter((e) => e.eventDateMs < now - 31 * DAY - 60_000);
    expect(gone.length).toBeGreaterThan(0);

    const listed = await workspace().events.list({ minutes: 60 * 24 * 60, pageSize: 1000 }); // no cap on Minutes
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.length).toBeLessThan(result.events);
    const redacted = listed.filter((e) => e.eventDateMs < now - 43_200 * 60_000 - 5000);
    const fresh = listed.filter((e) => e.eventDateMs > now - 43_200 * 60_000 + 5000);
    expect(redacted.length).toBeGreaterThan(0);
    for (const e of listed) expect(e.eventDateMs).toBeGreaterThanOrEqual(now - 31 * DAY - 5000);
    for (const e of redacted)
      if (e.eventData.task_attributes !== undefined) expect(e.eventData.task_attributes).toBe('{}');
    expect(fresh.some((e) => e.eventData.task_attributes !== undefined && e.eventData.task_attributes !== '{}')).toBe(
      true,
    );
    expect(await rejection(workspace().events(gone[0].sid).fetch())).toMatchObject({ status: 404, code: 20404 });
  });

  // Official docs (taskrouter/api/event): "Pagination is not supported under this resource" and no order is
  // documented: the emulator can answer newest first, oldest first or shuffled within a page.
  it('answers the same events in the configured order', async () => {
    await seedRecent();
    const sids = async () => (await workspace().events.list({ minutes: 60, pageSize: 7 })).map((e) => e.sid);
    const newest = await sids();
    await t.admin.setLimits({ eventsOrder: 'oldest' });
    try {
      expect(await sids()).toEqual([...newest].reverse());
      await t.admin.setLimits({ eventsOrder: 'shuffled' });
      const shuffled = await sids();
      expect(shuffled).not.toEqual(newest);
      expect([...shuffled].sort()).toEqual([...newest].sort());
      // Within a page only: each page of 7 holds the same events as in newest-first order.
      for (let i = 0; i < newest.length; i += 7)
        expect(shuffled.slice(i, i + 7).sort()).toEqual(newest.slice(i, i + 7).sort());
    } finally {
      await t.admin.setLimits({ eventsOrder: 'newest' });
    }
  });

  it('fetches an event by SID and refuses bad parameters', async () => {
    await seedRecent();
    const [first] = await allEvents();
    const fetched = await workspace().events(first.sid).fetch();
    expect(fetched.toJSON()).toEqual(first.toJSON());
    expect(
      await rejection(
        workspace()
          .events('EV' + '0'.repeat(32))
          .fetch(),
      ),
    ).toMatchObject({ status: 404, code: 20404 });
    expect(await rejection(workspace().events.list({ minutes: 0 }))).toMatchObject({ status: 400 });
    expect(await workspace().events.list({ minutes: 43_201 })).toBeInstanceOf(Array); // no 43,200 cap
    const bad = await raw(`/v1/Workspaces/${t.emulator.config.workspaceSid}/Events?StartDate=yesterday`);
    expect(bad).toMatchObject({ status: 400, body: { status: 400, code: 20001 } });
  });
});
