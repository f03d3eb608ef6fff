/**
 * Ground truth for the recent-calls job, read from the emulator's own records (not from the job's code): every
 * completed voice reservation (agent, task) and the Sync item the documented contract says it gets:
 * - key: the task's creation second (UTC, `YYYYMMDDTHHMMSSZ`) + `-` + the task SID;
 * - call: the one the task names (`call_sid` / conference customer); for an outbound task that names none, the
 *   customer leg the emulator knows, if it is the only outbound call between the same numbers in the task's life
 *   (and no task names it), else none: `callSid: null`, times from the task (created → completed).
 */
import type { Emulator } from '../../emulator/server';
import { recentCallsMapName } from '../../src/recent-calls/map-name';

export interface HandledCall {
  mapName: string;
  workerSid: string;
  taskSid: string;
  /** The Sync item key. */
  itemKey: string;
  /** `${mapName}|${itemKey}`: one item per (agent, task). */
  key: string;
  /** The call the item names, or null (an outbound task whose leg is not the only candidate). */
  callSid: string | null;
  /** The task's direction attribute. */
  direction: string;
  /** True for an outbound task that names no call (its leg is found, or not, in the Calls list). */
  unenrichedOutbound: boolean;
  /** When the call started (or the task was created, without a call). */
  startMs: number;
  /** When the reservation completed (the event's time). */
  completedMs: number;
  data: Record<string, unknown>;
}

/** API 2010 times have whole seconds. */
const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

export const expectedItemKey = (taskSid: string, createdMs: number) =>
  `${new Date(Math.floor(createdMs / 1000) * 1000).toISOString().replace('.000Z', 'Z').replace(/[-:]/g, '')}-${taskSid}`;

export function handledCalls(emulator: Emulator): HandledCall[] {
  const { taskrouter, calls } = emulator.state;
  const named = new Set<string>();
  const completions = taskrouter.events.filter(
    (e) => e.eventType === 'reservation.completed' && e.eventData.task_channel_unique_name === 'voice',
  );
  const attributesOf = (e: (typeof completions)[number]) =>
    JSON.parse(String(e.eventData.task_attributes)) as Record<string, any>;
  for (const e of taskrouter.events) {
    if (e.eventData.task_channel_unique_name !== 'voice' || e.eventData.task_attributes === undefined) continue;
    const task = JSON.parse(String(e.eventData.task_attributes));
    const sid = task.call_sid ?? task.conference?.participants?.customer;
    if (sid) named.add(sid);
  }
  const out: HandledCall[] = [];
  for (const e of completions) {
    const task = attributesOf(e);
    const taskSid = String(e.eventData.task_sid);
    const createdMs = Math.floor(e.taskCreatedMs! / 1000) * 1000;
    const leg = calls.calls.get(e.customerCallSid!);
    if (!leg) throw new Error(`the emulator has no call ${e.customerCallSid} for event ${e.sid}`);
    const namedSid: string | undefined = task.call_sid ?? task.conference?.participants?.customer;
    const unenrichedOutbound = task.direction === 'outbound' && !namedSid;
    let callSid: string | null = namedSid ?? null;
    if (unenrichedOutbound) {
      const candidates = [...calls.calls.values()].filter(
        (c) =>
          c.direction.startsWith('outbound') &&
          c.to === leg.to &&
          c.from === leg.from &&
          !named.has(c.sid) &&
          c.startTimeMs >= createdMs &&
          c.startTimeMs <= e.eventDateMs,
      );
      callSid = candidates.length === 1 ? candidates[0].sid : null;
    }
    const call = callSid ? calls.calls.get(callSid)! : undefined;
    const mapName = recentCallsMapName(String(e.eventData.worker_sid));
    const itemKey = expectedItemKey(taskSid, createdMs);
    const startMs = call ? call.startTimeMs : createdMs;
    out.push({
      mapName,
      workerSid: String(e.eventData.worker_sid),
      taskSid,
      itemKey,
      key: `${mapName}|${itemKey}`,
      callSid,
      direction: task.direction,
      unenrichedOutbound,
      startMs,
      completedMs: e.eventDateMs,
      data: {
        callSid,
        taskSid,
        direction: task.direction,
        from: leg.from,
        to: leg.to,
        queue: e.eventData.task_queue_name,
        startedAt: call ? wholeSecond(call.startTimeMs) : new Date(createdMs).toISOString(),
        endedAt: call ? wholeSecond(call.endTimeMs) : new Date(e.eventDateMs).toISOString(),
        durationSeconds: call ? call.durationSeconds : Math.round((e.eventDateMs - createdMs) / 1000),
      },
    });
  }
  return out;
}
