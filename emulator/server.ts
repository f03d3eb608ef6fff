/**
 * The local Twilio emulator: one loopback origin serving Sync v1, TaskRouter v1, Events v1, API 2010 and IAM under
 * Twilio's own paths, plus the admin API under /__admin/. See README "Emulator" for the contract.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticate } from './core/auth';
import { readBody } from './core/body';
import { Clock } from './core/clock';
import { DEFAULT_CONFIG, type EmulatorConfig } from './core/config';
import { TwilioError } from './core/errors';
import {
  appliesTo,
  FaultPlan,
  NO_FAULTS,
  objectIdentity,
  type FaultSettings,
  type RequestIdentity,
} from './core/faults';
import { WriteLimiter } from './core/rate-limit';
import { Router, type EmuRequest, type EmuResponse } from './core/router';
import { newSid } from './core/sids';
import { Stats } from './core/stats';
import { adminCorsHeaders, adminRefusal, registerAdmin } from './families/admin';
import { registerApi2010, createCallsState, type CallsState } from './families/api2010';
import { registerIam, createIamState, type IamState } from './families/iam';
import { registerSync, createSyncState, type SyncChange, type SyncState } from './families/sync';
import { registerTaskRouter, createTaskRouterState, type TaskRouterState } from './families/taskrouter';
import { SyncClientEndpoint } from './sync-client/endpoint';
import { registerPushAdmin } from './events/admin-routes';
import { registerEventStreams } from './events/event-streams';
import { PushState } from './events/push';
import { registerWorkspaceUpdate } from './events/workspace-callback';
import { registerServerless } from './families/serverless';
import { MAX_UPLOAD_BYTES, registerServerlessUpload } from './families/serverless-upload';
import { classifyHost, hostFromPath, HOST_ONLY_FAMILIES, type HostTarget } from './proxy/hosts';
import { TwilioProxy } from './proxy/proxy';
import { FunctionsRuntime } from './serverless/runtime';
import { createServerlessState, type ServerlessState } from './serverless/state';
import { serializeBody } from './core/serialize';

export interface EmulatorState {
  sync: SyncState;
  taskrouter: TaskRouterState;
  calls: CallsState;
  iam: IamState;
  /** Pushed events: the workspace callback's and Event Streams' deliveries, and live calls under way. */
  events: PushState;
  serverless: ServerlessState;
}

export interface ObservedAnswer {
  family: string;
  method: string;
  /** The route pattern, e.g. /v1/Services/:ServiceSid/Maps */
  pattern: string;
  status: number;
  body: unknown;
}

export interface EmulatorOptions extends Partial<EmulatorConfig> {
  port?: number;
  host?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export class Emulator {
  readonly config: EmulatorConfig;
  readonly clock = new Clock();
  readonly router = new Router();
  private faultPlan = new FaultPlan(NO_FAULTS);
  stats = new Stats();
  limiter: WriteLimiter;
  /** Sync reads per object (docs "Sync limits": 20/s), same burst window as writes. */
  readLimiter!: WriteLimiter;
  /** Sync map permission reads and writes per map (docs "Sync limits": 80/s). */
  permissionLimiter!: WriteLimiter;
  state!: EmulatorState;
  /** Run before every Twilio (non-admin) request, e.g. the TTL sweeper. */
  readonly beforeRequest: Array<() => void> = [];
  /** Sees every answer the emulator sends (the contract test validates them against the OpenAPI specs). */
  readonly observers: Array<(answer: ObservedAnswer) => void> = [];
  /** Told of every change to Sync maps and their items, whoever made it (REST, Sync clients, the sweeper). */
  readonly syncListeners: Array<(change: SyncChange) => void> = [];
  /** The Sync SDK's WebSocket endpoint, /v3/wsconnect on the same port. */
  readonly syncClient: SyncClientEndpoint;
  /** Proxy mode: HTTP CONNECT on the same port, TLS terminated for Twilio hosts (see emulator/proxy/). */
  readonly proxy = new TwilioProxy(
    (req, res, host) => void this.handle(req, res, host),
    (req, socket, head) => this.server?.emit('upgrade', req, socket, head),
  );
  /** Runs what was deployed through the Serverless API, on each environment's domain. */
  readonly functionsRuntime = new FunctionsRuntime(this);
  private server?: Server;
  private readonly sockets = new Set<import('node:net').Socket>();
  /** Injected delays still running: cleared on close, so a long latency setting cannot keep the process alive. */
  private readonly delays = new Set<NodeJS.Timeout>();

  /** REST requests being handled right now, for the account-wide concurrency limit. */
  private inFlight = 0;

  constructor(options: Partial<EmulatorConfig> = {}) {
    this.config = { ...DEFAULT_CONFIG, ...options };
    this.limiter = new WriteLimiter(this.config.writeRatePerSecond, this.config.writeBurstSeconds);
    this.makeLimiters();
    this.resetState();
    registerSync(this.router, this);
    registerTaskRouter(this.router, this);
    registerWorkspaceUpdate(this.router, this);
    registerEventStreams(this.router, this);
    registerApi2010(this.router, this);
    registerIam(this.router, this);
    registerServerless(this.router, this);
    registerServerlessUpload(this.router, this);
    registerAdmin(this.router, this);
    this.syncClient = new SyncClientEndpoint(this);
    registerPushAdmin(this.router, this);
  }

  /** The injected faults (POST /__admin/faults). Setting them starts a new plan: request counts start again. */
  get faults(): FaultSettings {
    return this.faultPlan.settings;
  }

  set faults(settings: FaultSettings) {
    this.faultPlan = new FaultPlan(settings);
  }

  /** Back to the state at start: the configured service and workspace exist, empty; clock, faults and stats cleared. */
  reset(): void {
    this.syncClient.dropAll();
    this.clock.reset();
    this.faults = NO_FAULTS;
    this.stats = new Stats();
    this.resetState();
  }

  /** Applies new rate-limit settings (admin config), keeping the data. */
  setLimits(
    limits: Partial<
      Pick<
        EmulatorConfig,
        | 'writeRatePerSecond'
        | 'writeBurstSeconds'
        | 'readRatePerSecond'
        | 'permissionRatePerSecond'
        | 'sweepLagSeconds'
        | 'accountConcurrency'
        | 'eventsOrder'
        | 'callsTimeFilter'
      >
    >,
  ): void {
    Object.assign(this.config, limits);
    this.makeLimiters();
  }

  private makeLimiters(): void {
    this.limiter = new WriteLimiter(this.config.writeRatePerSecond, this.config.writeBurstSeconds);
    this.readLimiter = new WriteLimiter(this.config.readRatePerSecond, this.config.writeBurstSeconds);
    this.permissionLimiter = new WriteLimiter(this.config.permissionRatePerSecond, this.config.writeBurstSeconds);
  }

  private resetState(): void {
    this.state?.events.stop();
    this.functionsRuntime?.stopAll();
    this.makeLimiters();
    this.state = {
      sync: createSyncState(this),
      taskrouter: createTaskRouterState(this),
      calls: createCallsState(this),
      iam: createIamState(this),
      events: new PushState(this),
      serverless: createServerlessState(),
    };
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('emulator is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await this.proxy.start();
    const server = createServer((req, res) => void this.handle(req, res));
    // Long enough that an idle keep-alive socket is not closed under a client in this process whose event loop was
    // busy for seconds (a test checking thousands of fields): the close and the next request would race (ECONNRESET).
    server.keepAliveTimeout = 60_000;
    server.on('upgrade', (req, socket, head) => this.syncClient.handleUpgrade(req, socket, head));
    server.on('connect', (req, socket, head) => this.proxy.connect(req, socket, head));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return this.url;
  }

  async close(): Promise<void> {
    this.state.events.stop();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.syncClient.dropAll();
    this.proxy.closeTunnels();
    this.functionsRuntime.close();
    for (const socket of this.sockets) socket.destroy();
    for (const delay of this.delays) clearTimeout(delay);
    this.delays.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Which host a request is for, the path under that host and the base of the URLs to answer with: the proxied
   * host (HTTPS through the proxy), the host the loopback path starts with, or none (the historical loopback paths).
   */
  private target(
    req: IncomingMessage,
    url: URL,
    proxiedHost?: string,
  ): { host?: HostTarget; path: string; baseUrl: string } {
    if (proxiedHost) return { host: classifyHost(proxiedHost), path: url.pathname, baseUrl: `https://${proxiedHost}` };
    const carried = hostFromPath(url.pathname);
    const origin = `http://${req.headers.host ?? '127.0.0.1'}`;
    if (carried) return { host: carried.target, path: carried.path, baseUrl: `${origin}/${carried.target.host}` };
    return { path: url.pathname, baseUrl: origin };
  }

  private async handle(req: IncomingMessage, res: ServerResponse, proxiedHost?: string): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const { host, path, baseUrl } = this.target(req, url, proxiedHost);
    if (host?.kind === 'domain') {
      await this.functionsRuntime.serve(req, res, host.host, path + url.search);
      return;
    }
    const families =
      host?.kind === 'api' ? (f: string) => f === host.family : (f: string) => !host && !HOST_ONLY_FAMILIES.has(f);
    const match = this.router.match(method, path, families);
    const family = typeof match === 'object' ? match.route.family : 'unknown';
    const routeKey = typeof match === 'object' ? `${method} ${match.route.pattern}` : `${method} (unmatched)`;
    let response: EmuResponse;
    let drop = false;
    let counted = false;
    const isAdminPath = !host && url.pathname.startsWith('/__admin/');
    if (isAdminPath) {
      // Host, Origin and Content-Type checks (families/admin.ts), before any route and for preflights too.
      const refusal = adminRefusal(method, req.headers);
      if (refusal) {
        await this.send(res, { status: refusal.status, body: refusal.toBody() });
        return;
      }
      if (method === 'OPTIONS') {
        await this.send(res, { status: 204, headers: adminCorsHeaders(req.headers.origin) });
        return;
      }
    }
    try {
      if (match === 'not-found') throw new TwilioError(404, 20404, `The requested resource ${path} was not found`);
      if (match === 'method') throw new TwilioError(405, 20004, `Method ${method} not allowed`);
      const { route, params } = match;
      const body = await readBody(req, route.family === 'serverless-upload' ? MAX_UPLOAD_BYTES : undefined);
      const request: EmuRequest = {
        method,
        path,
        params,
        query: url.searchParams,
        form: body.form,
        json: body.json,
        bytes: body.bytes,
        headers: req.headers,
        baseUrl,
      };
      if (route.admin) {
        if (!LOOPBACK.has(req.socket.remoteAddress ?? ''))
          throw new TwilioError(403, 20403, 'Admin API is loopback only');
        response = await route.handler(request);
      } else {
        request.principal = authenticate(req.headers, this.config);
        const limit = this.config.accountConcurrency;
        if (limit > 0 && this.inFlight >= limit) {
          this.stats.concurrencyLimited += 1;
          throw new TwilioError(429, 20429, 'Too Many Requests');
        }
        this.inFlight += 1;
        counted = true;
        const identity = { route: routeKey, object: objectIdentity(url.pathname, url.search, body.form, body.json) };
        drop = await this.injectFaults(family, identity);
        for (const hook of this.beforeRequest) hook();
        response = await route.handler(request);
      }
    } catch (error) {
      response = this.errorResponse(error, family);
    }
    try {
      await this.answer(req, res, response, { family, method, routeKey, match, drop, isAdminPath });
    } finally {
      // A request counts against the account's limit until its answer is written (a big page takes a while).
      if (counted) this.inFlight -= 1;
    }
  }

  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    response: EmuResponse,
    at: {
      family: string;
      method: string;
      routeKey: string;
      match: ReturnType<Router['match']>;
      drop: boolean;
      isAdminPath: boolean;
    },
  ): Promise<void> {
    const { family, method, routeKey, match, drop, isAdminPath } = at;
    this.stats.record(family, routeKey, drop ? 0 : response.status);
    if (typeof match === 'object') {
      for (const observe of this.observers) {
        observe({ family, method, pattern: match.route.pattern, status: response.status, body: response.body });
      }
    }
    if (drop) {
      req.socket.destroy();
      return;
    }
    if (isAdminPath) response.headers = { ...response.headers, ...adminCorsHeaders(req.headers.origin) };
    await this.send(res, response);
  }

  /** Applies the configured faults; throws the injected error, or returns true when the answer must be dropped. */
  private async injectFaults(family: string, identity: RequestIdentity): Promise<boolean> {
    const faults = this.faults;
    if (!appliesTo(faults, family)) return false;
    // Decided on arrival, before the delay, so that the decision cannot depend on how long the delay took.
    const decision = this.faultPlan.decide(family, identity);
    if (faults.latencyMs > 0) {
      this.stats.faults.delayed += 1;
      await new Promise<void>((resolve) => {
        const delay = setTimeout(() => {
          this.delays.delete(delay);
          resolve();
        }, faults.latencyMs);
        this.delays.add(delay);
      });
    }
    if (decision.kind === 'error') {
      this.stats.faults.errors += 1;
      throw decision.status === 500
        ? new TwilioError(500, 20500, 'Internal Server Error')
        : new TwilioError(503, 20503, 'Service Unavailable');
    }
    if (decision.kind === 'throttle') {
      this.stats.faults.throttles += 1;
      throw family === 'sync'
        ? new TwilioError(429, 54009, 'Rate limit exceeded')
        : new TwilioError(429, 20429, 'Too Many Requests');
    }
    if (decision.kind === 'drop') this.stats.faults.drops += 1;
    return decision.kind === 'drop';
  }

  private errorResponse(error: unknown, family: string): EmuResponse {
    if (error instanceof TwilioError) {
      if (error.code === 54009 && family === 'sync') this.stats.rateLimited += 1;
      return { status: error.status, body: error.toBody(), headers: error.headers };
    }
    console.error('[emulator] unexpected error', error);
    return { status: 500, body: new TwilioError(500, 20500, 'Internal Server Error').toBody() };
  }

  private async send(res: ServerResponse, response: EmuResponse): Promise<void> {
    res.statusCode = response.status;
    res.setHeader('Date', new Date(this.clock.now()).toUTCString());
    res.setHeader('Twilio-Request-Id', newSid('RQ'));
    for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
    if (response.body === undefined || response.status === 204) {
      res.end();
      return;
    }
    const text = await serializeBody(response.body);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(text);
  }
}

/** Creates and starts an emulator on loopback. Port 0 picks a free port. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const { port, host, ...config } = options;
  const emulator = new Emulator(config);
  await emulator.listen(port ?? 0, host ?? '127.0.0.1');
  return emulator;
}
