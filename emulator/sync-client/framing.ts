/**
 * Twilsock V3 frames, as `twilsock/dist/parser.js` (twilsock 1.0.2) reads and writes them:
 * `TWILSOCK V3.0 <header byte length>\r\n<header JSON>\r\n<payload>`, where `header.payload_size` is the payload's
 * byte length and `header.payload_type` says how to read it (JSON unless `text/plain`).
 */

export interface TwilsockHeader {
  method: string;
  id?: string;
  payload_size?: number;
  payload_type?: string;
  [field: string]: unknown;
}

export interface TwilsockFrame {
  header: TwilsockHeader;
  /** The parsed JSON payload, else the payload's text, or undefined when there is none. */
  payload: unknown;
}

export class FrameError extends Error {}

const MAGIC = /^TWILSOCK V3\.0 (\d{1,9})$/;
const CRLF = Buffer.from('\r\n');

/** Reads one frame; throws FrameError for anything that is not a well-formed V3 frame. */
export function decodeFrame(data: Buffer): TwilsockFrame {
  const firstBreak = data.indexOf(CRLF);
  if (firstBreak < 0 || firstBreak > 40) throw new FrameError('no twilsock preamble');
  const magic = MAGIC.exec(data.subarray(0, firstBreak).toString('latin1'));
  if (!magic) throw new FrameError('unsupported protocol or version');
  const headerStart = firstBreak + 2;
  const headerEnd = headerStart + Number(magic[1]);
  if (headerEnd > data.length) throw new FrameError('header runs past the frame');
  let header: unknown;
  try {
    header = JSON.parse(data.subarray(headerStart, headerEnd).toString('utf8'));
  } catch {
    throw new FrameError('header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new FrameError('header is not an object');
  const h = header as TwilsockHeader;
  if (typeof h.method !== 'string') throw new FrameError('header has no method');
  const size = h.payload_size ?? 0;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw new FrameError('bad payload_size');
  if (size === 0) return { header: h, payload: undefined };
  const payloadStart = headerEnd + 2;
  if (!data.subarray(headerEnd, payloadStart).equals(CRLF) || payloadStart + size > data.length) {
    throw new FrameError('payload does not match payload_size');
  }
  const text = data.subarray(payloadStart, payloadStart + size).toString('utf8');
  const type = typeof h.payload_type === 'string' ? h.payload_type : 'application/json';
  if (type.startsWith('text/plain')) return { header: h, payload: text };
  try {
    return { header: h, payload: JSON.parse(text) };
  } catch {
    // Tolerated: twilsock's DELETE sends its grant name ("data_sync") as the body of a JSON-typed request
    // (twilsock/dist/client.js delete → upstream.send with the grant in the body's place).
    return { header: h, payload: text };
  }
}

/** Writes one frame; `payload` is sent as JSON (objects) or as it is (strings). */
export function encodeFrame(header: TwilsockHeader, payload?: unknown): Buffer {
  const body = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
  const bodyBytes = Buffer.from(body, 'utf8');
  const headerBytes = Buffer.from(JSON.stringify({ ...header, payload_size: bodyBytes.length }), 'utf8');
  return Buffer.concat([
    Buffer.from(`TWILSOCK V3.0 ${headerBytes.length}\r\n`, 'latin1'),
    headerBytes,
    CRLF,
    bodyBytes,
  ]);
}
