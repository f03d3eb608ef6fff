/**
 * Proxy mode: the emulator's port also answers HTTP CONNECT, the way twilio-run's API client (got + hpagent) and the
 * twilio SDK (https-proxy-agent) reach Twilio when HTTP_PROXY is set. For a Twilio host (*.twilio.com, *.twil.io,
 * see hosts.ts) the tunnel is terminated here with a certificate from this run's CA and the decrypted requests are
 * answered by the emulator as if they had come to that host; every other CONNECT is refused with 403. Nothing is ever
 * forwarded to the network.
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { ProxyCertificateAuthority } from './ca';
import { classifyHost } from './hosts';

export type ProxiedRequestHandler = (req: IncomingMessage, res: ServerResponse, host: string) => void;
export type ProxiedUpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

function refuse(socket: Duplex, status: string, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}

export class TwilioProxy {
  private authority?: ProxyCertificateAuthority;
  private tls?: HttpsServer;
  private readonly tunnels = new Set<Duplex>();

  constructor(
    private readonly onRequest: ProxiedRequestHandler,
    private readonly onUpgrade: ProxiedUpgradeHandler,
  ) {}

  /** Creates this run's CA (the emulator does it before it listens). */
  async start(): Promise<void> {
    this.authority ??= await ProxyCertificateAuthority.create();
  }

  /** This run's CA. */
  get ca(): ProxyCertificateAuthority {
    if (!this.authority) throw new Error('the proxy has not started');
    return this.authority;
  }

  /** Handles one CONNECT request from the emulator's HTTP server. */
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const match = /^([^:\s]+):(\d+)$/.exec(req.url ?? '');
    const target = match ? classifyHost(match[1]) : undefined;
    if (!match || match[2] !== '443' || !target) {
      refuse(
        socket,
        '403 Forbidden',
        `The emulator's proxy serves only https://*.twilio.com and https://*.twil.io, not ${req.url}\n`,
      );
      return;
    }
    this.tunnels.add(socket);
    socket.once('close', () => this.tunnels.delete(socket));
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    this.tlsServer().emit('connection', socket);
  }

  /** Closes every open tunnel (the emulator is stopping). */
  closeTunnels(): void {
    for (const socket of this.tunnels) socket.destroy();
    this.tunnels.clear();
  }

  private tlsServer(): HttpsServer {
    if (this.tls) return this.tls;
    const contexts = new Map<string, ReturnType<typeof createSecureContext>>();
    const server = createHttpsServer({
      SNICallback: (servername, callback) => {
        const target = classifyHost(servername);
        if (!target) return callback(new Error(`no certificate for ${servername}`));
        const cached = contexts.get(target.host);
        if (cached) return callback(null, cached);
        this.ca.certificateFor(target.host).then(
          (leaf) => {
            const context = createSecureContext(leaf);
            contexts.set(target.host, context);
            callback(null, context);
          },
          (error: Error) => callback(error),
        );
      },
    });
    server.keepAliveTimeout = 5000;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // The request must be for the host its tunnel's TLS session was opened for.
      const servername = String((req.socket as TLSSocket).servername ?? '');
      const host = String(req.headers.host ?? '')
        .toLowerCase()
        .replace(/:443$/, '');
      if (!servername || host !== servername.toLowerCase()) {
        res
          .writeHead(421, { 'Content-Type': 'text/plain' })
          .end(`Host ${host} does not match the TLS server name ${servername}\n`);
        return;
      }
      this.onRequest(req, res, host);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Only the Sync client's socket host (tsock.*) upgrades; the REST hosts and deployed domains do not.
      const servername = String((req.socket as TLSSocket).servername ?? '');
      const host = String(req.headers.host ?? '')
        .toLowerCase()
        .replace(/:443$/, '');
      if (host !== servername.toLowerCase() || classifyHost(host)?.kind !== 'socket') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.onUpgrade(req, socket, head);
    });
    server.on('tlsClientError', (_error, socket) => socket.destroy());
    this.tls = server;
    return server;
  }
}
