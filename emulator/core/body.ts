/** Reads a request body: form-encoded (what the SDK sends) or JSON (IAM, admin API). */
import type { IncomingMessage } from 'node:http';
import { TwilioError } from './errors';

const MAX_BODY_BYTES = 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<{ form: URLSearchParams; json: unknown; raw: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new TwilioError(413, 20001, 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('application/json')) {
    if (raw.trim() === '') return { form: new URLSearchParams(), json: undefined, raw };
    try {
      return { form: new URLSearchParams(), json: JSON.parse(raw), raw };
    } catch {
      throw new TwilioError(400, 20001, 'Request body is not valid JSON');
    }
  }
  return { form: new URLSearchParams(raw), json: undefined, raw };
}
