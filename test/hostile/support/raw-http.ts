/**
 * A deliberately dumb HTTP/1.1 client over a raw TCP socket, for hostile requests: the bytes sent are exactly the
 * bytes built (duplicate headers, CR/LF inside values, invalid UTF-8, bare LF, missing Host, lying framing…), which
 * node's http.request refuses to produce. One request per connection (`Connection: close` unless the case says
 * otherwise); the first response on the socket is parsed (Content-Length, chunked, or read-until-close).
 * Loopback only.
 */
import { connect } from 'node:net';

export type HeaderValue = string | Buffer;

export interface RawRequest {
  method: string;
  /** Request target as written on the request line (path and query, or an absolute URL). */
  target: string;
  headers: Array<[string, HeaderValue]>;
  body?: Buffer;
  /** Leave out the Host header (added by default). */
  omitHost?: boolean;
  /** Leave out Content-Length (added by default when there is a body). */
  omitContentLength?: boolean;
  /** Leave out `Connection: close` (added by default). */
  omitConnectionClose?: boolean;
  /** HTTP version on the request line (default 1.1). */
  version?: string;
  /** Send exactly these bytes instead of building the request. */
  raw?: Buffer;
}

export interface RawResponse {
  status: number;
  /** Header names lower-cased; every value kept (repeated headers). */
  headers: Record<string, string[]>;
  body: Buffer;
  /** Status line, headers and body as latin1 text: what the secret scan reads. */
  text: string;
}

export type RawResult = { ok: true; response: RawResponse; ms: number } | { ok: false; error: string; ms: number };

export function header(response: RawResponse, name: string): string | undefined {
  return response.headers[name.toLowerCase()]?.[0];
}

export function serialise(port: number, request: RawRequest): Buffer {
  if (request.raw) return request.raw;
  const lines: Buffer[] = [
    Buffer.from(`${request.method} ${request.target} HTTP/${request.version ?? '1.1'}\r\n`, 'latin1'),
  ];
  const names = new Set(request.headers.map(([name]) => name.toLowerCase()));
  const add = (name: string, value: HeaderValue) =>
    lines.push(
      Buffer.concat([
        Buffer.from(`${name}: `, 'latin1'),
        typeof value === 'string' ? Buffer.from(value, 'latin1') : value,
        Buffer.from('\r\n'),
      ]),
    );
  if (!request.omitHost && !names.has('host')) add('Host', `localhost:${port}`);
  for (const [name, value] of request.headers) add(name, value);
  if (request.body !== undefined && !request.omitContentLength && !names.has('content-length')) {
    add('Content-Length', String(request.body.length));
  }
  if (!request.omitConnectionClose && !names.has('connection')) add('Connection', 'close');
  lines.push(Buffer.from('\r\n'));
  if (request.body !== undefined) lines.push(request.body);
  return Buffer.concat(lines);
}

function decodeChunked(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(data.subarray(at, eol).toString('latin1').split(';')[0].trim(), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    const start = eol + 2;
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}

/** Parses the first response in `data`; undefined while incomplete (unless `ended`: then whatever came). */
export function parseResponse(data: Buffer, ended: boolean, headRequest: boolean): RawResponse | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const match = /^HTTP\/\d\.\d (\d{3})/.exec(head[0]);
  if (!match) throw new Error(`not an HTTP response: ${JSON.stringify(head[0].slice(0, 80))}`);
  const headers: Record<string, string[]> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  const status = Number(match[1]);
  const rest = data.subarray(headEnd + 4);
  let body: Buffer | undefined;
  if (headRequest || status === 204 || status === 304) body = Buffer.alloc(0);
  else if (headers['transfer-encoding']?.some((v) => /chunked/i.test(v)))
    body = decodeChunked(rest) ?? (ended ? rest : undefined);
  else if (headers['content-length']) {
    const length = Number(headers['content-length'][0]);
    if (rest.length >= length) body = rest.subarray(0, length);
    else if (ended) body = rest;
  } else if (ended) body = rest;
  if (body === undefined) return undefined;
  const text = `${head.join('\r\n')}\r\n\r\n${body.toString('latin1')}`;
  return { status, headers, body, text };
}

/** Sends one request; never throws (a refused or reset connection is a result too). */
export function send(port: number, request: RawRequest, timeoutMs = 15_000): Promise<RawResult> {
  const started = performance.now();
  const bytes = serialise(port, request);
  const isHead = request.method.toUpperCase() === 'HEAD';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (result: { ok: true; response: RawResponse } | { ok: false; error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...result, ms: performance.now() - started } as RawResult);
    };
    const tryParse = (ended: boolean) => {
      try {
        const response = parseResponse(Buffer.concat(chunks), ended, isHead);
        if (response) finish({ ok: true, response });
        else if (ended)
          finish({
            ok: false,
            error: chunks.length === 0 ? 'connection closed without an answer' : 'truncated answer',
          });
      } catch (error) {
        finish({ ok: false, error: (error as Error).message });
      }
    };
    const timer = setTimeout(() => finish({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    // write, not end: a half-closed socket is a request shape of its own, and some servers stop reading at it
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('close', () => tryParse(true));
    socket.on('error', (error) => {
      if (chunks.length > 0) tryParse(true);
      else finish({ ok: false, error: (error as NodeJS.ErrnoException).code ?? error.message });
    });
  });
}

/** Runs `work` over `items` with at most `concurrency` in flight; results in the items' order. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}
