/**
 * TaskRouter v1 (read side): Workspaces, Workers and the Events log the recent-calls job reads.
 *
 * Events live in one array sorted by time. A list query binary-searches its time window (default: the last 15
 * minutes), filters that slice linearly and answers in the configured order (`eventsOrder`: newest first, oldest
 * first, or shuffled within each page): the real list's order is not documented, so clients must not rely on it.
 *
 * Retention (official spec, taskrouter ListEvent): the log keeps 30 days, yet `Minutes` has no maximum and "Task
 * Attributes for Events occurring more 43,200 minutes ago will be redacted": so an event somewhat older than 30 days
 * may still be listed, with its task attributes redacted. Unconfirmed: how long past 30 days (here one day) and what
 * a redacted value looks like (here `"{}"`).
 */
import { DAY_MS, isoDate } from '../core/clock';
import { badRequest, notFound } from '../core/errors';
import { metaPage, metaPageInTurns } from '../core/paging';
import type { EmuRequest, EmuResponse, Router } from '../core/router';
import type { Emulator } from '../server';

/** Past this age an event's task attributes are redacted (43,200 minutes). */
export const EVENT_REDACTION_MS = 43_200 * 60_000;
/** How far back events are still listed or fetched (30 days, plus an unconfirmed day of redacted ones). */
export const EVENT_RETENTION_MS = 31 * DAY_MS;
const DEFAULT_EVENT_MINUTES = 15;
export const REDACTED_ATTRIBUTES = '{}';
export type EventsOrder = 'newest' | 'oldest' | 'shuffled';

/** A fixed, well-formed SID for the workspace's built-in objects (`WA000…01`). */
export const fixedSid = (prefix: string, n: number) => prefix + n.toString(16).padStart(32, '0');

export interface ActivityRecord {
  sid: string;
  friendlyName: string;
  available: boolean;
}

export interface TaskQueueRecord {
  sid: string;
  friendlyName: string;
  targetWorkers: string;
}

export interface TaskChannelRecord {
  sid: string;
  uniqueName: string;
}

export interface WorkflowRecord {
  sid: string;
  friendlyName: string;
}

export interface WorkspaceRecord {
  sid: string;
  friendlyName: string;
  dateCreated: number;
  dateUpdated: number;
  defaultActivitySid: string;
  timeoutActivitySid: string;
  multiTaskEnabled: boolean;
  prioritizeQueueOrder: 'FIFO' | 'LIFO';
  /** Real Flex workspaces answer "" when no callback is configured. */
  eventCallbackUrl: string;
  eventsFilter: string | null;
}

export interface WorkerRecord {
  sid: string;
  friendlyName: string;
  /** Parsed worker attributes; rendered as a JSON string like the real API. */
  attributes: Record<string, unknown>;
  activityName: string;
  activitySid: string;
  available: boolean;
  dateCreated: number;
  dateUpdated: number;
  dateStatusChanged: number;
}

/**
 * One entry of the Events log. Read-only once stored: the seed's events build `eventData` (and the description and
 * paths) when read, so the log holds tens of thousands of them cheaply.
 */
export interface EventRecord {
  readonly sid: string;
  readonly eventType: string;
  readonly eventDateMs: number;
  readonly resourceSid: string;
  /** Lowercase, as the real API prints it: `task`, `reservation`, `worker`. */
  readonly resourceType: string;
  /** Path of the resource under the workspace URL, e.g. `/Tasks/WT…/Reservations/WR…`. */
  readonly resourcePath: string;
  readonly description: string;
  /** snake_case keys; numbers as strings; task_attributes / worker_attributes as JSON strings. */
  readonly eventData: Record<string, unknown>;
  readonly actorSid: string;
  readonly actorType: string;
  /** Path of the actor under the workspace URL ('' for the workspace itself). */
  readonly actorPath: string;
  readonly sourceIpAddress: string;
  // The event_data values the list filters compare (undefined when event_data lacks the key), so that a scan over
  // the log never builds event_data.
  readonly workerSid: string | undefined;
  readonly taskSid: string | undefined;
  readonly reservationSid: string | undefined;
  readonly taskQueueSid: string | undefined;
  readonly workflowSid: string | undefined;
  readonly taskChannelSid: string | undefined;
  readonly taskChannelUniqueName: string | undefined;
  // What the emulator knows and never renders (ground truth for tests): the task's customer leg and creation time.
  readonly customerCallSid?: string;
  readonly taskCreatedMs?: number;
}

export interface TaskRouterState {
  workspace: WorkspaceRecord;
  activities: Map<string, ActivityRecord>;
  taskQueues: Map<string, TaskQueueRecord>;
  taskChannels: Map<string, TaskChannelRecord>;
  workflows: Map<string, WorkflowRecord>;
  workers: Map<string, WorkerRecord>;
  /** Sorted by eventDateMs ascending (ties keep insertion order). Add through addEvents(). */
  events: EventRecord[];
  eventsBySid: Map<string, EventRecord>;
  /** Each worker's events, in the same order as `events`: a WorkerSid query reads only that worker's. */
  eventsByWorker: Map<string, EventRecord[]>;
}

const bySid = <T extends { sid: string }>(items: T[]) => new Map(items.map((i) => [i.sid, i]));

/** A fresh Flex workspace: Flex's default activities, channels, workflow and a few queues; no workers, no events. */
export function createTaskRouterState(emu: Emulator): TaskRouterState {
  const now = emu.clock.now();
  const activities: ActivityRecord[] = [
    { sid: fixedSid('WA', 1), friendlyName: 'Offline', available: false },
    { sid: fixedSid('WA', 2), friendlyName: 'Available', available: true },
    { sid: fixedSid('WA', 3), friendlyName: 'Unavailable', available: false },
    { sid: fixedSid('WA', 4), friendlyName: 'Break', available: false },
  ];
  return {
    workspace: {
      sid: emu.config.workspaceSid,
      friendlyName: 'Flex Task Assignment',
      dateCreated: now,
      dateUpdated: now,
      defaultActivitySid: activities[0].sid,
      timeoutActivitySid: activities[0].sid,
      multiTaskEnabled: true,
      prioritizeQueueOrder: 'FIFO',
      eventCallbackUrl: '',
      eventsFilter: null,
    },
    activities: bySid(activities),
    taskQueues: bySid([
      { sid: fixedSid('WQ', 1), friendlyName: 'Everyone', targetWorkers: '1==1' },
      { sid: fixedSid('WQ', 2), friendlyName: 'Sales', targetWorkers: '1==1' },
      { sid: fixedSid('WQ', 3), friendlyName: 'Support', targetWorkers: '1==1' },
      { sid: fixedSid('WQ', 4), friendlyName: 'Billing', targetWorkers: '1==1' },
    ]),
    taskChannels: bySid([
      { sid: fixedSid('TC', 1), uniqueName: 'default' },
      { sid: fixedSid('TC', 2), uniqueName: 'voice' },
      { sid: fixedSid('TC', 3), uniqueName: 'chat' },
    ]),
    workflows: bySid([{ sid: fixedSid('WW', 1), friendlyName: 'Assign to Anyone' }]),
    workers: new Map(),
    events: [],
    eventsBySid: new Map(),
    eventsByWorker: new Map(),
  };
}

/** Stores events, keeping the log sorted by time (one sort per unsorted batch; Array#sort is stable). */
export function addEvents(state: TaskRouterState, batch: readonly EventRecord[]): void {
  if (batch.length === 0) return;
  const last = state.events.length > 0 ? state.events[state.events.length - 1].eventDateMs : -Infinity;
  let sorted = true;
  const workersTouched = new Set<EventRecord[]>();
  for (let i = 0; i < batch.length; i++) {
    const event = batch[i];
    const previous = i === 0 ? last : batch[i - 1].eventDateMs;
    if (event.eventDateMs < previous) sorted = false;
    state.events.push(event);
    state.eventsBySid.set(event.sid, event);
    if (event.workerSid) {
      let own = state.eventsByWorker.get(event.workerSid);
      if (!own) state.eventsByWorker.set(event.workerSid, (own = []));
      own.push(event);
      workersTouched.add(own);
    }
  }
  if (sorted) return;
  // The same stable sort of the same insertion order: each worker's list keeps the log's order of its events.
  const byTime = (a: EventRecord, b: EventRecord) => a.eventDateMs - b.eventDateMs;
  state.events.sort(byTime);
  for (const own of workersTouched) own.sort(byTime);
}

/** Index of the first event at or after `ms`. */
function lowerBound(events: readonly EventRecord[], ms: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid].eventDateMs < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering (every field the OpenAPI spec documents, in Twilio's formats)

function render(emu: Emulator) {
  const state = () => emu.state.taskrouter;
  const wsUrl = (req: EmuRequest) => `${req.baseUrl}/v1/Workspaces/${state().workspace.sid}`;
  const activity = (sid: string) => state().activities.get(sid);
  return {
    workspace(req: EmuRequest, w: WorkspaceRecord) {
      const url = wsUrl(req);
      return {
        account_sid: emu.config.accountSid,
        date_created: isoDate(w.dateCreated),
        date_updated: isoDate(w.dateUpdated),
        default_activity_name: activity(w.defaultActivitySid)?.friendlyName ?? null,
        default_activity_sid: w.defaultActivitySid,
        event_callback_url: w.eventCallbackUrl,
        events_filter: w.eventsFilter,
        friendly_name: w.friendlyName,
        multi_task_enabled: w.multiTaskEnabled,
        sid: w.sid,
        timeout_activity_name: activity(w.timeoutActivitySid)?.friendlyName ?? null,
        timeout_activity_sid: w.timeoutActivitySid,
        prioritize_queue_order: w.prioritizeQueueOrder,
        url,
        links: {
          activities: `${url}/Activities`,
          statistics: `${url}/Statistics`,
          real_time_statistics: `${url}/RealTimeStatistics`,
          cumulative_statistics: `${url}/CumulativeStatistics`,
          task_queues: `${url}/TaskQueues`,
          tasks: `${url}/Tasks`,
          workers: `${url}/Workers`,
          workflows: `${url}/Workflows`,
          task_channels: `${url}/TaskChannels`,
          events: `${url}/Events`,
        },
      };
    },
    worker(req: EmuRequest, w: WorkerRecord) {
      const ws = wsUrl(req);
      const url = `${ws}/Workers/${w.sid}`;
      return {
        account_sid: emu.config.accountSid,
        activity_name: w.activityName,
        activity_sid: w.activitySid,
        attributes: JSON.stringify(w.attributes),
        available: w.available,
        date_created: isoDate(w.dateCreated),
        date_status_changed: isoDate(w.dateStatusChanged),
        date_updated: isoDate(w.dateUpdated),
        friendly_name: w.friendlyName,
        sid: w.sid,
        workspace_sid: state().workspace.sid,
        url,
        links: {
          channels: `${url}/Channels`,
          activity: `${ws}/Activities/${w.activitySid}`,
          workspace: ws,
          // Sic: the spec's example points the worker's `statistics` link at the workspace-wide Workers statistics.
          statistics: `${ws}/Workers/Statistics`,
          real_time_statistics: `${ws}/Workers/RealTimeStatistics`,
          cumulative_statistics: `${ws}/Workers/CumulativeStatistics`,
          worker_statistics: `${url}/Statistics`,
          worker_channels: `${url}/Channels`,
          reservations: `${url}/Reservations`,
        },
      };
    },
    /** `now`: the instant the answer is for (a page rendered over several turns uses one). */
    event(req: EmuRequest, e: EventRecord, now = emu.clock.now()) {
      const ws = wsUrl(req);
      const redacted = e.eventDateMs < now - EVENT_REDACTION_MS && e.eventData.task_attributes !== undefined;
      return {
        account_sid: emu.config.accountSid,
        actor_sid: e.actorSid,
        actor_type: e.actorType,
        actor_url: ws + e.actorPath,
        description: e.description,
        event_data: redacted ? { ...e.eventData, task_attributes: REDACTED_ATTRIBUTES } : e.eventData,
        event_date: isoDate(e.eventDateMs),
        event_date_ms: e.eventDateMs,
        event_type: e.eventType,
        resource_sid: e.resourceSid,
        resource_type: e.resourceType,
        resource_url: ws + e.resourcePath,
        sid: e.sid,
        source: 'twilio',
        source_ip_address: e.sourceIpAddress,
        url: `${ws}/Events/${e.sid}`,
        workspace_sid: state().workspace.sid,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Query parsing

/** The query parameters a list answered, repeated in its paging URLs. */
function echoed(req: EmuRequest, names: readonly string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((n) => [n, req.query.get(n) ?? undefined]));
}

function parseDateParam(req: EmuRequest, name: string): number | undefined {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw badRequest(`Invalid ${name}: expected an ISO 8601 date-time, got "${raw}"`);
  return ms;
}

function parseMinutes(req: EmuRequest): number | undefined {
  const raw = req.query.get('Minutes');
  if (raw === null || raw === '') return undefined;
  const minutes = Number(raw);
  if (!Number.isInteger(minutes) || minutes < 1) throw badRequest('Invalid Minutes: must be a positive integer');
  return minutes;
}

/** [start, end] in ms: StartDate, else now − Minutes (default 15); EndDate, else now; never before the retention. */
export function eventWindow(req: EmuRequest, now: number): { start: number; end: number } {
  const startDate = parseDateParam(req, 'StartDate');
  const endDate = parseDateParam(req, 'EndDate');
  const minutes = parseMinutes(req);
  const start = startDate ?? now - (minutes ?? DEFAULT_EVENT_MINUTES) * 60_000;
  return { start: Math.max(start, now - EVENT_RETENTION_MS), end: Math.min(endDate ?? now, now) };
}

type EventTest = (e: EventRecord, value: string) => boolean;

const EVENT_FILTERS: ReadonlyArray<[string, EventTest]> = [
  ['EventType', (e, v) => e.eventType === v],
  ['WorkerSid', (e, v) => e.workerSid === v],
  ['TaskSid', (e, v) => e.taskSid === v],
  ['ReservationSid', (e, v) => e.reservationSid === v],
  ['TaskQueueSid', (e, v) => e.taskQueueSid === v],
  ['WorkflowSid', (e, v) => e.workflowSid === v],
  ['TaskChannel', (e, v) => e.taskChannelUniqueName === v || e.taskChannelSid === v],
  ['Sid', (e, v) => e.sid === v],
];
const EVENT_PARAMS = ['StartDate', 'EndDate', 'Minutes', ...EVENT_FILTERS.map(([name]) => name)];

/** Deterministic shuffle of each `pageSize` slice (by SID hash), so every page holds the same events in another order. */
function shuffleWithinPages(events: EventRecord[], pageSize: number): EventRecord[] {
  const hash = (sid: string) => {
    let h = 2166136261;
    for (let i = 0; i < sid.length; i++) h = Math.imul(h ^ sid.charCodeAt(i), 16777619);
    return h >>> 0;
  };
  const out: EventRecord[] = [];
  for (let i = 0; i < events.length; i += pageSize) {
    out.push(...events.slice(i, i + pageSize).sort((a, b) => hash(a.sid) - hash(b.sid)));
  }
  return out;
}

/** The events a list query selects, in `order` (newest first by default). */
export function selectEvents(
  state: TaskRouterState,
  req: EmuRequest,
  now: number,
  order: EventsOrder = 'newest',
): EventRecord[] {
  const { start, end } = eventWindow(req, now);
  const tests = EVENT_FILTERS.flatMap(([name, test]) => {
    const value = req.query.get(name);
    return value === null || value === '' ? [] : [(e: EventRecord) => test(e, value)];
  });
  const worker = req.query.get('WorkerSid');
  const events = worker ? (state.eventsByWorker.get(worker) ?? []) : state.events;
  const out: EventRecord[] = [];
  if (end < start) return out;
  const first = lowerBound(events, start);
  for (let i = lowerBound(events, end + 1) - 1; i >= first; i--) {
    const e = events[i];
    if (tests.every((t) => t(e))) out.push(e);
  }
  if (order === 'oldest') return out.reverse();
  if (order === 'shuffled') {
    const size = Number(req.query.get('PageSize') ?? 50);
    return shuffleWithinPages(out, Number.isInteger(size) && size > 0 ? Math.min(size, 1000) : 50);
  }
  return out;
}

function parseAvailable(raw: string): boolean {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw badRequest(`Invalid Available: ${raw}`);
}

/**
 * A small subset of TaskRouter's expression language, enough to find a worker by attribute:
 * `path == "value"` clauses (string, number or boolean literals) joined by `and` / `AND` / `&&`.
 */
export function workerMatcher(expression: string): (w: WorkerRecord) => boolean {
  if (/^\s*1\s*==\s*1\s*$/.test(expression)) return () => true;
  const clauses = expression.split(/\s+(?:and|AND|&&)\s+/).map((clause) => {
    const m = /^\s*([A-Za-z_][\w.]*)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(-?\d+(?:\.\d+)?|true|false))\s*$/.exec(clause);
    if (!m) throw badRequest(`Unsupported TargetWorkersExpression (the emulator knows attr == "value"): ${expression}`);
    const literal = m[3] ?? m[4] ?? JSON.parse(m[5]);
    const path = m[1].replace(/^worker\./, '').split('.');
    return { path, equal: m[2] === '==', literal };
  });
  return (w) =>
    clauses.every(({ path, equal, literal }) => {
      let value: unknown = w.attributes;
      for (const key of path) {
        value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
      }
      return (value === literal) === equal;
    });
}

function selectWorkers(state: TaskRouterState, req: EmuRequest): WorkerRecord[] {
  const q = req.query;
  let workers = [...state.workers.values()];
  const friendlyName = q.get('FriendlyName');
  if (friendlyName) workers = workers.filter((w) => w.friendlyName.toLowerCase() === friendlyName.toLowerCase());
  const activityName = q.get('ActivityName');
  if (activityName) workers = workers.filter((w) => w.activityName.toLowerCase() === activityName.toLowerCase());
  const activitySid = q.get('ActivitySid');
  if (activitySid) workers = workers.filter((w) => w.activitySid === activitySid);
  const available = q.get('Available');
  if (available) {
    const wanted = parseAvailable(available);
    workers = workers.filter((w) => w.available === wanted);
  }
  const expression = q.get('TargetWorkersExpression');
  if (expression) workers = workers.filter(workerMatcher(expression));
  // Every queue here targets everyone (1==1): a queue filter keeps all workers if the queue exists.
  const queueSid = q.get('TaskQueueSid');
  const queueName = q.get('TaskQueueName');
  const queues = [...state.taskQueues.values()];
  if (queueSid && !state.taskQueues.has(queueSid)) return [];
  if (queueName && !queues.some((tq) => tq.friendlyName === queueName)) return [];
  return workers;
}

const WORKER_PARAMS = [
  'ActivityName',
  'ActivitySid',
  'Available',
  'FriendlyName',
  'TargetWorkersExpression',
  'TaskQueueName',
  'TaskQueueSid',
  'Ordering',
];

// ---------------------------------------------------------------------------------------------------------------
// Routes

export function registerTaskRouter(router: Router, emu: Emulator): void {
  const r = render(emu);
  const add = (method: string, pattern: string, handler: (req: EmuRequest) => EmuResponse | Promise<EmuResponse>) =>
    router.add('taskrouter', method, pattern, handler);
  const state = () => emu.state.taskrouter;

  const workspace = (req: EmuRequest): WorkspaceRecord => {
    const ws = state().workspace;
    if (req.params.WorkspaceSid !== ws.sid) throw notFound(20404, `The requested resource ${req.path} was not found`);
    return ws;
  };

  add('GET', '/v1/Workspaces', (req) => {
    const name = req.query.get('FriendlyName');
    const all = [state().workspace].filter((w) => !name || w.friendlyName === name);
    const body = metaPage(req, 'workspaces', all, (w) => r.workspace(req, w), echoed(req, ['FriendlyName']));
    return { status: 200, body };
  });
  add('GET', '/v1/Workspaces/:WorkspaceSid', (req) => ({ status: 200, body: r.workspace(req, workspace(req)) }));

  add('GET', '/v1/Workspaces/:WorkspaceSid/Workers', (req) => {
    workspace(req);
    const workers = selectWorkers(state(), req);
    const body = metaPage(req, 'workers', workers, (w) => r.worker(req, w), echoed(req, WORKER_PARAMS));
    return { status: 200, body };
  });
  add('GET', '/v1/Workspaces/:WorkspaceSid/Workers/:WorkerSid', (req) => {
    workspace(req);
    const worker = state().workers.get(req.params.WorkerSid);
    if (!worker) throw notFound(20404, `The requested resource ${req.path} was not found`);
    return { status: 200, body: r.worker(req, worker) };
  });

  add('GET', '/v1/Workspaces/:WorkspaceSid/Events', async (req) => {
    workspace(req);
    const now = emu.clock.now();
    const events = selectEvents(state(), req, now, emu.config.eventsOrder);
    const body = await metaPageInTurns(req, 'events', events, (e) => r.event(req, e, now), echoed(req, EVENT_PARAMS));
    return { status: 200, body };
  });
  add('GET', '/v1/Workspaces/:WorkspaceSid/Events/:Sid', (req) => {
    workspace(req);
    const event = state().eventsBySid.get(req.params.Sid);
    // Past the 30-day retention an event is gone, as on the real service.
    if (!event || event.eventDateMs < emu.clock.now() - EVENT_RETENTION_MS) {
      throw notFound(20404, `The requested resource ${req.path} was not found`);
    }
    return { status: 200, body: r.event(req, event) };
  });
}
