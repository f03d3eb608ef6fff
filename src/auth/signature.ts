/**
 * X-Twilio-Signature verification in code (twilio-run does not check `.protected` functions locally, and a public
 * function must check it anyway). Uses the SDK's validators; the algorithm follows X-Twilio-Webhooks-Signature-Settings.
 *
 * The signed-request contract (see README "Signed requests"):
 * - form body: POST to the public URL with no query string; the signature covers the URL and the form parameters;
 * - JSON body: POST to `<public URL>?bodySHA256=<hex sha256 of the body>`; the body is compact JSON (as
 *   JSON.stringify writes it) and the signature covers that URL. Functions hand us the parsed body, so the body is
 *   re-serialised for the hash check: formatting other than JSON.stringify's fails verification.
 */
import twilio from 'twilio';
import { HttpError } from '../http/errors';
import { publicUrl } from './public-url';

export interface SignedRequest {
  context: Record<string, unknown>;
  params: Record<string, unknown>;
  headers: Record<string, string>;
}

export const SIGNATURE_ERRORS = {
  MISSING: 'SIGNATURE_MISSING',
  INVALID: 'SIGNATURE_INVALID',
} as const;

/** True when the request carries X-Twilio-Signature (whether or not it is valid). */
export function hasSignature(headers: Record<string, string>): boolean {
  return typeof headers['x-twilio-signature'] === 'string' && headers['x-twilio-signature'] !== '';
}

/** Throws a 401 HttpError (SIGNATURE_MISSING / SIGNATURE_INVALID) unless the request is signed with `authToken`. */
export function verifySignature(request: SignedRequest, authToken: string): void {
  const signature = request.headers['x-twilio-signature'];
  if (!signature) {
    throw new HttpError(401, SIGNATURE_ERRORS.MISSING, 'This endpoint needs a request signed with X-Twilio-Signature');
  }
  const algorithm = twilio.getSignatureAlgorithm(request.headers['x-twilio-webhooks-signature-settings']);
  const url = publicUrl(request.context);
  const isJson = (request.headers['content-type'] ?? '').toLowerCase().includes('application/json');
  let valid: boolean;
  if (isJson) {
    const { bodySHA256, ...body } = request.params;
    valid =
      typeof bodySHA256 === 'string' &&
      /^[0-9a-f]{64}$/.test(bodySHA256) &&
      twilio.validateRequestWithBody(authToken, signature, `${url}?bodySHA256=${bodySHA256}`, JSON.stringify(body), algorithm);
  } else {
    valid = twilio.validateRequest(authToken, signature, url, formParams(request.params), algorithm);
  }
  if (!valid) throw new HttpError(401, SIGNATURE_ERRORS.INVALID, 'The X-Twilio-Signature does not match this request');
}

/**
 * Form parameters as the validator expects them: strings, or arrays of strings for repeated keys. A real form body
 * only holds strings; anything else (a nested query or JSON value) is serialised so it can never throw and never
 * matches a signature made over a form.
 */
function formParams(params: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(params)) {
    out[key] = Array.isArray(value) ? value.map(formValue) : formValue(value);
  }
  return out;
}

function formValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

