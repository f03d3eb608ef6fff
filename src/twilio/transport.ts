/**
 * Sends one request of the twilio SDK over Node's http/https on a pooled keep-alive agent, and answers the way the
 * SDK's RequestClient does: `{ statusCode, body, headers }`, every status resolved, no redirect followed. The query and
 * form bodies are encoded by qs with `arrayFormat: 'repeat'` (the SDK's encoder and options), and the headers are the
 * ones axios sends, so each request is the one the SDK's own client would send. It leaves out axios, which took half
 * of the job's CPU per request in its profile.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { brotliDecompress, inflate, inflateRaw, unzip } from 'node:zlib';
import qs from 'qs';
import { registerWarmState } from '../runtime/warm-state';

/** What the twilio SDK hands its HTTP client (the part of it this transport reads). */
export interface SdkRequest {
  method: string;
  uri: string;
  username?: string;
  password?: string;
  authStrategy?: { getAuthString(): Promise<string> };
  headers?: Record<string, string>;
  params?: object;
  data?: object;
}

export interface SdkResponse {
  statusCode: number;
  /** Parsed JSON, or the text when it is not JSON. */
  body: unknown;
  headers: IncomingHttpHeaders;
}

/** Matches the SDK's socket timeout (ms): an idle pooled socket is closed after it. */
const SOCKET_TIMEOUT_MS = 30_000;
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const unzipBody = promisify(unzip);
const inflateBody = promisify(inflate);
const inflateRawBody = promisify(inflateRaw);
/** The content codings axios decodes, as it decodes them (deflate with or without its zlib header). */
const decoders: Partial<Record<string, (body: Buffer) => Promise<Buffer>>> = {
  gzip: unzipBody,
  'x-gzip': unzipBody,
  compress: unzipBody,
  'x-compress': unzipBody,
  deflate: (body) => inflateBody(body).catch(() => inflateRawBody(body)),
  br: promisify(brotliDecompress),
};
/** What axios asks for. */
const ACCEPT_ENCODING = 'gzip, compress, deflate, br';
/** What axios asks for when the SDK names no Accept (its deletes). */
const DEFAULT_ACCEPT = 'application/json, text/plain, */*';

/**
 * Connection pools, one per scheme, size and pool name, in module scope: a warm instance's invocations reuse their open
 * (TLS) connections instead of paying a handshake per invocation. Every idle socket is kept, up to the pool's size,
 * so the next burst of requests does not reconnect either.
 */
const agents = new Map<string, HttpAgent>();
registerWarmState('HTTP connection pools', () => {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
});

/** TWILIO_CA_BUNDLE names a PEM file of the roots to trust (instead of Node's), as the SDK honours it. */
function caBundle(): Buffer | undefined {
  const path = process.env.TWILIO_CA_BUNDLE;
  return path ? readFileSync(path) : undefined;
}

export function pooledAgent(scheme: 'http', maxSockets: number, pool?: string): HttpAgent;
export function pooledAgent(scheme: 'https', maxSockets: number, pool?: string): HttpsAgent;
export function pooledAgent(scheme: 'http' | 'https', maxSockets: number, pool = ''): HttpAgent {
  const key = `${scheme}:${maxSockets}:${pool}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: SOCKET_TIMEOUT_MS };
    agent = scheme === 'https' ? new HttpsAgent({ ...options, ca: caBundle() }) : new HttpAgent(options);
    agents.set(key, agent);
  }
  return agent;
}

const QS_OPTIONS = { arrayFormat: 'repeat' } as const;
/** What encodeURIComponent leaves as it is and qs's RFC 3986 encoding does not. */
const NOT_UNRESERVED = /[!'()*]/g;
const HAS_NOT_UNRESERVED = /[!'()*]/;

function rfc3986(text: string): string {
  const encoded = encodeURIComponent(text);
  if (!HAS_NOT_UNRESERVED.test(encoded)) return encoded;
  return encoded.replace(NOT_UNRESERVED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const isScalar = (value: unknown): value is string | number | boolean =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** An array of scalars with no holes and no other own keys (qs encodes those differently). */
function isScalarList(value: unknown): value is Array<string | number | boolean> {
  if (!Array.isArray(value) || Object.keys(value).length !== value.length) return false;
  for (let i = 0; i < value.length; i++) if (!isScalar(value[i])) return false;
  return true;
}

/**
 * `qs.stringify(params, { arrayFormat: 'repeat' })`, the SDK's encoding, with a fast path for what the SDK sends
 * (flat fields: scalars, nulls, arrays of scalars): qs's character-by-character encoder took a tenth of the job's
 * CPU per request. Anything else (nested objects, dates, text encodeURIComponent refuses) goes to qs itself.
 */
export function formEncoded(params: object): string {
  const parts: string[] = [];
  try {
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined) continue;
      if (value === null) parts.push(`${rfc3986(key)}=`);
      else if (isScalar(value)) parts.push(`${rfc3986(key)}=${rfc3986(String(value))}`);
      else if (isScalarList(value)) {
        for (const item of value) parts.push(`${rfc3986(key)}=${rfc3986(String(item))}`);
      } else return qs.stringify(params, QS_OPTIONS);
    }
  } catch {
    return qs.stringify(params, QS_OPTIONS); // a lone surrogate: qs encodes it its own way
  }
  return parts.join('&');
}

/** The request's URL with its query: the uri as given, then `?` or `&` and the encoded params (axios's rule). */
export function requestUrl(uri: string, params: object | undefined): string {
  const query = params ? formEncoded(params) : '';
  if (!query) return uri;
  const base = uri.includes('#') ? uri.slice(0, uri.indexOf('#')) : uri;
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}

/** The body the SDK would send: form-encoded or JSON as its Content-Type says; none for any other type. */
export function requestBody(headers: Record<string, string>, data: object | undefined): string | undefined {
  if (!data) return undefined;
  if (headers['Content-Type'] === FORM) return formEncoded(data);
  if (headers['Content-Type'] === JSON_TYPE) return JSON.stringify(data);
  return undefined;
}

async function authorization(opts: SdkRequest): Promise<string | undefined> {
  if (opts.username && opts.password)
    return `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
  return opts.authStrategy ? opts.authStrategy.getAuthString() : undefined;
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`timeout of ${ms} ms exceeded`), { code: 'ETIMEDOUT' });
}

/**
 * Sends `opts` on `agent` (http or https, as the URI says) and resolves with the answer, whatever its status. Rejects
 * with Node's network error (`code` ECONNRESET, ECONNREFUSED, ...) or ETIMEDOUT. The timeout is axios's: no answer
 * within `timeoutMs` of sending, or the socket idle that long (so a big page that keeps arriving is not cut off).
 */
export async function sendSdkRequest(
  opts: SdkRequest,
  agents: { http: HttpAgent; https: HttpsAgent },
  timeoutMs: number,
): Promise<SdkResponse> {
  const url = new URL(requestUrl(opts.uri, opts.params));
  const headers: Record<string, string> = { ...opts.headers };
  if (!headers.Connection && !headers.connection) headers.Connection = 'keep-alive';
  headers.Accept ??= DEFAULT_ACCEPT;
  headers['Accept-Encoding'] ??= ACCEPT_ENCODING;
  const auth = await authorization(opts);
  if (auth) headers.Authorization = auth;
  const body = requestBody(headers, opts.data);
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const raw = await new Promise<{ statusCode: number; headers: IncomingHttpHeaders; body: Buffer }>(
    (resolve, reject) => {
      const req = send(
        url,
        { method: opts.method.toUpperCase(), headers, agent: secure ? agents.https : agents.http },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            if (!res.complete) return reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
            resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
        },
      );
      const timeout = () => req.destroy(timeoutError(timeoutMs));
      const untilAnswer = setTimeout(timeout, timeoutMs);
      req.once('response', () => clearTimeout(untilAnswer));
      req.on('close', () => clearTimeout(untilAnswer));
      req.setTimeout(timeoutMs, timeout);
      req.on('error', reject);
      req.end(body);
    },
  );
  const decode = decoders[String(raw.headers['content-encoding'] ?? '').toLowerCase()];
  let decoded = raw.body;
  if (decode) {
    if (raw.body.length > 0) decoded = await decode(raw.body);
    delete raw.headers['content-encoding']; // as axios does: the body handed on is no longer encoded
  }
  return { statusCode: raw.statusCode, body: parsedLikeAxios(decoded.toString('utf8')), headers: raw.headers };
}

/**
 * The body as the SDK's own client hands it on: parsed when it is JSON, else the text (axios's default). The SDK's
 * resources read either; `client.request()` callers get what they got before.
 */
function parsedLikeAxios(text: string): unknown {
  if (text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
