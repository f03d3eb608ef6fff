/**
 * The emulator's per-worker index of TaskRouter events (a WorkerSid query reads only that worker's events) must hold
 * each worker's events in exactly the order the log holds them, however the batches arrive (sorted or not, with ties).
 */
import fc from 'fast-check';
import { addEvents, type EventRecord, type TaskRouterState } from '../../emulator/families/taskrouter';

const WORKERS = ['WKa', 'WKb', 'WKc'];

function emptyState(): TaskRouterState {
  return { events: [], eventsBySid: new Map(), eventsByWorker: new Map() } as unknown as TaskRouterState;
}

const eventArb = fc.record({
  eventDateMs: fc.integer({ min: 0, max: 20 }), // few distinct times: many ties
  workerSid: fc.option(fc.constantFrom(...WORKERS), { nil: undefined }),
});

describe('events by worker', () => {
  it('each worker’s list is the log filtered by that worker, in the log’s order', () => {
    fc.assert(
      fc.property(fc.array(fc.array(eventArb, { maxLength: 12 }), { maxLength: 6 }), (batches) => {
        const state = emptyState();
        let n = 0;
        for (const batch of batches) {
          const records = batch.map((e) => ({ ...e, sid: `EV${n++}` }) as unknown as EventRecord);
          addEvents(state, records);
        }
        for (const worker of WORKERS) {
          const fromLog = state.events.filter((e) => e.workerSid === worker).map((e) => e.sid);
          expect((state.eventsByWorker.get(worker) ?? []).map((e) => e.sid)).toEqual(fromLog);
        }
        const indexed = [...state.eventsByWorker.values()].reduce((sum, list) => sum + list.length, 0);
        expect(indexed).toBe(state.events.filter((e) => e.workerSid !== undefined).length);
      }),
    );
  });
});
