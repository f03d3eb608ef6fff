/**
 * One Sync client connection: the twilsock handshake, the token's lifetime as the server drives it, tunnelled requests
 * and the subscriptions whose live events it receives. Protocol as twilsock 1.0.2 (`twilsock/dist/twilsock.js`,
 * `packetinterface.js`, `services/upstream.js`) and twilio-sync 4.0.1 (`subscriptions.js`) speak it.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { TwilioError } from '../core/errors';
import type { SyncMap } from '../families/sync';
import type { Emulator } from '../server';
import { allowed, type CdsRoutes, type ClientIdentity } from './cds';
import { decodeFrame, encodeFrame, FrameError, type TwilsockFrame, type TwilsockHeader } from './framing';
import type { MapEvent, MapEvents } from './map-events';
import { verifyAccessToken, type VerifiedToken } from './tokens';
import type { SyncClientStats } from './stats';

/** A socket that sends no `init` this long after opening is closed. */
export const INIT_TIMEOUT_MS = 10_000;
/** After the server's own `close`, the client has this long to close the socket before the server drops it. */
const CLOSE_GRACE_MS = 10_000;
/** No notification within this long → the SDK subscribes again (subscriptions.js verifyPokeDelivery); unconfirmed value. */
const ESTIMATED_DELIVERY_MS = 5_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

type Phase = 'awaiting-init' | 'live' | 'closing' | 'closed';

export interface SessionContext {
  emu: Emulator;
  cds: CdsRoutes;
  events: MapEvents;
  stats: () => SyncClientStats;
  /** Lead time of `token_about_to_expire` before the token's `exp`, in seconds. */
  warningSeconds: () => number;
  onClosed: (session: SyncClientSession) => void;
}

const newMessageId = () => `TM${randomBytes(16).toString('hex')}`;

function statusText(code: number): string {
  const texts: Record<number, string> = {
    200: 'OK',
    201: 'Created',
    204: 'No Content',
    400: 'Bad Request',
    401: 'UNAUTHORIZED',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    409: 'Conflict',
    410: 'Gone',
    412: 'Precondition Failed',
    413: 'Payload Too Large',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
  };
  return texts[code] ?? 'Error';
}

export class SyncClientSession {
  private phase: Phase = 'awaiting-init';
  private token?: VerifiedToken;
  /** The `exp` a warning was sent for (one warning per token). */
  private warnedExp?: number;
  private timer?: NodeJS.Timeout;
  private readonly subscriptions = new Set<string>();

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: SessionContext,
  ) {
    this.setTimer(INIT_TIMEOUT_MS, () => this.drop('no init'));
    ws.on('message', (data, isBinary) => this.receive(data as Buffer | Buffer[] | ArrayBuffer, isBinary));
    ws.on('close', () => this.closed());
    ws.on('error', () => this.closed());
  }

  get identity(): ClientIdentity | undefined {
    return this.token;
  }

  get isLive(): boolean {
    return this.phase === 'live';
  }

  // ------------------------------------------------------------------------------------------------------------
  // Incoming

  private receive(data: Buffer | Buffer[] | ArrayBuffer, _isBinary: boolean): void {
    if (this.phase === 'closed') return;
    this.ctx.stats().messagesIn += 1;
    let frame: TwilsockFrame;
    try {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      frame = decodeFrame(buffer);
    } catch (error) {
      this.ctx.stats().badFrames += 1;
      this.protocolError(error instanceof FrameError ? error.message : 'unreadable frame');
      return;
    }
    try {
      this.dispatch(frame);
    } catch (error) {
      console.error('[emulator] sync client session error', error);
      this.protocolError('internal error');
    }
  }

  private dispatch({ header, payload }: TwilsockFrame): void {
    switch (header.method) {
      case 'reply': // acknowledgements of our messages
        return;
      case 'init':
        if (this.phase !== 'awaiting-init') return this.protocolError('init sent twice');
        return this.init(header);
      case 'update':
        if (this.phase !== 'live') return this.protocolError('update before init');
        return this.update(header);
      case 'message':
        if (this.phase !== 'live') return this.protocolError('message before init');
        return this.tunnel(header, payload);
      case 'close':
        this.phase = 'closing';
        this.ws.close(1000);
        return;
      case 'telemetry.v1':
        return this.reply(header, { code: 200, status: 'OK' });
      default:
        this.ctx.stats().badFrames += 1;
        return this.protocolError(`unknown method ${String(header.method).slice(0, 40)}`);
    }
  }

  private init(header: TwilsockHeader): void {
    const check = verifyAccessToken(this.ctx.emu, header.token);
    if (!check.ok) {
      this.ctx.stats().refusals += 1;
      // 401 → the SDK's `denied` state; 20104 also → `tokenExpired` (twilsock.js sendInit).
      this.reply(header, { code: 401, status: 'UNAUTHORIZED', errorCode: check.code, description: check.message });
      this.closeAfterGrace();
      return;
    }
    this.phase = 'live';
    this.token = check.token;
    this.ctx.stats().initialized += 1;
    this.reply(
      header,
      { code: 200, status: 'OK' },
      {
        continuation_token: `CT${randomBytes(16).toString('hex')}`,
        continuation_token_status: { reused: false },
        capabilities: ['client_update', 'offline_storage'],
        offline_storage: { data_sync: { storage_id: `${check.token.serviceSid}:${check.token.identity}` } },
        init_registrations: [],
      },
    );
    this.scheduleLifetime();
  }

  private update(header: TwilsockHeader): void {
    const check = verifyAccessToken(this.ctx.emu, header.token);
    const current = this.token!;
    const sameClient =
      check.ok && check.token.identity === current.identity && check.token.serviceSid === current.serviceSid;
    if (!check.ok || !sameClient) {
      this.ctx.stats().refusals += 1;
      // A token for someone else cannot take over a session (unconfirmed code).
      const code = check.ok ? 20101 : check.code;
      const message = check.ok ? 'Invalid Access Token: identity or service differs from the session' : check.message;
      this.reply(header, { code: 401, status: 'UNAUTHORIZED', errorCode: code, description: message });
      return;
    }
    this.token = check.token;
    this.ctx.stats().tokenUpdates += 1;
    this.reply(header, { code: 200, status: 'OK' });
    this.scheduleLifetime();
  }

  private tunnel(header: TwilsockHeader, payload: unknown): void {
    const http = (header.http_request ?? {}) as Record<string, unknown>;
    const method = typeof http.method === 'string' ? http.method.toUpperCase() : '';
    const path = typeof http.path === 'string' ? http.path : '';
    const headers =
      typeof http.headers === 'object' && http.headers !== null ? (http.headers as Record<string, string>) : {};
    let result: { status: number; body?: unknown };
    try {
      if (header.active_grant !== 'data_sync')
        throw new TwilioError(403, 20403, 'Only the data_sync grant is served here');
      for (const hook of this.ctx.emu.beforeRequest) hook();
      const query = readQuery(http.params);
      const who = this.token!;
      if (path === '/v4/Subscriptions' && method === 'POST') result = this.subscribe(payload);
      else result = this.ctx.cds.handle({ method, path, query, headers, body: payload }, who);
    } catch (error) {
      result = errorAnswer(error);
    }
    if (result.status === 403) this.ctx.stats().denials += 1;
    this.ctx.stats().requests += 1;
    const key = `${method} ${path.replace(/\/(MP|IS)[0-9a-f]{32}/g, '/$1…').replace(/\/Items\/.*/, '/Items/…')}`;
    this.ctx.stats().byRequest[key] = (this.ctx.stats().byRequest[key] ?? 0) + 1;
    this.reply(
      header,
      { code: 200, status: 'OK' },
      {
        payload_type: 'application/json',
        http_status: { code: result.status, status: statusText(result.status) },
        http_headers: { 'Content-Type': 'application/json' },
      },
      result.body,
    );
  }

  // ------------------------------------------------------------------------------------------------------------
  // Subscriptions

  private subscribe(payload: unknown): { status: number; body: unknown } {
    const body = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
    const action = body.action;
    const requests = Array.isArray(body.requests) ? body.requests.slice(0, 1000) : null;
    if ((action !== 'establish' && action !== 'cancel') || !requests) {
      throw new TwilioError(400, 20001, 'action must be establish or cancel, with requests');
    }
    const correlationId = body.correlation_id;
    // Events may flow before the reply (subscriptions.js); sent after it here, on the next turn.
    setImmediate(() => {
      for (const raw of requests) {
        const request = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
        this.applySubscription(action, correlationId, request);
      }
    });
    return { status: 200, body: { estimated_delivery_in_ms: ESTIMATED_DELIVERY_MS, max_batch_size: 100 } };
  }

  private applySubscription(
    action: 'establish' | 'cancel',
    correlationId: unknown,
    request: Record<string, unknown>,
  ): void {
    if (this.phase !== 'live') return;
    const sid = typeof request.object_sid === 'string' ? request.object_sid : '';
    if (action === 'cancel') {
      this.subscriptions.delete(sid);
      this.notify({
        event_type: 'subscription_canceled',
        correlation_id: correlationId,
        events: [{ object_sid: sid }],
      });
      return;
    }
    const who = this.token!;
    const service = this.ctx.emu.state.sync.services.get(who.serviceSid);
    const map = service?.maps.get(sid);
    const failure = (status: number, code: number, message: string) =>
      this.notify({
        event_type: 'subscription_failed',
        correlation_id: correlationId,
        events: [{ object_sid: sid, error: { status, code, message } }],
      });
    if (!service || !map || request.object_type !== 'map') return failure(404, 54100, 'Map not found');
    if (!allowed(service, map, who, 'read')) {
      this.ctx.stats().denials += 1;
      return failure(403, 54007, 'Access forbidden for identity');
    }
    this.subscriptions.add(sid);
    const since = typeof request.last_event_id === 'number' ? request.last_event_id : this.ctx.events.lastEventId(map);
    for (const missed of this.ctx.events.since(map, since)) this.notify(missed);
    this.notify({
      event_type: 'subscription_established',
      correlation_id: correlationId,
      events: [{ object_sid: sid, replay_status: 'completed', last_event_id: this.ctx.events.lastEventId(map) }],
    });
  }

  /** A change to `map` for this session's subscribers; ACLs checked at delivery. */
  deliver(map: SyncMap, event: MapEvent): void {
    if (this.phase !== 'live' || !this.subscriptions.has(map.sid)) return;
    const who = this.token!;
    const service = this.ctx.emu.state.sync.services.get(who.serviceSid);
    if (!service || (!service.maps.has(map.sid) && event.event_type !== 'map_removed')) return;
    if (!allowed(service, map, who, 'read')) return;
    if (event.event_type === 'map_removed') this.subscriptions.delete(map.sid);
    this.ctx.stats().eventsDelivered += 1;
    this.notify(event);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Token lifetime: the SDK never reads the JWT; the server warns, expires and accepts updates.

  /** Re-reads the clock: warns once per token `warningSeconds` before `exp`, closes with 410 at `exp`. */
  scheduleLifetime(): void {
    if (this.phase !== 'live' || !this.token) return;
    const now = this.ctx.emu.clock.now();
    const expMs = this.token.exp * 1000;
    const warnMs = expMs - this.ctx.warningSeconds() * 1000;
    if (now >= expMs) return this.expire();
    if (now >= warnMs && this.warnedExp !== this.token.exp) {
      this.warnedExp = this.token.exp;
      this.ctx.stats().expiryWarnings += 1;
      this.send({ method: 'client_update', id: newMessageId(), client_update_type: 'token_about_to_expire' });
    }
    const next = this.warnedExp === this.token.exp ? expMs : warnMs;
    this.setTimer(Math.max(0, next - now), () => this.scheduleLifetime());
  }

  private expire(): void {
    this.ctx.stats().expired += 1;
    this.send({
      method: 'close',
      id: newMessageId(),
      status: { code: 410, status: 'TOKEN_EXPIRED', description: 'Token expired' },
    });
    this.closeAfterGrace();
  }

  // ------------------------------------------------------------------------------------------------------------
  // Outgoing and closing

  private send(header: TwilsockHeader, payload?: unknown): void {
    if (this.phase === 'closed' || this.ws.readyState !== this.ws.OPEN) return;
    this.ctx.stats().messagesOut += 1;
    this.ws.send(encodeFrame(header, payload), { binary: true });
  }

  private reply(
    request: TwilsockHeader,
    status: Record<string, unknown>,
    extra: Record<string, unknown> = {},
    payload?: unknown,
  ): void {
    this.send(
      { method: 'reply', id: typeof request.id === 'string' ? request.id : newMessageId(), status, ...extra },
      payload,
    );
  }

  private notify(message: Record<string, unknown> | MapEvent): void {
    this.send(
      {
        method: 'notification',
        id: newMessageId(),
        message_type: 'twilio.sync.event',
        payload_type: 'application/json',
      },
      message,
    );
  }

  /** Tells the client it broke the protocol (406: the SDK treats it as fatal) and closes. */
  private protocolError(reason: string): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.send({
      method: 'close',
      id: newMessageId(),
      status: { code: 406, status: 'Not Acceptable', description: reason },
    });
    this.closeAfterGrace(0);
  }

  /** Ends the session now: shutdown, reset or a socket that never said init. */
  drop(reason: string): void {
    void reason;
    if (this.phase === 'closed') return;
    this.ws.terminate();
    this.closed();
  }

  private closeAfterGrace(graceMs = CLOSE_GRACE_MS): void {
    this.phase = 'closing';
    if (graceMs === 0) {
      this.ws.close(1000);
      this.setTimer(CLOSE_GRACE_MS, () => this.drop('close grace over'));
      return;
    }
    this.setTimer(graceMs, () => this.drop('close grace over'));
  }

  private setTimer(ms: number, run: () => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(run, Math.min(ms, MAX_TIMER_MS));
    this.timer.unref?.();
  }

  private closed(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.subscriptions.clear();
    this.ctx.onClosed(this);
  }
}

/** The tunnelled query: twilsock sends `params` as an object of raw (still encoded) values, arrays when repeated. */
function readQuery(params: unknown): URLSearchParams {
  if (typeof params === 'string') return new URLSearchParams(params.replace(/^\?/, ''));
  const query = new URLSearchParams();
  if (typeof params !== 'object' || params === null) return query;
  const decode = (v: unknown) => {
    try {
      return decodeURIComponent(String(v ?? ''));
    } catch {
      throw new TwilioError(400, 20001, 'Invalid query string');
    }
  };
  for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
    for (const v of Array.isArray(value) ? value : [value]) query.append(decode(name), decode(v));
  }
  return query;
}

function errorAnswer(error: unknown): { status: number; body: unknown } {
  if (error instanceof TwilioError) return { status: error.status, body: error.toBody() };
  console.error('[emulator] sync client request failed', error);
  return { status: 500, body: new TwilioError(500, 20500, 'Internal Server Error').toBody() };
}
