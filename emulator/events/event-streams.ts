/**
 * Event Streams (Events v1, events.twilio.com): webhook Sinks, Subscriptions with their subscribed event types, and
 * the deliveries they cause. Sources: official spec twilio_events_v1.json (routes, fields, SID prefixes DG / DF);
 * Twilio docs "Sink Validate resource" (sinks are active by default, Validate always answers `valid`), "Webhook
 * Quickstart" (user info in the destination becomes Basic credentials on every request; the sink must answer within
 * 5 s; connection overrides are not supported), Event Streams overview (at-least-once delivery: duplicates happen,
 * order is not guaranteed, failed deliveries are retried with backoff for up to 4 hours).
 *
 * Deliveries, per sink: events wait `batchWindowMs`, then go as one JSON array of up to `batchSize` CloudEvents
 * (`batch_events: false` in the sink configuration: one event per array; the default `true` is unconfirmed).
 * A batch answered with anything but 2xx, or not answered within `timeoutMs`, is retried whole after
 * `retryBaseMs · 2^(attempt−1)` (±20 %, at most `retryMaxMs`) until `retryForMs` after its first attempt. The rates
 * (`duplicateRate`: an event is delivered a second time in a later batch; `reorderRate`: a batch is shuffled, and at
 * 1 reversed) let tests turn each behaviour on; all default to the gentle side.
 */
import { badRequest, notFound, TwilioError } from '../core/errors';
import { isoDate } from '../core/clock';
import { metaPage } from '../core/paging';
import type { EmuRequest, EmuResponse, Router } from '../core/router';
import { newSid } from '../core/sids';
import type { EventRecord } from '../families/taskrouter';
import type { Emulator } from '../server';
import { toCloudEvent, type CloudEvent } from './cloud-event';
import { deliver } from './deliver';

export interface EventStreamsSettings {
  batchSize: number;
  batchWindowMs: number;
  duplicateRate: number;
  reorderRate: number;
  retryBaseMs: number;
  retryMaxMs: number;
  retryForMs: number;
  timeoutMs: number;
  /** Batches in flight at once per sink. */
  concurrency: number;
}

export const DEFAULT_STREAMS_SETTINGS: EventStreamsSettings = {
  batchSize: 50,
  batchWindowMs: 50,
  duplicateRate: 0,
  reorderRate: 0,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  retryForMs: 4 * 3600 * 1000,
  timeoutMs: 5000,
  concurrency: 4,
};

export interface SinkRecord {
  sid: string;
  description: string;
  sinkType: 'kinesis' | 'webhook' | 'segment' | 'email';
  configuration: Record<string, unknown>;
  dateCreated: number;
  dateUpdated: number;
}

export interface SubscriptionRecord {
  sid: string;
  description: string;
  sinkSid: string;
  /** Event type → schema version. */
  types: Map<string, number>;
  dateCreated: number;
  dateUpdated: number;
}

export interface StreamDelivery {
  sinkSid: string;
  eventIds: string[];
  eventTypes: string[];
  attempt: number;
  status: number;
  ok: boolean;
  ms: number;
  error?: string;
  /** Real time (ms since epoch) the attempt ended. */
  at: number;
}

interface Pending {
  event: CloudEvent;
  firstAttemptAt?: number;
  attempt: number;
  /** A copy queued by duplicateRate (never duplicated again). */
  duplicate: boolean;
}

interface SinkQueue {
  waiting: Pending[];
  inFlight: number;
  timer?: NodeJS.Timeout;
}

export class EventStreamsState {
  readonly sinks = new Map<string, SinkRecord>();
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  settings: EventStreamsSettings = { ...DEFAULT_STREAMS_SETTINGS };
  readonly deliveries: StreamDelivery[] = [];
  private readonly queues = new Map<string, SinkQueue>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly emu: Emulator) {}

  /** Queues a live event for every sink with a subscription to its type. */
  publish(event: EventRecord, type: string): void {
    const bySink = new Map<string, number>();
    for (const sub of this.subscriptions.values()) {
      const version = sub.types.get(type);
      if (version !== undefined && !bySink.has(sub.sinkSid)) bySink.set(sub.sinkSid, version);
    }
    for (const [sinkSid, version] of bySink) {
      const sink = this.sinks.get(sinkSid);
      if (!sink || sink.sinkType !== 'webhook') continue;
      this.enqueue(sinkSid, [{ event: toCloudEvent(this.emu, event, version), attempt: 0, duplicate: false }]);
    }
  }

  /** Deliveries still waiting or in flight (tests wait for 0). */
  get backlog(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.waiting.length + q.inFlight;
    return n + this.timers.size;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const q of this.queues.values()) if (q.timer) clearTimeout(q.timer);
    this.queues.clear();
  }

  private queue(sinkSid: string): SinkQueue {
    let q = this.queues.get(sinkSid);
    if (!q) this.queues.set(sinkSid, (q = { waiting: [], inFlight: 0 }));
    return q;
  }

  private later(ms: number, run: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private enqueue(sinkSid: string, items: Pending[]): void {
    if (this.stopped) return;
    const q = this.queue(sinkSid);
    q.waiting.push(...items);
    if (!q.timer) q.timer = setTimeout(() => this.flush(sinkSid), this.settings.batchWindowMs);
  }

  private flush(sinkSid: string): void {
    const q = this.queue(sinkSid);
    q.timer = undefined;
    const sink = this.sinks.get(sinkSid);
    if (!sink || this.stopped) {
      q.waiting = [];
      return;
    }
    const size = sink.configuration.batch_events === false ? 1 : Math.max(1, this.settings.batchSize);
    while (q.waiting.length > 0 && q.inFlight < this.settings.concurrency) {
      const batch = q.waiting.splice(0, size);
      q.inFlight += 1;
      void this.send(sink, batch).finally(() => {
        q.inFlight -= 1;
        if (q.waiting.length > 0 && !q.timer) this.flush(sinkSid);
      });
    }
  }

  private async send(sink: SinkRecord, batch: Pending[]): Promise<void> {
    const s = this.settings;
    const ordered =
      Math.random() < s.reorderRate ? (s.reorderRate >= 1 ? [...batch].reverse() : shuffle(batch)) : batch;
    const now = Date.now();
    for (const p of ordered) {
      p.attempt += 1;
      p.firstAttemptAt ??= now;
    }
    const outcome = await deliver({
      url: String(sink.configuration.destination ?? ''),
      authToken: this.emu.config.authToken,
      json: ordered.map((p) => p.event),
      timeoutMs: s.timeoutMs,
    });
    if (this.stopped) return;
    this.deliveries.push({
      sinkSid: sink.sid,
      eventIds: ordered.map((p) => p.event.id),
      eventTypes: ordered.map((p) => p.event.type),
      attempt: Math.max(...ordered.map((p) => p.attempt)),
      at: Date.now(),
      ...outcome,
    });
    if (outcome.ok) {
      const copies = ordered.filter((p) => !p.duplicate && Math.random() < s.duplicateRate);
      if (copies.length > 0) {
        this.enqueue(
          sink.sid,
          copies.map((p) => ({ event: p.event, attempt: 0, duplicate: true })),
        );
      }
      return;
    }
    const retry = ordered.filter((p) => Date.now() - (p.firstAttemptAt ?? now) < s.retryForMs);
    if (retry.length === 0) return;
    const attempt = Math.max(...retry.map((p) => p.attempt));
    const delay = Math.min(s.retryMaxMs, s.retryBaseMs * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
    this.later(delay, () => this.enqueue(sink.sid, retry));
  }
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// REST: /v1/Sinks, /v1/Subscriptions, /v1/Subscriptions/{Sid}/SubscribedEvents

const SINK_TYPES = new Set(['kinesis', 'webhook', 'segment', 'email']);

function parseJsonObject(raw: string | null, name: string): Record<string, unknown> {
  if (raw === null || raw === '') throw badRequest(`Missing required parameter ${name} in the post body`, 20001);
  try {
    const value = JSON.parse(raw) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw badRequest(`${name} must be a JSON object`, 20001);
}

function validWebhookConfiguration(config: Record<string, unknown>): void {
  const destination = config.destination;
  let url: URL | undefined;
  try {
    url = typeof destination === 'string' ? new URL(destination) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol))
    throw badRequest('SinkConfiguration.destination must be an http(s) URL', 20001);
  if (config.method !== undefined && !/^(POST|GET)$/i.test(String(config.method))) {
    throw badRequest('SinkConfiguration.method must be POST or GET', 20001);
  }
}

/** Types arrive as repeated form fields, each a JSON object `{"type": "...", "schema_version": 1}` (SDK: serialize.object). */
function parseTypes(values: string[]): Map<string, number> {
  const types = new Map<string, number>();
  for (const raw of values) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw badRequest(`Types entries must be JSON objects, got ${raw.slice(0, 100)}`, 20001);
    }
    if (typeof entry?.type !== 'string' || entry.type === '') throw badRequest('Each Types entry needs a type', 20001);
    types.set(entry.type, schemaVersion(entry.schema_version));
  }
  return types;
}

function schemaVersion(value: unknown): number {
  if (value === undefined || value === null || value === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw badRequest(`Invalid SchemaVersion: ${String(value)}`, 20001);
  return n;
}

export function registerEventStreams(router: Router, emu: Emulator): void {
  const state = () => emu.state.events.streams;
  const add = (method: string, pattern: string, handler: (req: EmuRequest) => EmuResponse) =>
    router.add('events', method, pattern, handler);
  const base = (req: EmuRequest) => `${req.baseUrl}/v1`;

  const renderSink = (req: EmuRequest, s: SinkRecord) => {
    const url = `${base(req)}/Sinks/${s.sid}`;
    return {
      date_created: isoDate(s.dateCreated),
      date_updated: isoDate(s.dateUpdated),
      description: s.description,
      sid: s.sid,
      sink_configuration: s.configuration,
      sink_type: s.sinkType,
      status: 'active',
      url,
      links: { sink_test: `${url}/Test`, sink_validate: `${url}/Validate` },
    };
  };
  const renderSubscription = (req: EmuRequest, s: SubscriptionRecord) => {
    const url = `${base(req)}/Subscriptions/${s.sid}`;
    return {
      account_sid: emu.config.accountSid,
      sid: s.sid,
      date_created: isoDate(s.dateCreated),
      date_updated: isoDate(s.dateUpdated),
      description: s.description,
      sink_sid: s.sinkSid,
      url,
      links: { subscribed_events: `${url}/SubscribedEvents` },
    };
  };
  const renderSubscribed = (req: EmuRequest, sub: SubscriptionRecord, type: string) => ({
    account_sid: emu.config.accountSid,
    type,
    schema_version: sub.types.get(type) ?? 1,
    subscription_sid: sub.sid,
    url: `${base(req)}/Subscriptions/${sub.sid}/SubscribedEvents/${encodeURIComponent(type)}`,
  });
  const sinkOf = (req: EmuRequest, name = 'Sid') => {
    const sink = state().sinks.get(req.params[name]);
    if (!sink) throw notFound(20404, `The requested resource ${req.path} was not found`);
    return sink;
  };
  const subscriptionOf = (req: EmuRequest, name = 'Sid') => {
    const sub = state().subscriptions.get(req.params[name]);
    if (!sub) throw notFound(20404, `The requested resource ${req.path} was not found`);
    return sub;
  };

  add('POST', '/v1/Sinks', (req) => {
    const description = req.form.get('Description');
    if (!description) throw badRequest('Missing required parameter Description in the post body', 20001);
    const sinkType = req.form.get('SinkType') ?? '';
    if (!SINK_TYPES.has(sinkType)) throw badRequest(`Invalid SinkType: ${sinkType}`, 20001);
    const configuration = parseJsonObject(req.form.get('SinkConfiguration'), 'SinkConfiguration');
    if (sinkType === 'webhook') validWebhookConfiguration(configuration);
    const now = emu.clock.now();
    const sink: SinkRecord = {
      sid: newSid('DG'),
      description,
      sinkType: sinkType as SinkRecord['sinkType'],
      configuration,
      dateCreated: now,
      dateUpdated: now,
    };
    state().sinks.set(sink.sid, sink);
    return { status: 201, body: renderSink(req, sink) };
  });
  add('GET', '/v1/Sinks', (req) => {
    const inUse = req.query.get('InUse');
    const used = new Set([...state().subscriptions.values()].map((s) => s.sinkSid));
    const sinks = [...state().sinks.values()].filter(
      (s) => inUse === null || used.has(s.sid) === /^true$/i.test(inUse),
    );
    const filters = { InUse: inUse ?? undefined, Status: req.query.get('Status') ?? undefined };
    const status = req.query.get('Status');
    const listed = status && status !== 'active' ? [] : sinks;
    return { status: 200, body: metaPage(req, 'sinks', listed, (s) => renderSink(req, s), filters) };
  });
  add('GET', '/v1/Sinks/:Sid', (req) => ({ status: 200, body: renderSink(req, sinkOf(req)) }));
  add('POST', '/v1/Sinks/:Sid', (req) => {
    const sink = sinkOf(req);
    const description = req.form.get('Description');
    if (!description) throw badRequest('Missing required parameter Description in the post body', 20001);
    sink.description = description;
    sink.dateUpdated = emu.clock.now();
    return { status: 200, body: renderSink(req, sink) };
  });
  add('DELETE', '/v1/Sinks/:Sid', (req) => {
    const sink = sinkOf(req);
    // Unconfirmed: whether the real API refuses to delete a sink in use. Here its subscriptions go with it.
    for (const sub of [...state().subscriptions.values()])
      if (sub.sinkSid === sink.sid) state().subscriptions.delete(sub.sid);
    state().sinks.delete(sink.sid);
    return { status: 204 };
  });
  add('POST', '/v1/Sinks/:Sid/Test', (req) => {
    const sink = sinkOf(req);
    // Unconfirmed: the test event's shape; here a CloudEvent of type com.twilio.eventstreams.test-event.
    const now = new Date(emu.clock.now()).toISOString();
    const testId = newSid('TE');
    void deliver({
      url: String(sink.configuration.destination ?? ''),
      authToken: emu.config.authToken,
      json: [
        {
          specversion: '1.0',
          type: 'com.twilio.eventstreams.test-event',
          source: `/v1/Sinks/${sink.sid}`,
          id: testId,
          datacontenttype: 'application/json',
          time: now,
          data: { test_id: testId },
        },
      ],
      timeoutMs: state().settings.timeoutMs,
    });
    return { status: 201, body: { result: 'submitted' } };
  });
  add('POST', '/v1/Sinks/:Sid/Validate', (req) => {
    sinkOf(req);
    if (!req.form.get('TestId')) throw badRequest('Missing required parameter TestId in the post body', 20001);
    return { status: 201, body: { result: 'valid' } };
  });

  add('POST', '/v1/Subscriptions', (req) => {
    const description = req.form.get('Description');
    if (!description) throw badRequest('Missing required parameter Description in the post body', 20001);
    const sinkSid = req.form.get('SinkSid') ?? '';
    if (!state().sinks.has(sinkSid)) throw new TwilioError(400, 20001, `Sink ${sinkSid.slice(0, 40)} does not exist`);
    const types = parseTypes(req.form.getAll('Types'));
    if (types.size === 0) throw badRequest('Missing required parameter Types in the post body', 20001);
    const now = emu.clock.now();
    const sub: SubscriptionRecord = {
      sid: newSid('DF'),
      description,
      sinkSid,
      types,
      dateCreated: now,
      dateUpdated: now,
    };
    state().subscriptions.set(sub.sid, sub);
    return { status: 201, body: renderSubscription(req, sub) };
  });
  add('GET', '/v1/Subscriptions', (req) => {
    const sinkSid = req.query.get('SinkSid');
    const subs = [...state().subscriptions.values()].filter((s) => !sinkSid || s.sinkSid === sinkSid);
    const filters = { SinkSid: sinkSid ?? undefined };
    return { status: 200, body: metaPage(req, 'subscriptions', subs, (s) => renderSubscription(req, s), filters) };
  });
  add('GET', '/v1/Subscriptions/:Sid', (req) => ({ status: 200, body: renderSubscription(req, subscriptionOf(req)) }));
  add('POST', '/v1/Subscriptions/:Sid', (req) => {
    const sub = subscriptionOf(req);
    const description = req.form.get('Description');
    if (description) sub.description = description;
    const types = req.form.getAll('Types');
    if (types.length > 0) for (const [type, version] of parseTypes(types)) sub.types.set(type, version);
    sub.dateUpdated = emu.clock.now();
    return { status: 200, body: renderSubscription(req, sub) };
  });
  add('DELETE', '/v1/Subscriptions/:Sid', (req) => {
    state().subscriptions.delete(subscriptionOf(req).sid);
    return { status: 204 };
  });

  const subscribed = '/v1/Subscriptions/:SubscriptionSid/SubscribedEvents';
  add('GET', subscribed, (req) => {
    const sub = subscriptionOf(req, 'SubscriptionSid');
    return { status: 200, body: metaPage(req, 'types', [...sub.types.keys()], (t) => renderSubscribed(req, sub, t)) };
  });
  add('POST', subscribed, (req) => {
    const sub = subscriptionOf(req, 'SubscriptionSid');
    const type = req.form.get('Type');
    if (!type) throw badRequest('Missing required parameter Type in the post body', 20001);
    const existed = sub.types.has(type);
    sub.types.set(type, schemaVersion(req.form.get('SchemaVersion')));
    return { status: existed ? 200 : 201, body: renderSubscribed(req, sub, type) };
  });
  const typeOf = (req: EmuRequest, sub: SubscriptionRecord) => {
    if (!sub.types.has(req.params.Type)) throw notFound(20404, `The requested resource ${req.path} was not found`);
    return req.params.Type;
  };
  add('GET', `${subscribed}/:Type`, (req) => {
    const sub = subscriptionOf(req, 'SubscriptionSid');
    return { status: 200, body: renderSubscribed(req, sub, typeOf(req, sub)) };
  });
  add('POST', `${subscribed}/:Type`, (req) => {
    const sub = subscriptionOf(req, 'SubscriptionSid');
    const type = typeOf(req, sub);
    sub.types.set(type, schemaVersion(req.form.get('SchemaVersion')));
    return { status: 200, body: renderSubscribed(req, sub, type) };
  });
  add('DELETE', `${subscribed}/:Type`, (req) => {
    const sub = subscriptionOf(req, 'SubscriptionSid');
    sub.types.delete(typeOf(req, sub));
    return { status: 204 };
  });
}
