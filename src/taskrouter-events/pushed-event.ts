/**
 * The two shapes TaskRouter pushes an event in, turned into the REST Event shape the job reads
 * (`{sid, eventType, eventDateMs, eventData}`, event_data in snake_case), so that a pushed completion goes through the
 * job's own parsing, key, record building and writer:
 *
 * - workspace EventCallbackUrl: one form per event, `EventType`, `Timestamp` (epoch seconds; unconfirmed, ISO is read
 *   too), `ResourceSid`, then the event's data in PascalCase (`TaskSid`, `TaskAttributes`, `WorkerSid`, …, TaskRouter
 *   docs "TaskRouter Events reference"): `TaskSid` → `task_sid`;
 * - Event Streams: a JSON array of CloudEvents whose `data.payload` is the event's data in snake_case with numbers as
 *   numbers (`task_age: 31088`) and ISO dates; `type` is `com.twilio.taskrouter.<event type>`. Numbers are turned back
 *   into strings, as the REST API prints them. The Functions runtime hands a JSON array over spread into the event's
 *   parameters as `"0"`, `"1"`, …; pushedBatch() puts it back together.
 */
import type { RawEvent } from '../recent-calls/events-source';

export const STREAMS_TYPE_PREFIX = 'com.twilio.taskrouter.';

export type PushedShape = 'callback' | 'streams';

/** One event of a delivery: normalised, or why it cannot be read (it is then acknowledged and not retried). */
export type PushedEvent =
  { ok: true; raw: RawEvent; position: number } | { ok: false; reason: string; position: number; eventType?: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A string or number as text; anything else (an object whose toString is not a function, say) as `fallback`. */
const scalarText = (value: unknown, fallback: string) =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;

const snake = (pascal: string) => pascal.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

function timeMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return timeMs(Number(value));
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** A workspace callback form → the REST event shape. */
export function fromCallbackForm(form: Record<string, unknown>): PushedEvent {
  const eventType = typeof form.EventType === 'string' ? form.EventType : '';
  if (eventType === '') return { ok: false, reason: 'no-event-type', position: 0 };
  const eventDateMs = timeMs(form.TimestampMs) ?? timeMs(form.Timestamp);
  if (eventDateMs === undefined) return { ok: false, reason: 'no-event-date', position: 0, eventType };
  const eventData: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(form)) {
    if (/^[A-Z][A-Za-z0-9]*$/.test(name) && typeof value === 'string') eventData[snake(name)] = value;
  }
  const sid = typeof form.Sid === 'string' ? form.Sid : `callback:${scalarText(form.ResourceSid, '')}:${eventType}`;
  return { ok: true, position: 0, raw: { sid, eventType, eventDateMs, eventData } };
}

/** One CloudEvent of an Event Streams delivery → the REST event shape. */
export function fromCloudEvent(value: unknown, position: number): PushedEvent {
  if (!isRecord(value)) return { ok: false, reason: 'not-an-object', position };
  const type = typeof value.type === 'string' ? value.type : '';
  if (!type.startsWith(STREAMS_TYPE_PREFIX))
    return { ok: false, reason: 'not-taskrouter', position, eventType: type || undefined };
  const data = isRecord(value.data) ? value.data : {};
  const payload = isRecord(data.payload) ? data.payload : undefined;
  if (!payload) return { ok: false, reason: 'no-payload', position, eventType: type };
  const eventType =
    typeof payload.eventtype === 'string' && payload.eventtype !== ''
      ? payload.eventtype
      : type.slice(STREAMS_TYPE_PREFIX.length);
  const eventDateMs = timeMs(payload.timestamp) ?? timeMs(data.timestamp) ?? timeMs(value.time);
  if (eventDateMs === undefined) return { ok: false, reason: 'no-event-date', position, eventType };
  const eventData: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(payload)) {
    eventData[key] = typeof field === 'number' || typeof field === 'boolean' ? String(field) : field;
  }
  const sid =
    typeof payload.sid === 'string'
      ? payload.sid
      : typeof data.sid === 'string'
        ? data.sid
        : scalarText(value.id, `streams:${position}`);
  return { ok: true, position, raw: { sid, eventType, eventDateMs, eventData } };
}

/** The CloudEvents of an Event Streams delivery, in body order: `"0"`, `"1"`, … as the runtime spreads an array. */
export function pushedBatch(params: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; Object.prototype.hasOwnProperty.call(params, String(i)); i++) out.push(params[String(i)]);
  return out;
}

/** Every event of a delivery, normalised. */
export function pushedEvents(shape: PushedShape, params: Record<string, unknown>): PushedEvent[] {
  if (shape === 'callback') return [fromCallbackForm(params)];
  return pushedBatch(params).map((value, position) => fromCloudEvent(value, position));
}
