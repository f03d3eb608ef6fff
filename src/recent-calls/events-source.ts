/**
 * Where the job learns which agent handled which call: TaskRouter `reservation.completed` events of the voice channel.
 * One record per completed voice reservation (agent, task), keyed by item-key.ts; never merged by call SID, because
 * Flex dialpad (outbound) tasks carry no call SID at all (flex-project-template, dual-channel-recording:
 * "Outbound calls initiated from Flex (via StartOutboundCall Action) do not include call_sid and conference metadata
 * in task attributes"). Those are tied to their customer leg later (outbound-match.ts).
 *
 * Why only `reservation.completed`: it is the one event per (agent, task) that says the agent really handled the task
 * (accepted, talked, wrapped up), and it carries everything the record needs except the call's own timing: the task
 * attributes (call_sid, from, to, direction), the queue, the worker and its attributes, and `task_age` (seconds since
 * the task was created). Pairing it with `reservation.accepted` / `reservation.wrapup` would triple the event reads and
 * need events from earlier windows; the Calls list (calls-source.ts) gives the call's real start, end and duration in
 * bulk instead, and `event time - task_age` is the fallback start when a call is not in that list.
 *
 * The Events API's ordering is unconfirmed, so a window is read whole (every page) before any of it is trusted.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Twilio } from 'twilio';
import { isoSeconds, jsonPage, TASKROUTER_V1_URL } from '../twilio/json-pages';
import { itemKeyFromRestEvent, keyTaskCreatedSeconds } from './item-key';
import { hasNextPage, PageBudget, type PageLike } from './paging';
import { isWorkerSid } from './map-name';
import { toE164 } from './phone-number';

export const COMPLETED_EVENT_TYPE = 'reservation.completed';
export const VOICE_CHANNEL = 'voice';
/** The Events list's PageSize maximum (official spec: taskrouter ListEvent PageSize, 1 to 1000). */
const PAGE_SIZE = 1000;

const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const TASK_SID = /^WT[0-9a-fA-F]{32}$/;

/** A completed voice reservation: one agent's handling of one call. */
export interface Completion {
  eventSid: string;
  /** When the reservation completed (ms since epoch, Twilio's clock). */
  eventDateMs: number;
  workerSid: string;
  /** The agent's client identity (from `contact_uri`), when the event carries the worker attributes. */
  identity?: string;
  taskSid: string;
  reservationSid?: string;
  /** The item's key (item-key.ts): fixed by the task, identical in every path that reports this reservation. */
  itemKey: string;
  /** When the task was created (epoch ms, whole seconds), as the key has it. */
  taskCreatedMs: number;
  /** The call the task names (`call_sid`, or the conference's customer leg); null for an unenriched outbound task. */
  callSid: string | null;
  direction: string;
  /** True for outbound (dialpad) tasks: `from` is the caller ID and `to` the dialled number. */
  outbound: boolean;
  from: string;
  to: string;
  queue: string;
  /** Seconds from the task's creation to this event, when present. */
  taskAgeSeconds?: number;
}

/** The parts of an Event resource this module reads (the SDK's EventInstance has them). */
export interface RawEvent {
  sid: string;
  eventType: string;
  eventDateMs?: number | string | null;
  eventDate?: Date | string | null;
  eventData: unknown;
}

/** An Event resource as the Events list sends it (its JSON), in RawEvent's terms. */
export function rawEventOf(json: Record<string, unknown>): RawEvent {
  return {
    sid: str(json.sid),
    eventType: str(json.event_type),
    eventDateMs: json.event_date_ms as RawEvent['eventDateMs'],
    eventDate: json.event_date as RawEvent['eventDate'],
    eventData: json.event_data,
  };
}

export type ParseResult = { ok: true; completion: Completion } | { ok: false; reason: string };

/** JSON-string or object attributes (the API sends strings; be tolerant of objects). */
export function parseAttributes(value: unknown): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  if (typeof value !== 'string' || value === '') return {};
  try {
    const parsed = JSON.parse(value);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** `client:alice_40example_2Ecom` → `alice_40example_2Ecom`; undefined for anything else. */
export function identityFromContactUri(contactUri: unknown): string | undefined {
  if (typeof contactUri !== 'string') return undefined;
  const match = /^client:(.+)$/.exec(contactUri.trim());
  return match && match[1].length <= 256 ? match[1] : undefined;
}

const e164OrRaw = (value: string) => toE164(value) ?? value;

function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function eventTime(raw: RawEvent): number | undefined {
  const ms = Number(raw.eventDateMs);
  if (raw.eventDateMs !== null && raw.eventDateMs !== undefined && Number.isFinite(ms) && ms > 0) return ms;
  const date = raw.eventDate instanceof Date ? raw.eventDate.getTime() : Date.parse(str(raw.eventDate));
  return Number.isFinite(date) ? date : undefined;
}

/**
 * Task attributes as events older than 43,200 minutes carry them: the spec says they "will be redacted" (how is
 * unconfirmed: absent, empty, not JSON, or a placeholder string). A voice task's attributes always name a direction
 * or a party, so attributes that name none are taken as redacted.
 */
function isRedacted(raw: unknown, attributes: Record<string, unknown>): boolean {
  if (raw === undefined || raw === null || raw === '') return true;
  return !['call_sid', 'direction', 'from', 'to', 'caller', 'called', 'outbound_to'].some(
    (k) => str(attributes[k]) !== '',
  );
}

/** The call SID a voice task is about: `call_sid`, else the customer leg of its conference. */
function callSidOf(attributes: Record<string, unknown>): string | undefined {
  const direct = str(attributes.call_sid);
  if (CALL_SID.test(direct)) return direct;
  const conference = attributes.conference as { participants?: { customer?: unknown } } | undefined;
  const customer = str(conference?.participants?.customer);
  return CALL_SID.test(customer) ? customer : undefined;
}

/** Reads one event; not-ok (with a reason) for anything that is not a completed voice call reservation. */
export function parseCompletion(raw: RawEvent): ParseResult {
  if (raw.eventType !== COMPLETED_EVENT_TYPE) return { ok: false, reason: 'not-completed-event' };
  const data = (raw.eventData && typeof raw.eventData === 'object' ? raw.eventData : {}) as Record<string, unknown>;
  const channel = str(data.task_channel_unique_name);
  if (channel !== '' && channel !== VOICE_CHANNEL) return { ok: false, reason: 'not-voice' };
  const eventDateMs = eventTime(raw);
  if (eventDateMs === undefined) return { ok: false, reason: 'no-event-date' };
  const workerSid = str(data.worker_sid);
  if (!isWorkerSid(workerSid)) return { ok: false, reason: 'no-worker' };
  const taskSid = str(data.task_sid);
  if (!TASK_SID.test(taskSid)) return { ok: false, reason: 'no-task' };
  const task = parseAttributes(data.task_attributes);
  if (isRedacted(data.task_attributes, task)) return { ok: false, reason: 'redacted' };
  const itemKey = itemKeyFromRestEvent({ eventDateMs, eventData: data });
  const createdSeconds = keyTaskCreatedSeconds({
    taskDateCreated: data.task_date_created,
    eventTime: eventDateMs,
    taskAge: data.task_age,
  });
  if (!itemKey || createdSeconds === undefined) return { ok: false, reason: 'no-task-time' };
  const callSid = callSidOf(task) ?? null;
  const direction = str(task.direction) || 'inbound';
  const outbound = direction.toLowerCase().startsWith('outbound');
  // Inbound: caller → called. Outbound (Flex dialpad): caller ID → outbound_to (the customer).
  // Dialled numbers may be as typed: E.164 when they can be read as a phone number (the Calls list's form).
  const from = outbound ? e164OrRaw(str(task.from)) : str(task.caller) || str(task.from);
  const to = outbound ? e164OrRaw(str(task.outbound_to) || str(task.to)) : str(task.called) || str(task.to);
  const worker = parseAttributes(data.worker_attributes);
  const age = Number(str(data.task_age));
  return {
    ok: true,
    completion: {
      eventSid: raw.sid,
      eventDateMs,
      workerSid,
      identity: identityFromContactUri(worker.contact_uri),
      taskSid,
      reservationSid: str(data.reservation_sid) || undefined,
      itemKey,
      taskCreatedMs: createdSeconds * 1000,
      callSid,
      direction,
      outbound,
      from,
      to,
      queue: str(data.task_queue_name),
      taskAgeSeconds: str(data.task_age) !== '' && Number.isFinite(age) && age >= 0 ? age : undefined,
    },
  };
}

export interface WindowRead {
  /** Completions whose event time is in [fromMs, toMs), sorted by (time, event SID); empty unless the read is complete. */
  completions: Completion[];
  /** Events read that were not usable completions, by reason. */
  ignored: Record<string, number>;
  /** True when the window holds more than `maxEvents`: nothing of it was returned, read a smaller window. */
  overflow: boolean;
  /**
   * True when the budget ran out before every page was read: nothing of it was returned. `pages` tells whether any
   * page was read (0: the window was not started at all).
   */
  outOfBudget: boolean;
  /** Events read (all pages so far). */
  eventsRead: number;
  /**
   * Usable completions of the window among the events read so far: all of them when the read is complete, a lower
   * bound of the window's completions when it is not.
   */
  completionsSeen: number;
  pages: number;
}

/**
 * Reads every completed voice reservation with an event time in [fromMs, toMs) (whole seconds), all pages, at most
 * `maxEvents`; beyond that the window is reported as overflowing (ordering is unconfirmed, so a partial read is
 * useless). No page is started that `budget` says would end past the reads' deadline: the read is then reported
 * out of budget, like an overflow. StartDate / EndDate are inclusive and second-grained: the half-open filter is
 * applied here.
 *
 * Each page is parsed while the next one is requested, a few events at a time between turns of the event loop: a
 * 1000-event page takes tens of milliseconds to parse, and the writes in flight beside this read (a window read ahead)
 * must not wait for it.
 */
export async function readCompletions(
  client: Twilio,
  options: {
    workspaceSid: string;
    fromMs: number;
    toMs: number;
    maxEvents: number;
    budget?: PageBudget;
    /** Called as each page after the first is requested, with the events read so far. */
    onNextPage?: (eventsRead: number) => void;
  },
): Promise<WindowRead> {
  const budget = options.budget ?? PageBudget.unlimited();
  const selector = new CompletionSelector(options.fromMs, options.toMs);
  let eventsRead = 0;
  let pages = 0;
  const incomplete = (why: 'overflow' | 'outOfBudget'): WindowRead => ({
    completions: [],
    ignored: {},
    overflow: why === 'overflow',
    outOfBudget: why === 'outOfBudget',
    eventsRead,
    completionsSeen: why === 'outOfBudget' ? selector.count : 0,
    pages,
  });
  if (!budget.allowsPage()) return incomplete('outOfBudget');
  let page: PageLike<RawEvent> | undefined = await budget.page(() =>
    jsonPage(
      client,
      `${TASKROUTER_V1_URL}/Workspaces/${options.workspaceSid}/Events`,
      {
        EventType: COMPLETED_EVENT_TYPE,
        TaskChannel: VOICE_CHANNEL,
        StartDate: isoSeconds(options.fromMs),
        EndDate: isoSeconds(options.toMs),
        PageSize: Math.min(PAGE_SIZE, Math.max(1, options.maxEvents)),
      },
      'events',
      rawEventOf,
    ),
  );
  pages = 1;
  while (page) {
    eventsRead += page.instances.length;
    const current: PageLike<RawEvent> = page;
    let next: Promise<PageLike<RawEvent> | undefined> | undefined;
    if (hasNextPage(current)) {
      if (eventsRead >= options.maxEvents) return incomplete('overflow');
      if (!budget.allowsPage()) {
        await selector.addInTurns(current.instances); // counted: completionsSeen is a lower bound of the window's
        return incomplete('outOfBudget');
      }
      next = budget.page(async () => current.nextPage());
      next.catch(() => undefined); // awaited below, after this page is parsed
      options.onNextPage?.(eventsRead);
    }
    try {
      await selector.addInTurns(current.instances);
    } catch (error) {
      await next?.catch(() => undefined); // no request is left running behind a failed read
      throw error;
    }
    page = next && (await next);
    if (page) pages += 1;
    if (page && page.instances.length === 0) break;
  }
  if (eventsRead > options.maxEvents) return incomplete('overflow');
  const selected = selector.result();
  return {
    ...selected,
    overflow: false,
    outOfBudget: false,
    eventsRead,
    completionsSeen: selected.completions.length,
    pages,
  };
}

/** Events parsed per turn of the event loop. */
const EVENTS_PER_TURN = 100;

/** Parses events into completions, page by page: keeps [fromMs, toMs), drops repeated event SIDs. */
class CompletionSelector {
  private readonly ignored: Record<string, number> = {};
  private readonly seen = new Set<string>();
  private readonly completions: Completion[] = [];

  constructor(
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {}

  /** Usable completions of the window so far. */
  get count(): number {
    return this.completions.length;
  }

  add(raw: readonly RawEvent[], from = 0, to = raw.length): void {
    for (let i = from; i < to; i++) {
      const event = raw[i];
      if (this.seen.has(event.sid)) continue;
      this.seen.add(event.sid);
      const parsed = parseCompletion(event);
      if (!parsed.ok) {
        this.ignored[parsed.reason] = (this.ignored[parsed.reason] ?? 0) + 1;
        continue;
      }
      const t = parsed.completion.eventDateMs;
      if (t < this.fromMs || t >= this.toMs) continue; // belongs to a neighbouring window
      this.completions.push(parsed.completion);
    }
  }

  /** `add`, EVENTS_PER_TURN events at a time, letting other work run in between. */
  async addInTurns(raw: readonly RawEvent[]): Promise<void> {
    for (let from = 0; from < raw.length; from += EVENTS_PER_TURN) {
      if (from > 0) await yieldToEventLoop();
      this.add(raw, from, Math.min(raw.length, from + EVENTS_PER_TURN));
    }
  }

  /** The completions sorted by (time, SID), and the events not taken, by reason. */
  result(): { completions: Completion[]; ignored: Record<string, number> } {
    return { completions: this.completions.sort(compareCompletions), ignored: this.ignored };
  }
}

/** Pure part of readCompletions: parse, keep [fromMs, toMs), drop repeated event SIDs, sort by (time, SID). */
export function selectCompletions(
  raw: readonly RawEvent[],
  fromMs: number,
  toMs: number,
): { completions: Completion[]; ignored: Record<string, number> } {
  const selector = new CompletionSelector(fromMs, toMs);
  selector.add(raw);
  return selector.result();
}

export function compareCompletions(a: Completion, b: Completion): number {
  return a.eventDateMs - b.eventDateMs || (a.eventSid < b.eventSid ? -1 : a.eventSid > b.eventSid ? 1 : 0);
}
