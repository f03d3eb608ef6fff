/**
 * Admin routes for pushed events (JSON, loopback only, like the rest of /__admin/):
 * - POST /__admin/live-calls `{workerSid?, count?, direction?, talkSeconds?, spreadSeconds?}`: calls handled now, in
 *   real time on the emulator's clock; each one's call, task and reservation events happen as the call goes and are
 *   pushed. Answers `{calls: [{taskSid, workerSid, callSid, direction}]}` (`callSid` null when the task names none).
 * - GET /__admin/deliveries: `{callbacks: [...], streams: [...], backlog}` — every push attempt and its answer.
 * - GET / POST /__admin/event-streams: the delivery settings (batching, duplicate and reorder rates, retries).
 */
import { addCalls } from '../families/api2010';
import { badRequest } from '../core/errors';
import type { EmuRequest, Router } from '../core/router';
import { planLiveCall } from '../seed';
import type { Emulator } from '../server';
import { DEFAULT_STREAMS_SETTINGS, type EventStreamsSettings } from './event-streams';

const MAX_LIVE_CALLS = 1000;

function body(req: EmuRequest): Record<string, unknown> {
  const json = req.json ?? {};
  if (typeof json !== 'object' || Array.isArray(json) || json === null) throw badRequest('Body must be a JSON object');
  return json as Record<string, unknown>;
}

function numberIn(value: unknown, name: string, min: number, max: number, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw badRequest(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

export interface LiveCall {
  taskSid: string;
  workerSid: string;
  callSid: string | null;
  direction: 'inbound' | 'outbound';
}

/** Plans `count` calls and schedules each event at its time; the Call record appears when the call has ended. */
export function startLiveCalls(emu: Emulator, input: Record<string, unknown>): LiveCall[] {
  const workers = [...emu.state.taskrouter.workers.values()];
  if (input.workerSid !== undefined && typeof input.workerSid !== 'string')
    throw badRequest('workerSid must be a string');
  if (input.workerSid !== undefined && !emu.state.taskrouter.workers.has(input.workerSid as string)) {
    throw badRequest(`No worker ${String(input.workerSid).slice(0, 40)} (seed agents first)`);
  }
  if (workers.length === 0) throw badRequest('No workers: seed agents first (POST /__admin/seed)');
  const direction = input.direction;
  if (direction !== undefined && direction !== 'inbound' && direction !== 'outbound') {
    throw badRequest('direction must be "inbound" or "outbound"');
  }
  const count = numberIn(input.count, 'count', 1, MAX_LIVE_CALLS, 1, true);
  const talkSeconds = numberIn(input.talkSeconds, 'talkSeconds', 0, 3600, 5);
  const spreadSeconds = numberIn(input.spreadSeconds, 'spreadSeconds', 0, 3600, 0);
  const push = emu.state.events;
  const calls: LiveCall[] = [];
  for (let i = 0; i < count; i++) {
    const workerSid =
      (input.workerSid as string | undefined) ?? workers[Math.floor(Math.random() * workers.length)].sid;
    const dir = (direction as LiveCall['direction'] | undefined) ?? (Math.random() < 0.65 ? 'inbound' : 'outbound');
    const delayMs = count > 1 ? (i / (count - 1)) * spreadSeconds * 1000 : 0;
    const startMs = emu.clock.now() + delayMs;
    const plan = planLiveCall(emu, { workerSid, direction: dir, talkSeconds, startMs });
    // Events at the same instant go together, so a call's events keep their order in the pushes.
    const groups = new Map<number, typeof plan.events>();
    for (const e of plan.events) groups.set(e.eventDateMs, [...(groups.get(e.eventDateMs) ?? []), e]);
    for (const [ms, events] of groups) push.at(ms - emu.clock.now(), () => push.publish(events));
    push.at(plan.call.endTimeMs - emu.clock.now(), () => addCalls(emu.state.calls, [plan.call]));
    calls.push({ taskSid: plan.taskSid, workerSid, callSid: plan.callSid, direction: dir });
  }
  return calls;
}

function parseStreamsSettings(input: Record<string, unknown>, current: EventStreamsSettings): EventStreamsSettings {
  const pick = (name: keyof EventStreamsSettings, min: number, max: number, integer = false) =>
    numberIn(input[name], name, min, max, current[name], integer);
  return {
    batchSize: pick('batchSize', 1, 1000, true),
    batchWindowMs: pick('batchWindowMs', 0, 60_000),
    duplicateRate: pick('duplicateRate', 0, 1),
    reorderRate: pick('reorderRate', 0, 1),
    retryBaseMs: pick('retryBaseMs', 0, 3_600_000),
    retryMaxMs: pick('retryMaxMs', 0, 3_600_000),
    retryForMs: pick('retryForMs', 0, 24 * 3_600_000),
    timeoutMs: pick('timeoutMs', 1, 60_000),
    concurrency: pick('concurrency', 1, 100, true),
  };
}

export function registerPushAdmin(router: Router, emu: Emulator): void {
  const add = (method: string, path: string, handler: (req: EmuRequest) => unknown) =>
    router.add('admin', method, path, (req) => ({ status: 200, body: handler(req) }), true);

  add('POST', '/__admin/live-calls', (req) => ({ calls: startLiveCalls(emu, body(req)) }));
  add('GET', '/__admin/deliveries', () => ({
    callbacks: emu.state.events.callbackDeliveries,
    streams: emu.state.events.streams.deliveries,
    backlog: emu.state.events.backlog,
  }));
  add('GET', '/__admin/event-streams', () => emu.state.events.streams.settings);
  add('POST', '/__admin/event-streams', (req) => {
    const b = body(req);
    const streams = emu.state.events.streams;
    streams.settings = b.reset === true ? { ...DEFAULT_STREAMS_SETTINGS } : parseStreamsSettings(b, streams.settings);
    return streams.settings;
  });
}
