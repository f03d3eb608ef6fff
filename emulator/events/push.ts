/**
 * Events that happen live (POST /__admin/live-calls) go where Twilio pushes them: the Events log, the workspace's
 * EventCallbackUrl (one form POST each) and every Event Streams sink subscribed to their type. Seeded history is
 * never pushed: it happened before anything could have been configured.
 */
import { addEvents, type EventRecord } from '../families/taskrouter';
import type { Emulator } from '../server';
import { TASKROUTER_TYPE_PREFIX } from './cloud-event';
import { EventStreamsState } from './event-streams';
import { sendToCallback, type CallbackDelivery } from './workspace-callback';

export class PushState {
  readonly streams: EventStreamsState;
  readonly callbackDeliveries: CallbackDelivery[] = [];
  private callbacksInFlight = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly emu: Emulator) {
    this.streams = new EventStreamsState(emu);
  }

  /** Stores the events in the log and pushes each to the callback and the subscribed sinks. */
  publish(events: readonly EventRecord[]): void {
    if (this.stopped) return;
    addEvents(this.emu.state.taskrouter, events);
    for (const event of events) {
      this.callbacksInFlight += 1;
      void sendToCallback(this.emu, event)
        .then((delivery) => {
          if (delivery && !this.stopped) this.callbackDeliveries.push(delivery);
        })
        .finally(() => (this.callbacksInFlight -= 1));
      this.streams.publish(event, TASKROUTER_TYPE_PREFIX + event.eventType);
    }
  }

  /** Runs `task` after `ms` of real time, unless the emulator is reset or closed first. */
  at(ms: number, task: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.stopped) task();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  /** Live events not yet happened, callbacks in flight and stream deliveries not yet done (0 when all is quiet). */
  get backlog(): number {
    return this.timers.size + this.callbacksInFlight + this.streams.backlog;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.streams.stop();
  }
}
