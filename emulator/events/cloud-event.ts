/**
 * A TaskRouter event as Event Streams delivers it: a CloudEvent (specversion 1.0) whose `data.payload` carries the
 * event's data in snake_case with numbers as numbers and dates as ISO 8601 with milliseconds (Twilio docs, "Event
 * Types: TaskRouter, Reservation" examples: `task_age: 31088`, `task_priority: 1`,
 * `task_date_created: "2025-01-01T00:00:00.000Z"`, `eventtype: "reservation.created"`, `dataschema:
 * "https://events-schemas.twilio.com/TaskRouter.WDSEvent/4"`).
 * Unconfirmed: `source` (the docs example shows a placeholder), `id` (here derived from the event SID, so a repeated
 * delivery keeps its id, as CloudEvents asks), which other numeric fields are numbers, booleans for `*_available`.
 */
import type { EventRecord } from '../families/taskrouter';
import type { Emulator } from '../server';

export interface CloudEvent {
  specversion: '1.0';
  type: string;
  source: string;
  id: string;
  dataschema: string;
  datacontenttype: 'application/json';
  time: string;
  data: Record<string, unknown> & { payload: Record<string, unknown> };
}

export const TASKROUTER_TYPE_PREFIX = 'com.twilio.taskrouter.';

const NUMERIC_KEY = /(_age|_priority|_version|_capacity|_time_in_previous_activity|_time_in_previous_activity_ms)$/;
const EPOCH_DATE_KEYS = new Set(['task_date_created', 'task_queue_entered_date']);

function payloadValue(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (NUMERIC_KEY.test(key) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (EPOCH_DATE_KEYS.has(key) && /^\d+$/.test(value)) return new Date(Number(value) * 1000).toISOString();
  if (key.endsWith('_available') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/** `reservation.completed` → `ReservationCompleted` (the `data.name` field). */
const eventName = (type: string) =>
  type
    .split(/[.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

export function toCloudEvent(emu: Emulator, event: EventRecord, schemaVersion: number): CloudEvent {
  const ws = emu.state.taskrouter.workspace;
  const time = new Date(event.eventDateMs).toISOString();
  const payload: Record<string, unknown> = {
    sid: event.sid,
    eventtype: event.eventType,
    account_sid: emu.config.accountSid,
    timestamp: time,
    resource_type: event.resourceType,
    resource_sid: event.resourceSid,
  };
  for (const [key, value] of Object.entries(event.eventData)) payload[key] = payloadValue(key, value);
  return {
    specversion: '1.0',
    type: TASKROUTER_TYPE_PREFIX + event.eventType,
    source: `/v1/Workspaces/${ws.sid}${event.resourcePath}`,
    id: `NO${event.sid.slice(2)}`,
    dataschema: `https://events-schemas.twilio.com/TaskRouter.WDSEvent/${schemaVersion}`,
    datacontenttype: 'application/json',
    time,
    data: {
      sid: event.sid,
      name: eventName(event.eventType),
      account_sid: emu.config.accountSid,
      timestamp: time,
      level: 'INFO',
      group: event.resourceType,
      product_name: 'TaskRouter',
      publisher: ws.friendlyName,
      publisher_metadata: '{}',
      payload_type: 'application/json',
      payload,
    },
  };
}
