/**
 * Demo and test data: Flex workers, their voice calls (the customer legs in API 2010) and the TaskRouter events an
 * agent handling each call produces, spread over the last `days` days of the emulator clock.
 *
 * Realistic noise that a consumer must tell apart from handled calls:
 * - ~15% of inbound calls are first offered to another agent who rejects it or lets it time out;
 * - callers who hang up in queue (`reservation.canceled` + `task.canceled`, a Call but no agent): callsPerAgent / 10;
 * - chat (Conversations SMS) tasks whose attributes carry `from` / `direction` but no call: callsPerAgent / 8;
 * - worker.activity.update events: callsPerAgent / 5;
 * - transfers (one call, two agents, two tasks naming the same call): callsPerAgent / 15.
 *
 * Outbound (Flex dialpad) tasks look as Flex's StartOutboundCall writes them: `direction: "outbound"`, `from`,
 * `to`, `outbound_to`, `name`, and no `call_sid` nor `conference` (flex-project-template, feature
 * dual-channel-recording, addCallDataToTask: "Outbound calls initiated from Flex (via StartOutboundCall Action) do
 * not include call_sid and conference metadata in task attributes"). A share (`enrichedOutboundShare`) is enriched
 * the way that feature does it, from the browser once the call is up: `conference: {sid}` and `call_sid` written into
 * the task. A few dialled numbers are kept as typed (national format, not E.164). The customer leg is an
 * `outbound-api` call from the caller ID to the dialled number, starting seconds after the task was created.
 * Everything but the absolute times is deterministic for a given emulator state and request (seeded PRNG).
 *
 * Event and call shapes: see SeededEvent, inboundAttributes(), outboundCall() and callResource().
 * Details no source confirmed are marked "unconfirmed" where they are chosen.
 */
import { createHash } from 'node:crypto';
import { addCalls, type CallResource } from './families/api2010';
import {
  addEvents,
  type EventRecord,
  type TaskChannelRecord,
  type TaskQueueRecord,
  type TaskRouterState,
  type WorkerRecord,
  type WorkflowRecord,
  type WorkspaceRecord,
} from './families/taskrouter';
import type { Emulator } from './server';

export interface SeedRequest {
  agents: number;
  callsPerAgent: number;
  days: number;
  /** PRNG seed; defaults to one derived from the request and the number of workers already seeded. */
  seed?: number;
  /** Share of outbound tasks enriched with `call_sid` / `conference.sid` (0–1). Default DEFAULT_ENRICHED_OUTBOUND_SHARE. */
  enrichedOutboundShare?: number;
}

export const DEFAULT_ENRICHED_OUTBOUND_SHARE = 0.25;

export interface SeededAgent {
  workerSid: string;
  identity: string;
  friendlyName: string;
  roles: string[];
}

export interface SeedResult {
  agents: SeededAgent[];
  /** Call records created (handled voice calls plus calls abandoned in queue). */
  calls: number;
  events: number;
  /** Calls one agent handled (inbound and outbound); transferred calls are counted in `transfers`. */
  handledCalls: number;
  /** Calls handled by two agents in turn (two tasks, two completed reservations, one call). */
  transfers: number;
  outboundTasks: number;
  enrichedOutboundTasks: number;
  abandonedCalls: number;
  chatTasks: number;
  seed: number;
}

const SECOND = 1000;
const DAY = 24 * 3600 * SECOND;
const NAMES = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'ken',
  'laura',
  'mallory',
  'niaj',
  'olivia',
  'peggy',
  'quentin',
  'rupert',
  'sybil',
  'trent',
  'ursula',
  'victor',
  'walter',
  'xena',
  'yves',
  'zoe',
];
const SURNAMES = ['Anders', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Huang', 'Ito', 'Jones'];
/** Contact-center numbers (555-01XX: reserved for fiction). */
const OUR_NUMBERS = [
  { number: '+14155550100', sid: 'PN' + 'a'.repeat(31) + '1', city: 'SAN FRANCISCO', state: 'CA', zip: '94105' },
  { number: '+12125550101', sid: 'PN' + 'a'.repeat(31) + '2', city: 'NEW YORK', state: 'NY', zip: '10001' },
];
const CUSTOMER_AREAS = [
  { code: '206', city: 'SEATTLE', state: 'WA', zip: '98101' },
  { code: '312', city: 'CHICAGO', state: 'IL', zip: '60601' },
  { code: '512', city: 'AUSTIN', state: 'TX', zip: '78701' },
  { code: '617', city: 'BOSTON', state: 'MA', zip: '02108' },
  { code: '303', city: 'DENVER', state: 'CO', zip: '80202' },
];
const OPERATING_UNIT_SID = 'OU' + '0'.repeat(31) + '1';
const SYSTEM_IP = '198.51.100.10';

// ---------------------------------------------------------------------------------------------------------------
// Helpers

// Module-level copies: under jest, modules run in a VM context where each global lookup (`Math`) is slow, and these
// run hundreds of thousands of times per big seed.
const { imul, floor, ceil } = Math;

/** mulberry32: a small, fast, seedable PRNG. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** The next 32-bit unsigned integer. */
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  next(): number {
    return this.uint32() / 4294967296;
  }
  int(min: number, max: number): number {
    return min + floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[floor(this.next() * items.length)];
  }
  /** A Twilio-shaped SID from the PRNG (deterministic, unlike core/sids). A flat string: no concatenation ropes. */
  sid(prefix: string): string {
    for (let i = 0; i < 16; i += 4) SID_BYTES.writeUInt32BE(this.uint32(), i);
    return prefix + SID_BYTES.toString('hex');
  }
}

const SID_BYTES = Buffer.alloc(16); // reused: sid() copies it into a string

/** Flex escapes each non-alphanumeric character of the user name as `_` + uppercase hex: `a@b.c` → `a_40b_2Ec`. */
export function flexIdentity(username: string): string {
  let out = '';
  for (const byte of Buffer.from(username, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9]/.test(ch) ? ch : `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function seedFrom(request: SeedRequest, existingWorkers: number): number {
  const text = `${existingWorkers}:${request.agents}:${request.callsPerAgent}:${request.days}`;
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

const epochSeconds = (ms: number) => String(floor(ms / SECOND));

// ---------------------------------------------------------------------------------------------------------------
// The model the generator works with

interface Agent {
  worker: WorkerRecord;
  attributesJson: string;
  ip: string;
  version: number;
}

interface Task {
  sid: string;
  createdMs: number;
  channel: TaskChannelRecord;
  queue: TaskQueueRecord;
  workflow: WorkflowRecord;
  attributes: object;
  attributesJson: string;
  version: number;
  /** The customer leg this task is about (what the emulator knows; unenriched outbound attributes don't say). */
  customerCallSid?: string;
}

interface Reservation {
  sid: string;
  version: number;
}

interface EventInit {
  eventType: string;
  eventDateMs: number;
  /** Task events and reservation events. */
  task?: Task;
  status?: string;
  /** Reservation events (the reserved worker) and worker events. */
  agent?: Agent;
  reservation?: Reservation;
  /** Who acted: the worker (agent's behalf) or TaskRouter itself. */
  byWorker: boolean;
  /** Keys added to (or overriding) event_data. */
  extra?: Readonly<Record<string, string>>;
}

/**
 * One seeded event: a few scalars and shared references, snapshotted when it happens. event_data, the description
 * and the URLs' paths are built when read, that is only for the events a page renders: big seeds stay small and fast.
 *
 * event_data as the Events API prints it: snake_case, every number a string, attributes as JSON strings. Keys follow
 * public code typed against live responses (task_*, task_queue_*, workflow_*, worker_*, reservation_*,
 * operating_unit_sid). Unconfirmed: epoch seconds for task_date_created / task_queue_entered_date, the
 * worker_channel_capacity value, task.* events carrying no worker_* keys. task.created precedes routing, so it has no
 * task_queue_* keys.
 */
class SeededEvent implements EventRecord {
  readonly sid: string;
  readonly eventType: string;
  /** Moved once by place() while its item is laid out; never after it is stored. */
  eventDateMs: number;
  private readonly workspace: WorkspaceRecord;
  private readonly task: Task | undefined;
  private readonly taskAttributes: string | undefined;
  private readonly taskVersion: number;
  private readonly status: string | undefined;
  private readonly agent: Agent | undefined;
  private readonly agentVersion: number;
  readonly reservationSid: string | undefined;
  readonly customerCallSid: string | undefined;
  private readonly reservationVersion: number;
  private readonly byWorker: boolean;
  private readonly extra: Readonly<Record<string, string>> | undefined;

  constructor(sid: string, workspace: WorkspaceRecord, init: EventInit) {
    this.sid = sid;
    this.eventType = init.eventType;
    this.eventDateMs = init.eventDateMs;
    this.workspace = workspace;
    this.task = init.task;
    this.taskAttributes = init.task?.attributesJson;
    this.taskVersion = init.task ? ++init.task.version : 0;
    this.status = init.status;
    this.agent = init.agent;
    this.agentVersion = init.agent?.version ?? 0;
    this.reservationSid = init.reservation?.sid;
    this.customerCallSid = init.task?.customerCallSid;
    this.reservationVersion = init.reservation ? ++init.reservation.version : 0;
    this.byWorker = init.byWorker;
    this.extra = init.extra;
  }

  // The values list filters compare (event_data's), read without building event_data.
  get workerSid() {
    return this.hasWorkerData ? this.agent!.worker.sid : undefined;
  }
  get taskSid() {
    return this.task?.sid;
  }
  get taskQueueSid() {
    return this.routed ? this.task!.queue.sid : undefined;
  }
  get workflowSid() {
    return this.task?.workflow.sid;
  }
  get taskChannelSid() {
    return this.task?.channel.sid;
  }
  get taskChannelUniqueName() {
    return this.task?.channel.uniqueName;
  }
  get taskCreatedMs() {
    return this.task?.createdMs;
  }

  get resourceSid(): string {
    return this.reservationSid ?? this.task?.sid ?? this.agent!.worker.sid;
  }
  get resourceType(): string {
    return this.reservationSid ? 'reservation' : this.task ? 'task' : 'worker';
  }
  get resourcePath(): string {
    if (this.reservationSid) return `/Tasks/${this.task!.sid}/Reservations/${this.reservationSid}`;
    return this.task ? `/Tasks/${this.task.sid}` : `/Workers/${this.agent!.worker.sid}`;
  }
  get actorSid(): string {
    return this.byWorker ? this.agent!.worker.sid : this.workspace.sid;
  }
  get actorType(): string {
    return this.byWorker ? 'worker' : 'workspace';
  }
  get actorPath(): string {
    return this.byWorker ? `/Workers/${this.agent!.worker.sid}` : '';
  }
  get sourceIpAddress(): string {
    return this.byWorker ? this.agent!.ip : SYSTEM_IP;
  }

  /** Unconfirmed wording, except worker.activity.update's (the spec's example: "Worker X updated to Idle Activity"). */
  get description(): string {
    const type = this.eventType;
    const workerName = this.agent?.worker.friendlyName;
    if (this.reservationSid) {
      return `Reservation ${this.reservationSid} for Task ${this.task!.sid} ${type.slice(12)} for Worker ${workerName}`;
    }
    if (!this.task) return `Worker ${workerName} updated to ${this.extra?.worker_activity_name} Activity`;
    if (type === 'task-queue.entered') return `Task ${this.task.sid} entered TaskQueue ${this.task.queue.friendlyName}`;
    if (type === 'task.wrapup') return `Task ${this.task.sid} wrapping up`;
    return `Task ${this.task.sid} ${type.slice(5)}`;
  }

  get eventData(): Record<string, unknown> {
    const data: Record<string, unknown> = {
      operating_unit_sid: OPERATING_UNIT_SID,
      workspace_sid: this.workspace.sid,
      workspace_name: this.workspace.friendlyName,
    };
    if (this.task) this.addTaskData(data, this.task);
    if (this.hasWorkerData) this.addWorkerData(data, this.agent!);
    if (this.reservationSid) {
      data.reservation_sid = this.reservationSid;
      data.reservation_version = String(this.reservationVersion);
    }
    return this.extra ? Object.assign(data, this.extra) : data;
  }

  /** Reservation and worker events carry worker_* keys; task events don't, even when a worker acted (unconfirmed). */
  private get hasWorkerData(): boolean {
    return this.agent !== undefined && (this.reservationSid !== undefined || this.task === undefined);
  }

  /** task.created precedes routing; every later event has the task in its queue. */
  private get routed(): boolean {
    return this.taskVersion > 1;
  }

  private addTaskData(data: Record<string, unknown>, task: Task): void {
    data.task_sid = task.sid;
    data.task_attributes = this.taskAttributes;
    data.task_age = String(Math.max(0, floor((this.eventDateMs - task.createdMs) / SECOND)));
    data.task_priority = '0';
    data.task_assignment_status = this.status;
    data.task_channel_sid = task.channel.sid;
    data.task_channel_unique_name = task.channel.uniqueName;
    data.task_date_created = epochSeconds(task.createdMs);
    data.task_version = String(this.taskVersion);
    data.workflow_sid = task.workflow.sid;
    data.workflow_name = task.workflow.friendlyName;
    if (this.routed) {
      data.task_queue_sid = task.queue.sid;
      data.task_queue_name = task.queue.friendlyName;
      data.task_queue_entered_date = epochSeconds(task.createdMs);
      data.task_queue_target_expression = task.queue.targetWorkers;
    }
  }

  private addWorkerData(data: Record<string, unknown>, agent: Agent): void {
    const w = agent.worker;
    data.worker_sid = w.sid;
    data.worker_name = w.friendlyName;
    data.worker_attributes = agent.attributesJson;
    data.worker_activity_sid = w.activitySid;
    data.worker_activity_name = w.activityName;
    data.worker_available = String(w.available);
    data.worker_version = String(this.agentVersion);
    data.worker_channel_capacity = '1';
  }
}

class SeedBuilder {
  readonly events: SeededEvent[] = [];
  readonly calls: CallResource[] = [];
  readonly tasks: Task[] = [];
  readonly tr: TaskRouterState;
  /** Everyone first, then the other queues. */
  readonly queues: TaskQueueRecord[];
  private readonly workflow: WorkflowRecord;
  private readonly channels: Record<'voice' | 'chat', TaskChannelRecord>;

  constructor(
    readonly emu: Emulator,
    readonly rng: Rng,
  ) {
    this.tr = emu.state.taskrouter;
    this.queues = [...this.tr.taskQueues.values()];
    this.workflow = [...this.tr.workflows.values()][0];
    const channel = (name: string) => [...this.tr.taskChannels.values()].find((c) => c.uniqueName === name)!;
    this.channels = { voice: channel('voice'), chat: channel('chat') };
  }

  newTask(
    channel: 'voice' | 'chat',
    createdMs: number,
    queue: TaskQueueRecord,
    attributes: object,
    customerCallSid?: string,
  ): Task {
    const task: Task = {
      customerCallSid,
      sid: this.rng.sid('WT'),
      createdMs,
      channel: this.channels[channel],
      queue,
      workflow: this.workflow,
      attributes,
      attributesJson: JSON.stringify(attributes),
      version: 0,
    };
    this.tasks.push(task);
    return task;
  }

  /** Flex adds the conference once the agent joins: later events carry it (timing unconfirmed). */
  setAttributes(task: Task, attributes: object): void {
    task.attributes = attributes;
    task.attributesJson = JSON.stringify(attributes);
  }

  private push(init: EventInit): void {
    this.events.push(new SeededEvent(this.rng.sid('EV'), this.tr.workspace, init));
  }

  /**
   * A task.* event. TaskRouter's own transitions are the workspace's; those Flex makes on the agent's behalf
   * (wrap-up, completion) are attributed to the worker (`by`).
   */
  taskEvent(type: string, ms: number, task: Task, status: string, by?: Agent, extra?: Record<string, string>): void {
    this.push({ eventType: type, eventDateMs: ms, task, status, agent: by, byWorker: by !== undefined, extra });
  }

  reservationEvent(
    type: string,
    ms: number,
    task: Task,
    agent: Agent,
    reservation: Reservation,
    status: string,
    byWorker: boolean,
  ): void {
    this.push({ eventType: type, eventDateMs: ms, task, status, agent, reservation, byWorker });
  }

  activityEvent(ms: number, agent: Agent, from: string, to: string, sinceMs: number): void {
    const activities = [...this.tr.activities.values()];
    const prev = activities.find((a) => a.friendlyName === from)!;
    const next = activities.find((a) => a.friendlyName === to)!;
    agent.version += 1;
    const extra = {
      worker_activity_sid: next.sid,
      worker_activity_name: next.friendlyName,
      worker_available: String(next.available),
      worker_previous_activity_sid: prev.sid,
      worker_previous_activity_name: prev.friendlyName,
      worker_time_in_previous_activity: String(floor((ms - sinceMs) / SECOND)),
      worker_time_in_previous_activity_ms: String(ms - sinceMs),
    };
    this.push({ eventType: 'worker.activity.update', eventDateMs: ms, agent, byWorker: true, extra });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Agents

function nextUsername(taken: Set<string>, k: { i: number }): string {
  for (;;) {
    const base = NAMES[k.i % NAMES.length];
    const round = floor(k.i / NAMES.length);
    k.i += 1;
    const name = round === 0 ? base : `${base}${round + 1}`;
    if (!taken.has(`${name}@example.com`)) return name;
  }
}

function createAgents(b: SeedBuilder, count: number, now: number, spanMs: number): Agent[] {
  const tr = b.tr;
  const taken = new Set([...tr.workers.values()].map((w) => w.friendlyName));
  const activities = [...tr.activities.values()];
  const k = { i: 0 };
  const agents: Agent[] = [];
  for (let n = 0; n < count; n++) {
    const name = nextUsername(taken, k);
    const email = `${name}@example.com`;
    taken.add(email);
    const identity = flexIdentity(email);
    const base = name.replace(/\d+$/, '');
    const suffix = name.slice(base.length);
    const fullName = `${base[0].toUpperCase()}${base.slice(1)} ${b.rng.pick(SURNAMES)}${suffix ? ` ${suffix}` : ''}`;
    const attributes = {
      routing: { skills: [], levels: {} },
      full_name: fullName,
      image_url: `https://www.gravatar.com/avatar/${createHash('md5').update(email).digest('hex')}?d=mp`,
      roles: ['agent'],
      contact_uri: `client:${identity}`,
      email,
    };
    const activity = b.rng.chance(0.6) ? activities[0] : b.rng.chance(0.75) ? activities[1] : activities[3];
    const created = now - spanMs - b.rng.int(1, 90) * DAY;
    const worker: WorkerRecord = {
      sid: b.rng.sid('WK'),
      friendlyName: email,
      attributes,
      activityName: activity.friendlyName,
      activitySid: activity.sid,
      available: activity.available,
      dateCreated: created,
      dateUpdated: created,
      dateStatusChanged: now - b.rng.int(60, 8 * 3600) * SECOND,
    };
    tr.workers.set(worker.sid, worker);
    agents.push({ worker, attributesJson: JSON.stringify(attributes), ip: `203.0.113.${1 + (n % 254)}`, version: 1 });
  }
  return agents;
}

// ---------------------------------------------------------------------------------------------------------------
// Calls and tasks. Each generator lays out one timeline from `t`.

interface Customer {
  number: string;
  geo: { city: string; state: string; zip: string; country: string };
}

function customerNumber(rng: Rng): Customer {
  if (rng.chance(0.1)) {
    // Ofcom's drama range: +44 7700 900000–900999.
    const number = `+447700900${`${rng.int(0, 999)}`.padStart(3, '0')}`;
    return { number, geo: { city: '', state: '', zip: '', country: 'GB' } };
  }
  const area = rng.pick(CUSTOMER_AREAS);
  return { number: `+1${area.code}55501${`${rng.int(0, 99)}`.padStart(2, '0')}`, geo: { ...area, country: 'US' } };
}

function price(durationSeconds: number, perMinute: number): string {
  return (-ceil(durationSeconds / 60) * perMinute).toFixed(5);
}

/** Flex inbound voice task attributes (Studio "Send to Flex" + the call's parameters). */
function inboundAttributes(emu: Emulator, callSid: string, customer: Customer, ours: (typeof OUR_NUMBERS)[0]) {
  const g = customer.geo;
  return {
    type: 'inbound',
    name: customer.number,
    direction: 'inbound',
    call_sid: callSid,
    account_sid: emu.config.accountSid,
    api_version: '2010-04-01',
    from: customer.number,
    caller: customer.number,
    from_city: g.city,
    from_state: g.state,
    from_zip: g.zip,
    from_country: g.country,
    caller_city: g.city,
    caller_state: g.state,
    caller_zip: g.zip,
    caller_country: g.country,
    to: ours.number,
    called: ours.number,
    to_city: ours.city,
    to_state: ours.state,
    to_zip: ours.zip,
    to_country: 'US',
    called_city: ours.city,
    called_state: ours.state,
    called_zip: ours.zip,
    called_country: 'US',
  };
}

// Shared by every event that carries them (the values are unconfirmed).
const COMPLETED = { task_completed_reason: 'Task has been completed' };
const CANCELED_ON_HANGUP = { task_canceled_reason: 'hangup', reason: 'hangup' };

/**
 * The agent-side life of a task once reserved: accepted, talk, wrap-up, completed. `laterAttributes` are merged into
 * the task's attributes once the call is up (Flex adds the conference; an enriching plugin adds call_sid).
 */
function handle(
  b: SeedBuilder,
  task: Task,
  agent: Agent,
  reservedMs: number,
  talkEndMs: (acceptedMs: number) => number,
  laterAttributes?: object,
): void {
  const rng = b.rng;
  const reservation: Reservation = { sid: rng.sid('WR'), version: 0 };
  b.reservationEvent('reservation.created', reservedMs, task, agent, reservation, 'reserved', false);
  const accepted = reservedMs + rng.int(1500, 12_000);
  b.reservationEvent('reservation.accepted', accepted, task, agent, reservation, 'assigned', true);
  const ended = talkEndMs(accepted);
  if (laterAttributes) b.setAttributes(task, { ...task.attributes, ...laterAttributes });
  const wrapup = ended + rng.int(300, 1500);
  b.taskEvent('task.wrapup', wrapup, task, 'wrapping', agent);
  b.reservationEvent('reservation.wrapup', wrapup + 15, task, agent, reservation, 'wrapping', true);
  const completed = wrapup + rng.int(5, 90) * SECOND;
  b.taskEvent('task.completed', completed, task, 'completed', agent, COMPLETED);
  b.reservationEvent('reservation.completed', completed + 12, task, agent, reservation, 'completed', true);
}

/** Another agent is offered the task first and rejects it or lets the reservation time out. */
function declinedBy(b: SeedBuilder, task: Task, other: Agent, ms: number): number {
  const reservation: Reservation = { sid: b.rng.sid('WR'), version: 0 };
  b.reservationEvent('reservation.created', ms, task, other, reservation, 'reserved', false);
  if (b.rng.chance(0.5)) {
    const at = ms + b.rng.int(2000, 10_000);
    b.reservationEvent('reservation.rejected', at, task, other, reservation, 'pending', true);
    return at;
  }
  const at = ms + 15 * SECOND; // the reservation timeout (Flex's default for voice is unconfirmed)
  b.reservationEvent('reservation.timeout', at, task, other, reservation, 'pending', false);
  return at;
}

type CallFields =
  | 'sid'
  | 'from'
  | 'to'
  | 'direction'
  | 'startTimeMs'
  | 'endTimeMs'
  | 'dateCreatedMs'
  | 'dateUpdatedMs'
  | 'phoneNumberSid';

/**
 * A completed call; duration and price are settled once its times are final (settleCall). One literal with every
 * field (no spread): thousands of these must stay fast-mode objects.
 */
function callResource(f: Pick<CallResource, CallFields>): CallResource {
  return {
    sid: f.sid,
    from: f.from,
    to: f.to,
    direction: f.direction,
    status: 'completed',
    startTimeMs: f.startTimeMs,
    endTimeMs: f.endTimeMs,
    durationSeconds: 0,
    parentCallSid: null,
    dateCreatedMs: f.dateCreatedMs,
    dateUpdatedMs: f.dateUpdatedMs,
    phoneNumberSid: f.phoneNumberSid,
    price: null,
    priceUnit: 'USD',
    queueTimeMs: 0,
    callerName: null,
    forwardedFrom: null,
    answeredBy: null,
  };
}

function inboundCall(b: SeedBuilder, t: number, agent: Agent, other: Agent | undefined, abandon: boolean): void {
  const { rng } = b;
  const emu = b.emu;
  const callSid = rng.sid('CA');
  const customer = customerNumber(rng);
  const ours = rng.pick(OUR_NUMBERS);
  const queue = rng.pick(b.queues);
  const created = t + rng.int(3000, 25_000);
  const task = b.newTask('voice', created, queue, inboundAttributes(emu, callSid, customer, ours), callSid);
  b.taskEvent('task.created', created, task, 'pending');
  b.taskEvent('task-queue.entered', created + rng.int(40, 120), task, 'pending');
  let cursor = created + rng.int(200, 1500);
  let end: number;
  if (abandon) {
    // The caller hangs up while the agent's phone rings: no agent ever handled this call.
    const reservation: Reservation = { sid: rng.sid('WR'), version: 0 };
    b.reservationEvent('reservation.created', cursor, task, agent, reservation, 'reserved', false);
    end = cursor + rng.int(2000, 9000);
    b.reservationEvent('reservation.canceled', end + 200, task, agent, reservation, 'canceled', false);
    b.taskEvent('task.canceled', end + 210, task, 'canceled', undefined, CANCELED_ON_HANGUP);
  } else {
    if (other && rng.chance(0.15)) cursor = declinedBy(b, task, other, cursor) + rng.int(300, 1000);
    const conference = { sid: rng.sid('CF'), participants: { customer: callSid, worker: rng.sid('CA') } };
    let talkEnd = 0;
    const talk = (accepted: number) => (talkEnd = accepted + talkSeconds(rng) * SECOND);
    handle(b, task, agent, cursor + rng.int(0, 45_000), talk, { conference });
    end = talkEnd;
  }
  b.calls.push(
    callResource({
      sid: callSid,
      from: customer.number,
      to: ours.number,
      direction: 'inbound',
      startTimeMs: t,
      endTimeMs: end,
      dateCreatedMs: t - rng.int(100, 800),
      dateUpdatedMs: end + rng.int(500, 2000),
      phoneNumberSid: ours.sid,
    }),
  );
}

/** Talk time in seconds: mostly short, sometimes long (20 s – 15 min). */
function talkSeconds(rng: Rng): number {
  return 20 + floor(rng.next() ** 2 * 880);
}

/** `+12065550123` as an agent may type it on the dialpad: `(206) 555-0123`; other numbers unchanged. */
function asTyped(number: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : number;
}

/**
 * A Flex dialpad call: Flex creates the task, the agent's reservation is accepted at once, then the customer leg
 * (outbound-api, from the caller ID to the dialled number) is dialled. Attributes as StartOutboundCall writes them
 * (see the header): no call SID, unless `enriched` (then `call_sid` and `conference.sid` once the call is up).
 */
function outboundCall(b: SeedBuilder, t: number, agent: Agent, enriched: boolean): void {
  const { rng } = b;
  const callSid = rng.sid('CA');
  const customer = customerNumber(rng);
  const ours = rng.pick(OUR_NUMBERS);
  const queue = b.queues[0];
  const dialled = rng.chance(0.2) ? asTyped(customer.number) : customer.number;
  const attributes = { direction: 'outbound', from: ours.number, to: dialled, outbound_to: dialled, name: dialled };
  const task = b.newTask('voice', t, queue, attributes, callSid);
  b.taskEvent('task.created', t, task, 'pending');
  b.taskEvent('task-queue.entered', t + rng.int(40, 120), task, 'pending');
  const conferenceSid = rng.sid('CF');
  let start = 0;
  let end = 0;
  const talk = (accepted: number) => {
    start = accepted + rng.int(1000, 3000);
    end = start + (rng.int(4, 25) + talkSeconds(rng)) * SECOND;
    return end;
  };
  handle(
    b,
    task,
    agent,
    t + rng.int(300, 800),
    talk,
    enriched ? { conference: { sid: conferenceSid }, call_sid: callSid } : undefined,
  );
  b.calls.push(
    callResource({
      sid: callSid,
      from: ours.number,
      to: customer.number,
      direction: 'outbound-api',
      startTimeMs: start,
      endTimeMs: end,
      dateCreatedMs: start - rng.int(50, 300),
      dateUpdatedMs: end + rng.int(500, 2000),
      phoneNumberSid: ours.sid,
    }),
  );
}

/**
 * An inbound call the first agent transfers to another (cold): the first task completes, a second task naming the
 * same call (same attributes, its own reservation) is created for the other agent, who talks until the call ends.
 */
function transferredCall(b: SeedBuilder, t: number, agent: Agent, other: Agent): void {
  const { rng } = b;
  const callSid = rng.sid('CA');
  const customer = customerNumber(rng);
  const ours = rng.pick(OUR_NUMBERS);
  const queue = rng.pick(b.queues);
  const attributes = inboundAttributes(b.emu, callSid, customer, ours);
  const created = t + rng.int(3000, 25_000);
  const first = b.newTask('voice', created, queue, attributes, callSid);
  b.taskEvent('task.created', created, first, 'pending');
  b.taskEvent('task-queue.entered', created + rng.int(40, 120), first, 'pending');
  const conference = { sid: rng.sid('CF'), participants: { customer: callSid, worker: rng.sid('CA') } };
  let transferAt = 0;
  handle(
    b,
    first,
    agent,
    created + rng.int(200, 1500),
    (accepted) => (transferAt = accepted + talkSeconds(rng) * SECOND),
    { conference },
  );
  const secondCreated = transferAt + rng.int(1000, 3000);
  const second = b.newTask('voice', secondCreated, queue, { ...attributes, conference }, callSid);
  b.taskEvent('task.created', secondCreated, second, 'pending');
  b.taskEvent('task-queue.entered', secondCreated + rng.int(40, 120), second, 'pending');
  let end = 0;
  handle(
    b,
    second,
    other,
    secondCreated + rng.int(300, 1500),
    (accepted) => (end = accepted + talkSeconds(rng) * SECOND),
    {
      conference: { ...conference, participants: { customer: callSid, worker: rng.sid('CA') } },
    },
  );
  b.calls.push(
    callResource({
      sid: callSid,
      from: customer.number,
      to: ours.number,
      direction: 'inbound',
      startTimeMs: t,
      endTimeMs: end,
      dateCreatedMs: t - rng.int(100, 800),
      dateUpdatedMs: end + rng.int(500, 2000),
      phoneNumberSid: ours.sid,
    }),
  );
}

/** A Flex Conversations SMS task: not a call, though its attributes carry `from` and `direction`. */
function chatTask(b: SeedBuilder, t: number, agent: Agent): void {
  const { rng } = b;
  const customer = customerNumber(rng);
  const ours = rng.pick(OUR_NUMBERS);
  const attributes = {
    from: customer.number,
    direction: 'inbound',
    customerName: customer.number,
    customerAddress: customer.number,
    twilioNumber: ours.number,
    channelType: 'sms',
    conversationSid: rng.sid('CH'),
  };
  const task = b.newTask('chat', t, rng.pick(b.queues), attributes);
  b.taskEvent('task.created', t, task, 'pending');
  b.taskEvent('task-queue.entered', t + rng.int(40, 120), task, 'pending');
  handle(b, task, agent, t + rng.int(500, 30_000), (accepted) => accepted + rng.int(60, 1800) * SECOND);
}

function activityChange(b: SeedBuilder, t: number, agent: Agent): void {
  const toBreak = b.rng.chance(0.5);
  const since = t - b.rng.int(5, 240) * 60 * SECOND;
  b.activityEvent(t, agent, toBreak ? 'Available' : 'Break', toBreak ? 'Break' : 'Available', since);
}

type Kind = 'inbound' | 'outbound' | 'enriched-outbound' | 'transfer' | 'abandoned' | 'chat' | 'activity';

/** What one agent's share of the seed consists of, in a deterministic shuffled order. */
function agentPlan(rng: Rng, callsPerAgent: number, enrichedShare: number, canTransfer: boolean): Kind[] {
  const kinds: Kind[] = [];
  for (let i = 0; i < callsPerAgent; i++) {
    kinds.push(rng.chance(0.65) ? 'inbound' : rng.chance(enrichedShare) ? 'enriched-outbound' : 'outbound');
  }
  if (canTransfer) for (let i = 0; i < floor(callsPerAgent / 15); i++) kinds.push('transfer');
  for (let i = 0; i < floor(callsPerAgent / 10); i++) kinds.push('abandoned');
  for (let i = 0; i < floor(callsPerAgent / 8); i++) kinds.push('chat');
  for (let i = 0; i < floor(callsPerAgent / 5); i++) kinds.push('activity');
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = floor(rng.next() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  return kinds;
}

/** Longer than any item lasts (a chat: up to ~32 minutes from creation to completion; a transfer: two talks). */
const MAX_ITEM_MS = 35 * 60 * SECOND;

/**
 * Lays one item out so that its last event happens at `endMs`: drafted from endMs − MAX_ITEM_MS, then moved.
 * Returns the number of Call records it created.
 */
function place(b: SeedBuilder, kind: Kind, agent: Agent, other: Agent | undefined, endMs: number): number {
  const mark = { events: b.events.length, calls: b.calls.length, tasks: b.tasks.length };
  const draft = endMs - MAX_ITEM_MS;
  if (kind === 'inbound') inboundCall(b, draft, agent, other, false);
  else if (kind === 'outbound' || kind === 'enriched-outbound')
    outboundCall(b, draft, agent, kind === 'enriched-outbound');
  else if (kind === 'transfer') transferredCall(b, draft, agent, other!);
  else if (kind === 'abandoned') inboundCall(b, draft, agent, undefined, true);
  else if (kind === 'chat') chatTask(b, draft, agent);
  else activityChange(b, draft, agent);
  let last = draft;
  for (let i = mark.events; i < b.events.length; i++) {
    if (b.events[i].eventDateMs > last) last = b.events[i].eventDateMs;
  }
  const shift = endMs - last;
  for (let i = mark.events; i < b.events.length; i++) b.events[i].eventDateMs += shift;
  for (let i = mark.tasks; i < b.tasks.length; i++) b.tasks[i].createdMs += shift;
  for (let i = mark.calls; i < b.calls.length; i++) settleCall(b.calls[i], shift);
  return b.calls.length - mark.calls;
}

/** Moves a call to its place, on whole seconds as the API prints its times, then derives its duration and price. */
function settleCall(c: CallResource, shift: number): void {
  c.startTimeMs = floor((c.startTimeMs + shift) / SECOND) * SECOND;
  c.endTimeMs = floor((c.endTimeMs + shift) / SECOND) * SECOND;
  c.dateCreatedMs = floor((c.dateCreatedMs + shift) / SECOND) * SECOND;
  c.dateUpdatedMs = floor((c.dateUpdatedMs + shift) / SECOND) * SECOND;
  c.durationSeconds = (c.endTimeMs - c.startTimeMs) / SECOND;
  c.price = price(c.durationSeconds, c.direction === 'inbound' ? 0.0085 : 0.014);
}

// ---------------------------------------------------------------------------------------------------------------

export function seed(emu: Emulator, request: SeedRequest): SeedResult {
  const tr = emu.state.taskrouter;
  const seedValue = request.seed ?? seedFrom(request, tr.workers.size);
  const rng = new Rng(seedValue);
  const b = new SeedBuilder(emu, rng);
  const now = emu.clock.now();
  const spanMs = request.days * DAY;
  const agents = createAgents(b, request.agents, now, spanMs);
  const enrichedShare = request.enrichedOutboundShare ?? DEFAULT_ENRICHED_OUTBOUND_SHARE;
  let handledCalls = 0;
  let transfers = 0;
  let outboundTasks = 0;
  let enrichedOutboundTasks = 0;
  let abandonedCalls = 0;
  let chatTasks = 0;

  agents.forEach((agent, index) => {
    const plan = agentPlan(rng, request.callsPerAgent, enrichedShare, agents.length > 1);
    plan.forEach((kind, i) => {
      // Stratified: item i of n ends in the i-th slice of the span counted back from now, so a span over 30 days
      // always puts some items beyond the retention. Every item ends before now.
      const back = ((i + rng.next()) / plan.length) * spanMs;
      // On a whole second: integer event_date_ms, and call durations that do not depend on when the seed runs.
      const end = floor((now - back) / SECOND) * SECOND - rng.int(1, 30) * SECOND;
      const other = agents.length > 1 ? agents[(index + rng.int(1, agents.length - 1)) % agents.length] : undefined;
      const calls = place(b, kind, agent, other, end);
      if (kind === 'inbound' || kind === 'outbound' || kind === 'enriched-outbound') handledCalls += calls;
      if (kind === 'outbound' || kind === 'enriched-outbound') outboundTasks += 1;
      if (kind === 'enriched-outbound') enrichedOutboundTasks += 1;
      if (kind === 'transfer') transfers += 1;
      if (kind === 'abandoned') abandonedCalls += calls;
      if (kind === 'chat') chatTasks += 1;
    });
  });

  addEvents(tr, b.events);
  addCalls(emu.state.calls, b.calls);
  return {
    agents: agents.map((a) => ({
      workerSid: a.worker.sid,
      identity: flexIdentity(a.worker.friendlyName),
      friendlyName: a.worker.friendlyName,
      roles: ['agent'],
    })),
    calls: b.calls.length,
    events: b.events.length,
    handledCalls,
    transfers,
    outboundTasks,
    enrichedOutboundTasks,
    abandonedCalls,
    chatTasks,
    seed: seedValue,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Live calls (POST /__admin/live-calls): one call as the seed lays it out, its timeline compressed to happen now.

export interface LiveCallRequest {
  workerSid: string;
  direction: 'inbound' | 'outbound';
  /** Seconds between the agent accepting and wrap-up. */
  talkSeconds: number;
  /** When the call starts (emulator clock, ms). */
  startMs: number;
}

export interface LiveCallPlan {
  /** Sorted by time; store each when its time comes. */
  events: EventRecord[];
  call: CallResource;
  taskSid: string;
  /** The call SID the task's attributes name (null for a Flex dialpad task, which names none). */
  callSid: string | null;
}

/** Longest pause kept between two consecutive events of a live call (ms), except the talk itself. */
const LIVE_MAX_GAP_MS = 400;

export function planLiveCall(emu: Emulator, request: LiveCallRequest): LiveCallPlan {
  const tr = emu.state.taskrouter;
  const worker = tr.workers.get(request.workerSid);
  if (!worker) throw new Error(`no worker ${request.workerSid}`);
  const b = new SeedBuilder(
    emu,
    new Rng(createHash('sha256').update(`${request.workerSid}:${Math.random()}`).digest().readUInt32BE(0)),
  );
  const agent: Agent = { worker, attributesJson: JSON.stringify(worker.attributes), ip: '203.0.113.250', version: 1 };
  if (request.direction === 'inbound') inboundCall(b, request.startMs, agent, undefined, false);
  else outboundCall(b, request.startMs, agent, false);
  const events = [...b.events].sort((x, y) => x.eventDateMs - y.eventDateMs);
  // Re-time: same order, short pauses, the talk as asked; the task's creation moves with its task.created event.
  const original = events.map((e) => e.eventDateMs);
  let at = request.startMs;
  events.forEach((e, i) => {
    if (i > 0)
      at +=
        e.eventType === 'task.wrapup'
          ? request.talkSeconds * SECOND
          : Math.min(LIVE_MAX_GAP_MS, original[i] - original[i - 1]);
    e.eventDateMs = at;
  });
  const task = b.tasks[0];
  task.createdMs = events.find((e) => e.eventType === 'task.created')!.eventDateMs;
  const accepted = events.find((e) => e.eventType === 'reservation.accepted')!.eventDateMs;
  const wrapup = events.find((e) => e.eventType === 'task.wrapup')!.eventDateMs;
  const call = b.calls[0];
  const startMs = request.direction === 'inbound' ? request.startMs - SECOND : accepted + 200;
  call.startTimeMs = startMs;
  call.endTimeMs = Math.max(startMs, wrapup - 100);
  call.dateCreatedMs = startMs - 100;
  call.dateUpdatedMs = call.endTimeMs + 500;
  settleCall(call, 0);
  const attributes = task.attributes as { call_sid?: unknown };
  return {
    events,
    call,
    taskSid: task.sid,
    callSid: typeof attributes.call_sid === 'string' ? attributes.call_sid : null,
  };
}
