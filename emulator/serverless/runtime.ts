/**
 * Runs what was deployed: each environment's domain (<domain_name>.twil.io, reached through the proxy or as
 * http://127.0.0.1:<port>/<domain>/…) serves the environment's current build. Functions run in one process per
 * environment (runtime-host.js) from the build's folder, with the environment's variables, the account's credentials
 * when the service includes them, and DOMAIN_NAME / PATH / SERVICE_SID / ENVIRONMENT_SID as deployed.
 *
 * Visibility as the cloud enforces it (https://www.twilio.com/docs/serverless/functions-assets/visibility): public is
 * open; protected needs a valid X-Twilio-Signature for the public URL (else 401); private is not reachable by URL.
 * An invocation still running after 10 s is cut off with 504 and its process replaced
 * (https://www.twilio.com/docs/serverless/functions-assets/functions/invocation: 10 s execution limit).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import twilio from 'twilio';
import { readBody } from '../core/body';
import { newSid } from '../core/sids';
import type { Emulator } from '../server';
import { createBuildsFolder, PROJECT_ROOT, removeBuildsFolder } from './build';
import type { ServerlessBuild, ServerlessEnvironment, ServerlessVersion } from './state';

export const INVOCATION_LIMIT_MS = 10_000;
const MAX_REQUEST_BYTES = 6 * 1024 * 1024;
const HOST_SCRIPT = join(__dirname, 'runtime-host.js');

interface RuntimeHost {
  buildSid: string;
  child: ChildProcess;
  port: Promise<number>;
}

function plain(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
}

export class FunctionsRuntime {
  private folder?: string;
  private readonly hosts = new Map<string, RuntimeHost>();

  constructor(private readonly emu: Emulator) {}

  /** Where this emulator lays builds out (created on first use, removed on close). */
  buildsFolder(): string {
    this.folder ??= createBuildsFolder();
    return this.folder;
  }

  /** Stops the functions process of an environment; the next request starts one for its current build. */
  deactivate(environmentSid: string): void {
    const host = this.hosts.get(environmentSid);
    if (!host) return;
    this.hosts.delete(environmentSid);
    host.child.kill('SIGKILL');
  }

  /** Stops every functions process (reset); builds stay laid out. */
  stopAll(): void {
    for (const sid of [...this.hosts.keys()]) this.deactivate(sid);
  }

  close(): void {
    this.stopAll();
    if (this.folder) removeBuildsFolder(this.folder);
    this.folder = undefined;
  }

  /** Answers one request for a deployed domain. `target` is the path and query as the client sent them. */
  async serve(req: IncomingMessage, res: ServerResponse, domain: string, target: string): Promise<void> {
    const state = this.emu.state.serverless;
    const environment = [...state.environments.values()].find((e) => e.domainName === domain && e.buildSid);
    const build = environment ? state.builds.get(environment.buildSid!) : undefined;
    if (!environment || !build || build.status !== 'completed') return plain(res, 404, 'Not Found');
    const url = new URL(target, `https://${domain}`);
    const version = [...build.functionVersions, ...build.assetVersions]
      .map((sid) => state.versions.get(sid)!)
      .find((v) => v.path === url.pathname);
    // Private functions and assets are only reachable from other functions (Runtime.getFunctions / getAssets).
    if (!version || version.visibility === 'private') return plain(res, 404, 'Not Found');
    let body: Buffer;
    try {
      body = (await readBody(req, MAX_REQUEST_BYTES)).bytes;
    } catch {
      return plain(res, 413, 'Payload Too Large');
    }
    if (version.visibility === 'protected' && !this.signatureValid(req, `https://${domain}${target}`, body)) {
      // Body text unconfirmed; the status is the documented one.
      return plain(res, 401, 'Unauthorized - you are not authenticated to perform this request');
    }
    if (version.kind === 'asset') {
      res.writeHead(200, { 'Content-Type': version.contentType, 'Content-Length': version.content.length });
      res.end(req.method === 'HEAD' ? undefined : version.content);
      return;
    }
    await this.invoke(environment, build, req, res, target, body);
  }

  private signatureValid(req: IncomingMessage, url: string, body: Buffer): boolean {
    const signature = req.headers['x-twilio-signature'];
    if (typeof signature !== 'string' || signature === '') return false;
    const authToken = this.emu.config.authToken;
    const type = String(req.headers['content-type'] ?? '').toLowerCase();
    if (new URL(url).searchParams.has('bodySHA256')) {
      return twilio.validateRequestWithBody(authToken, signature, url, body.toString('utf8'));
    }
    const params = type.includes('application/x-www-form-urlencoded')
      ? Object.fromEntries(new URLSearchParams(body.toString('utf8')))
      : {};
    return twilio.validateRequest(authToken, signature, url, params);
  }

  private async invoke(
    environment: ServerlessEnvironment,
    build: ServerlessBuild,
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    body: Buffer,
  ): Promise<void> {
    let host: RuntimeHost;
    let port: number;
    try {
      host = this.host(environment, build);
      port = await host.port;
    } catch (error) {
      return plain(res, 500, `The deployed runtime could not start: ${(error as Error).message}`);
    }
    const headers = { ...req.headers, host: environment.domainName, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    delete headers.connection;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        upstream.destroy();
        this.deactivate(environment.sid);
        plain(res, 504, 'Function execution timed out (10 s)');
        resolve();
      }, INVOCATION_LIMIT_MS);
      const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: target, headers }, (answer) => {
        clearTimeout(timer);
        const out = { ...answer.headers };
        delete out.connection;
        delete out['keep-alive'];
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.on('end', resolve);
        answer.on('error', () => resolve());
      });
      upstream.on('error', (error) => {
        clearTimeout(timer);
        if (!res.writableEnded) plain(res, 502, `The function's process failed: ${error.message}`);
        resolve();
      });
      upstream.end(body);
    });
  }

  /** The running process for the environment's current build, started if needed. */
  private host(environment: ServerlessEnvironment, build: ServerlessBuild): RuntimeHost {
    const existing = this.hosts.get(environment.sid);
    if (existing && existing.buildSid === build.sid) return existing;
    this.deactivate(environment.sid);
    const state = this.emu.state.serverless;
    const service = state.services.get(environment.serviceSid)!;
    const versions = (sids: string[]) => sids.map((sid) => state.versions.get(sid)!);
    const entry = (v: ServerlessVersion) => ({
      path: v.path,
      visibility: v.visibility,
      file:
        v.kind === 'function'
          ? join(build.directory!, 'functions', `${v.sid}.js`)
          : join(build.directory!, 'assets', v.sid),
    });
    const variables = [...state.variables.values()].filter((v) => v.environmentSid === environment.sid);
    const env: Record<string, string> = {
      ...Object.fromEntries(variables.map((v) => [v.key, v.value])),
      ...(service.includeCredentials
        ? { ACCOUNT_SID: this.emu.config.accountSid, AUTH_TOKEN: this.emu.config.authToken }
        : {}),
      DOMAIN_NAME: environment.domainName,
      SERVICE_SID: service.sid,
      ENVIRONMENT_SID: environment.sid,
    };
    const caFile = join(this.buildsFolder(), 'proxy-ca.pem');
    writeFileSync(caFile, this.emu.proxy.ca.certPem);
    const child = fork(HOST_SCRIPT, [], {
      cwd: build.directory!,
      // Only what a deployed function's process has, plus the proxy that stands for the network.
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        HTTP_PROXY: this.emu.url,
        NODE_EXTRA_CA_CERTS: caFile,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
    });
    const deploymentSid = [...state.deployments.values()]
      .reverse()
      .find((d) => d.environmentSid === environment.sid)?.sid;
    const record = (level: 'info' | 'error') => (chunk: Buffer) => {
      for (const message of chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')) {
        state.logs.push({
          sid: newSid('NO'),
          serviceSid: service.sid,
          environmentSid: environment.sid,
          buildSid: build.sid,
          deploymentSid: deploymentSid ?? newSid('ZD'),
          functionSid: null,
          requestSid: newSid('RQ'),
          level,
          message,
          dateCreated: this.emu.clock.now(),
        });
      }
    };
    child.stdout!.on('data', record('info'));
    child.stderr!.on('data', record('error'));
    const port = new Promise<number>((resolve, reject) => {
      child.once('message', (message: { port?: number }) =>
        message.port ? resolve(message.port) : reject(new Error('no port')),
      );
      child.once('exit', (code) => reject(new Error(`the functions process exited with code ${code}`)));
    });
    port.catch(() => this.hosts.get(environment.sid)?.child === child && this.hosts.delete(environment.sid));
    child.send({
      baseDir: build.directory,
      fallbackDir: PROJECT_ROOT,
      domain: environment.domainName,
      env,
      functions: versions(build.functionVersions).map(entry),
      assets: versions(build.assetVersions).map(entry),
    });
    const host: RuntimeHost = { buildSid: build.sid, child, port };
    this.hosts.set(environment.sid, host);
    child.once('exit', () => this.hosts.get(environment.sid) === host && this.hosts.delete(environment.sid));
    return host;
  }
}
