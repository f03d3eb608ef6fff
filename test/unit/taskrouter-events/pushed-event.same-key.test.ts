/**
 * One completed reservation, three shapes: the REST Events list the job reads, the workspace callback form and the
 * Event Streams CloudEvent the emulator pushes. Each pushed shape, normalised for the job's parser, gives the same
 * completion and the same item key as the REST event.
 */
import { callbackForm } from '../../../emulator/events/workspace-callback';
import { toCloudEvent } from '../../../emulator/events/cloud-event';
import { parseCompletion } from '../../../src/recent-calls/events-source';
import {
  itemKeyFromEventStreams,
  itemKeyFromRestEvent,
  itemKeyFromTaskRouterCallback,
} from '../../../src/recent-calls/item-key';
import { fromCallbackForm, fromCloudEvent, pushedBatch } from '../../../src/taskrouter-events/pushed-event';
import { useEmulator } from '../../helpers/emulator';
import { waitFor } from '../../helpers/receiver';

const t = useEmulator();

async function completedEvents(direction: 'inbound' | 'outbound') {
  const seeded = await t.admin.seed({ agents: 1, callsPerAgent: 0, days: 1 });
  const { calls } = await t.admin.liveCalls({ workerSid: seeded.agents[0].workerSid, direction, talkSeconds: 0 });
  await waitFor(async () => (await t.admin.deliveries()).backlog === 0, 'the live call');
  const record = t.emulator.state.taskrouter.events.find(
    (e) => e.eventType === 'reservation.completed' && e.taskSid === calls[0].taskSid,
  )!;
  const [rest] = await t.client.taskrouter.v1
    .workspaces(t.emulator.config.workspaceSid)
    .events.list({ sid: record.sid });
  return { record, rest };
}

describe.each(['inbound', 'outbound'] as const)('a completed %s reservation', (direction) => {
  it('has the same item key and completion from REST, the callback form and Event Streams', async () => {
    const { record, rest } = await completedEvents(direction);
    const form = callbackForm(t.emulator, record);
    const cloud = toCloudEvent(t.emulator, record, 1);

    const restKey = itemKeyFromRestEvent(rest);
    expect(restKey).toMatch(/^\d{8}T\d{6}Z-WT[0-9a-f]{32}$/);
    expect(itemKeyFromTaskRouterCallback(form)).toBe(restKey);
    expect(itemKeyFromEventStreams(cloud.data.payload)).toBe(restKey);

    const fromForm = fromCallbackForm(form);
    // As the Functions runtime hands a JSON array over: spread into "0", "1", …
    const [fromStreams] = pushedBatch({ '0': JSON.parse(JSON.stringify(cloud)) }).map((e, i) => fromCloudEvent(e, i));
    expect(fromForm.ok && fromStreams.ok).toBe(true);
    if (!fromForm.ok || !fromStreams.ok) return;
    expect(itemKeyFromRestEvent(fromForm.raw)).toBe(restKey);
    expect(itemKeyFromRestEvent(fromStreams.raw)).toBe(restKey);

    const job = parseCompletion(rest);
    const pushedForm = parseCompletion(fromForm.raw);
    const pushedStreams = parseCompletion(fromStreams.raw);
    expect(job.ok).toBe(true);
    if (!job.ok || !pushedForm.ok || !pushedStreams.ok) throw new Error('a shape did not parse');
    // Same record inputs; only the event's time differs (the callback's Timestamp has whole seconds).
    const { eventSid: _a, eventDateMs: restMs, ...same } = job.completion;
    const { eventSid: _b, eventDateMs: formMs, ...fromFormRest } = pushedForm.completion;
    const { eventSid: _c, eventDateMs: streamsMs, ...fromStreamsRest } = pushedStreams.completion;
    expect(fromFormRest).toEqual(same);
    expect(fromStreamsRest).toEqual(same);
    expect(streamsMs).toBe(restMs);
    expect(formMs).toBe(Math.floor(restMs / 1000) * 1000);
  });
});
