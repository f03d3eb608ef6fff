/** Reads a request body: form-encoded (what the SDK sends) or JSON (IAM, admin API). */
import type { IncomingMessage } from 'node:http';
import { TwilioError } from './errors';

const MAX_BODY_BYTES = 1024 * 1024;

export interface Body {
  form: URLSearchParams;
  json: unknown;
  raw: string;
  bytes: Buffer;
}

export async function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new TwilioError(413, 20001, 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  const raw = bytes.toString('utf8');
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('application/json')) {
    if (raw.trim() === '') return { form: new URLSearchParams(), json: undefined, raw, bytes };
    try {
      return { form: new URLSearchParams(), json: JSON.parse(raw), raw, bytes };
    } catch {
      throw new TwilioError(400, 20001, 'Request body is not valid JSON');
    }
  }
  if (type.includes('multipart/form-data')) return { form: new URLSearchParams(), json: undefined, raw, bytes };
  return { form: new URLSearchParams(raw), json: undefined, raw, bytes };
}
