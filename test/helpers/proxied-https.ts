/**
 * HTTPS through the emulator's proxy, the way HTTP_PROXY clients do it (CONNECT host:443, then TLS to the host),
 * trusting the CA passed in explicitly: Jest workers never re-read NODE_EXTRA_CA_CERTS and Node's fetch ignores
 * HTTP_PROXY, so tests cannot rely on either.
 */
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';

export interface ProxiedReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = any>(): T;
}

export interface ProxiedRequest {
  proxyUrl: string;
  /** The CA to trust; omit to trust only Node's built-in roots (the emulator's certificates then fail). */
  ca?: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Opens the CONNECT tunnel; rejects with the proxy's status when it refuses. */
function tunnel(proxyUrl: string, host: string, port: number): Promise<import('node:net').Socket> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: `${host}:${port}` });
    req.once('connect', (res, socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(
        Object.assign(new Error(`proxy refused CONNECT ${host}:${port} with ${res.statusCode}`), {
          status: res.statusCode,
        }),
      );
    });
    req.once('error', reject);
    req.end();
  });
}

export async function proxiedRequest(options: ProxiedRequest): Promise<ProxiedReply> {
  const url = new URL(options.url);
  const socket = await tunnel(options.proxyUrl, url.hostname, Number(url.port || 443));
  return new Promise((resolve, reject) => {
    // HTTP framing over the TLS socket the tunnel carries (no agent, so createConnection is used as given).
    const req = httpRequest(
      {
        host: url.hostname,
        path: url.pathname + url.search,
        method: options.method ?? 'GET',
        headers: {
          Host: url.host,
          ...(options.headers ?? {}),
          ...(options.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(options.body)) } : {}),
        },
        createConnection: () => tlsConnect({ socket, servername: url.hostname, ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
          socket.destroy();
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${options.url} within 30 s`)));
    req.on('error', (error) => {
      socket.destroy();
      reject(error);
    });
    req.end(options.body);
  });
}

/** Asks for a WebSocket upgrade through the proxy; resolves with the status (101 when the server upgraded). */
export async function proxiedUpgradeStatus(options: { proxyUrl: string; ca: string; url: string }): Promise<number> {
  const url = new URL(options.url);
  const socket = await tunnel(options.proxyUrl, url.hostname, 443);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname,
      path: url.pathname + url.search,
      headers: {
        Host: url.host,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
      },
      createConnection: () => tlsConnect({ socket, servername: url.hostname, ca: options.ca }),
    });
    req.once('upgrade', (res, upgraded) => {
      upgraded.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.once('response', (res) => {
      res.resume();
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}
