/**
 * Ground truth for the recent-calls job, read from the emulator's own records (not from the job's code): every call
 * an agent handled (a completed reservation of a voice task) and the Sync item the job should write for it.
 */
import type { Emulator } from '../../emulator/server';
import { recentCallsMapName } from '../../src/recent-calls/map-name';

export interface HandledCall {
  mapName: string;
  callSid: string;
  /** `${mapName}|${callSid}`: one item per (agent, call). */
  key: string;
  startMs: number;
  /** When the reservation completed (the event's time). */
  completedMs: number;
  data: Record<string, unknown>;
}

/** API 2010 times have whole seconds. */
const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

export function handledCalls(emulator: Emulator): HandledCall[] {
  const { taskrouter, calls } = emulator.state;
  const out: HandledCall[] = [];
  for (const e of taskrouter.events) {
    if (e.eventType !== 'reservation.completed' || e.eventData.task_channel_unique_name !== 'voice') continue;
    const task = JSON.parse(String(e.eventData.task_attributes));
    // Outbound (dialpad) tasks carry no call_sid: the customer leg is the conference's customer participant.
    const callSid: string = task.call_sid ?? task.conference?.participants?.customer;
    const call = calls.calls.get(callSid);
    if (!call) throw new Error(`the emulator has no call ${callSid} for event ${e.sid}`);
    const mapName = recentCallsMapName(String(e.eventData.worker_sid));
    out.push({
      mapName,
      callSid,
      key: `${mapName}|${callSid}`,
      startMs: call.startTimeMs,
      completedMs: e.eventDateMs,
      data: {
        callSid,
        taskSid: e.eventData.task_sid,
        direction: task.direction,
        from: call.from,
        to: call.to,
        queue: e.eventData.task_queue_name,
        startedAt: wholeSecond(call.startTimeMs),
        endedAt: wholeSecond(call.endTimeMs),
        durationSeconds: call.durationSeconds,
      },
    });
  }
  return out;
}
