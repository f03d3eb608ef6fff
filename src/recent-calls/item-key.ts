/**
 * The key of a recent-call item: one per completed voice reservation, fixed at the first write, sorting by time.
 *
 *   <task created, UTC, basic ISO 8601 to the second: YYYYMMDDTHHMMSSZ>-<task SID>
 *   e.g. 20260301T095440Z-WT0123456789abcdef0123456789abcdef      (51 characters, [0-9A-Za-z-] only)
 *
 * - Fixed width, so Sync's key order is time order: a map listed with `Order=desc` starts with the newest calls.
 * - The task SID makes it one item per (agent, task) in the agent's map: a transferred call gives the second agent
 *   a new task, so each agent keeps its own item; an outbound call with no call SID still has its own task.
 * - Only characters no URL path or Sync key rule trips over, far under the 256-character limit.
 *
 * Inputs, and why they are the same in every path that reports the same reservation:
 * - the task SID: `task_sid` (REST `event_data`, Event Streams `data.payload`), `TaskSid` (TaskRouter callback);
 * - the task's creation time in whole seconds (floor), from the first of:
 *   1. `task_date_created` (REST `event_data`, Event Streams `data.payload`) / `TaskDateCreated` (callback):
 *      Event Streams documents it as ISO 8601 with milliseconds (docs "Event Streams TaskRouter reservation"
 *      examples); epoch seconds in REST `event_data` and the callback is unconfirmed, so both forms are accepted
 *      (a number or numeric string is epoch seconds, or epoch ms when it is too large to be seconds);
 *   2. when it is missing: the event's time in whole seconds minus the task's age (`task_age` / `TaskAge`, whole
 *      seconds): REST `event_date_ms`, callback `Timestamp` (epoch seconds) or `TimestampMs`, Event Streams
 *      `timestamp` (ISO). Every path carries the same event's time and age, so the result is the same, and it is
 *      within a second of the creation time (the age is rounded down by Twilio).
 * A reservation event without a task SID or any of these times has no key (and is not a call record).
 */

const TASK_SID = /^WT[0-9a-fA-F]{32}$/;
/** Epoch values at or above this are milliseconds (1e11 s is the year 5138). */
const EPOCH_MS_THRESHOLD = 1e11;
export const ITEM_KEY_PATTERN = /^(\d{8}T\d{6}Z)-(WT[0-9a-fA-F]{32})$/;
export const ITEM_KEY_LENGTH = 51;

/** `2026-03-01T09:54:40Z` (any date the key can hold) → `20260301T095440Z`. */
function basicIso(seconds: number): string {
  return new Date(seconds * 1000)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** The key of the item for `taskSid`, created at `taskCreatedSeconds` (epoch seconds, whole). */
export function recentCallItemKey(taskSid: string, taskCreatedSeconds: number): string {
  if (!TASK_SID.test(taskSid)) throw new RangeError(`not a task SID: ${taskSid}`);
  if (!Number.isSafeInteger(taskCreatedSeconds) || taskCreatedSeconds < 0 || taskCreatedSeconds > 253_402_300_799) {
    throw new RangeError(`task creation time out of range: ${taskCreatedSeconds}`);
  }
  return `${basicIso(taskCreatedSeconds)}-${taskSid}`;
}

/** The parts of a key this module made, or undefined for any other key (items written by someone else). */
export function parseItemKey(key: string): { taskCreatedSeconds: number; taskSid: string } | undefined {
  const m = ITEM_KEY_PATTERN.exec(key);
  if (!m) return undefined;
  const t = m[1];
  const ms = Date.parse(
    `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`,
  );
  return Number.isNaN(ms) ? undefined : { taskCreatedSeconds: ms / 1000, taskSid: m[2] };
}

/** Epoch seconds (whole, floor) of a time given as epoch seconds / ms (number or numeric string) or ISO 8601. */
export function wholeSeconds(value: unknown): number | undefined {
  let ms: number;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()))) {
    const n = Number(value);
    ms = n >= EPOCH_MS_THRESHOLD ? n : n * 1000;
  } else if (typeof value === 'string' && value.trim() !== '') {
    ms = Date.parse(value);
  } else if (value instanceof Date) {
    ms = value.getTime();
  } else {
    return undefined;
  }
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.floor(ms / 1000);
}

function wholeAge(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

/** The normalised inputs of a key, whatever shape they came in. */
export interface ItemKeyInputs {
  taskSid: unknown;
  taskDateCreated?: unknown;
  /** The event's time (any form wholeSeconds() reads), used with taskAge when taskDateCreated is missing. */
  eventTime?: unknown;
  taskAge?: unknown;
}

/** The task's creation time (epoch seconds) the key uses, or undefined when the inputs do not give one. */
export function keyTaskCreatedSeconds(inputs: Omit<ItemKeyInputs, 'taskSid'>): number | undefined {
  const created = wholeSeconds(inputs.taskDateCreated);
  if (created !== undefined) return created;
  const eventSeconds = wholeSeconds(inputs.eventTime);
  const age = wholeAge(inputs.taskAge);
  if (eventSeconds === undefined || age === undefined || age > eventSeconds) return undefined;
  return eventSeconds - age;
}

export function itemKeyOf(inputs: ItemKeyInputs): string | undefined {
  if (typeof inputs.taskSid !== 'string' || !TASK_SID.test(inputs.taskSid)) return undefined;
  const created = keyTaskCreatedSeconds(inputs);
  return created === undefined ? undefined : recentCallItemKey(inputs.taskSid, created);
}

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** From a REST Event resource (`GET /v1/Workspaces/{ws}/Events`), in the API's snake_case or the SDK's camelCase. */
export function itemKeyFromRestEvent(event: {
  eventDateMs?: unknown;
  event_date_ms?: unknown;
  eventDate?: unknown;
  event_date?: unknown;
  eventData?: unknown;
  event_data?: unknown;
}): string | undefined {
  const data = record(event.eventData ?? event.event_data);
  return itemKeyOf({
    taskSid: data.task_sid,
    taskDateCreated: data.task_date_created,
    eventTime: event.eventDateMs ?? event.event_date_ms ?? event.eventDate ?? event.event_date,
    taskAge: data.task_age,
  });
}

/** From a workspace EventCallbackUrl delivery (form fields: `TaskSid`, `TaskDateCreated`, `Timestamp`, `TaskAge`…). */
export function itemKeyFromTaskRouterCallback(form: Record<string, unknown>): string | undefined {
  return itemKeyOf({
    taskSid: form.TaskSid,
    taskDateCreated: form.TaskDateCreated,
    eventTime: form.TimestampMs ?? form.Timestamp,
    taskAge: form.TaskAge,
  });
}

/** From an Event Streams CloudEvent's `data.payload` (`task_sid`, `task_date_created`, `timestamp`, `task_age`…). */
export function itemKeyFromEventStreams(payload: Record<string, unknown>): string | undefined {
  return itemKeyOf({
    taskSid: payload.task_sid,
    taskDateCreated: payload.task_date_created,
    eventTime: payload.timestamp,
    taskAge: payload.task_age,
  });
}
