/**
 * X-Twilio-Signature verification in code (twilio-run does not check `.protected` functions locally, and a public
 * function must check it anyway). Uses the SDK's validators; the algorithm follows X-Twilio-Webhooks-Signature-Settings.
 *
 * The signed-request contract (docs/security.md "Signed requests"):
 * - form body: POST to the public URL with no query string; the signature covers the URL and the form parameters;
 * - JSON body: POST to `<public URL>?bodySHA256=<hex sha256 of the body>`; the body is compact JSON (as
 *   JSON.stringify writes it) and the signature covers that URL. Functions hand us the parsed body, so the body is
 *   re-serialised for the hash check: formatting other than JSON.stringify's fails verification.
 * - each endpoint names the parameters a signed request may carry; any other name is refused before the signature
 *   is judged. Twilio's form signature concatenates sorted names and values with no separator, so without this rule
 *   a captured `{Identity: "bobToken"}` could be re-split and replayed as `Identity=bob&Token=`. And in a form, no
 *   value may hold one of those names: else `{Identity: "a", SignedAt: "…"}` could be replayed as one parameter
 *   `{Identity: "aSignedAt…"}`, without its SignedAt. With both rules a form splits one way only (no allowed name
 *   holds another, nor starts with the end of another). (Twilio's own webhooks, whose parameter names Twilio
 *   chooses, are verified without a list.)
 * - values are plain strings (a form), or strings and numbers (JSON): nothing nested, so no recursive work is ever
 *   done on what an unauthenticated caller sent.
 * - an optional `SignedAt` (Unix seconds, signed with the rest) bounds replay: a request whose SignedAt is more than
 *   SIGNED_AT_TOLERANCE_SECONDS away from Twilio's clock is refused.
 */
import twilio from 'twilio';
import type { Env } from '../config/env';
import { SignatureRejected } from './errors';
import { publicUrl } from './public-url';

export interface SignedRequest {
  context: Env;
  params: Record<string, unknown>;
  headers: Record<string, string>;
}

export interface SignedRequestRules {
  /**
   * The parameter names a signed request to this endpoint may carry (besides SignedAt, and bodySHA256 for JSON).
   * Leave it out only for Twilio's own webhooks, whose parameter names Twilio chooses: any name is then accepted and
   * non-string values are serialised for the check (the wrapper has bounded their depth), as before this rule.
   */
  allowed?: readonly string[];
  /** Twilio's current time in ms, for SignedAt (the project's server-clock estimate); default Date.now. */
  now?: () => number;
}

/** The optional signed timestamp parameter (Unix seconds). */
export const SIGNED_AT = 'SignedAt';
/** How far SignedAt may be from Twilio's clock, either way. */
export const SIGNED_AT_TOLERANCE_SECONDS = 300;
const UNIX_SECONDS = /^[0-9]{1,12}$/;

/** True when the request carries X-Twilio-Signature (whether or not it is valid). */
export function hasSignature(headers: Record<string, string>): boolean {
  return typeof headers['x-twilio-signature'] === 'string' && headers['x-twilio-signature'] !== '';
}

const invalid = (message: string) => new SignatureRejected('invalid', message);

/**
 * Throws SignatureRejected (`missing` / `invalid`) unless the request is signed with `authToken`,
 * names only the parameters `rules.allowed` lists, and (when it has one) carries a current SignedAt.
 */
export function verifySignature(request: SignedRequest, authToken: string, rules: SignedRequestRules = {}): void {
  const signature = request.headers['x-twilio-signature'];
  if (!signature) {
    throw new SignatureRejected('missing', 'This endpoint needs a request signed with X-Twilio-Signature');
  }
  const isJson = (request.headers['content-type'] ?? '').toLowerCase().includes('application/json');
  const { bodySHA256, ...params } = request.params;
  if (rules.allowed) checkSignedParams(isJson ? params : request.params, rules.allowed, isJson);

  const algorithm = twilio.getSignatureAlgorithm(request.headers['x-twilio-webhooks-signature-settings']);
  const url = publicUrl(request.context);
  let valid: boolean;
  if (isJson) {
    valid =
      typeof bodySHA256 === 'string' &&
      /^[0-9a-f]{64}$/.test(bodySHA256) &&
      twilio.validateRequestWithBody(
        authToken,
        signature,
        `${url}?bodySHA256=${bodySHA256}`,
        JSON.stringify(params),
        algorithm,
      );
  } else {
    const form = rules.allowed ? (request.params as Record<string, string>) : formParams(request.params);
    valid = twilio.validateRequest(authToken, signature, url, form, algorithm);
  }
  if (!valid) throw invalid('The X-Twilio-Signature does not match this request');
  checkSignedAt(params[SIGNED_AT], (rules.now ?? Date.now)());
}

/**
 * The shape rules, judged before the signature: only allowed names, each a plain value. Iterates over the top level
 * only (a nested value is refused, never walked), so a deeply nested body costs nothing here.
 */
function checkSignedParams(params: Record<string, unknown>, allowed: readonly string[], isJson: boolean): void {
  const names = [...allowed, SIGNED_AT];
  for (const [name, value] of Object.entries(params)) {
    if (!names.includes(name)) {
      throw invalid(
        `A signed request to this endpoint may only carry ${names.join(', ')} (got ${JSON.stringify(name.slice(0, 40))})`,
      );
    }
    const plain = typeof value === 'string' || (isJson && typeof value === 'number' && Number.isFinite(value));
    if (!plain) throw invalid(`Signed parameter ${name} must be a single ${isJson ? 'string or number' : 'string'}`);
    // A JSON body is hashed whole: only a form's concatenation could be split another way.
    const held = isJson ? undefined : names.find((other) => (value as string).includes(other));
    if (held !== undefined) {
      throw invalid(
        `Signed parameter ${name} must not contain a parameter name (${held}) in a form: sign a JSON body instead`,
      );
    }
  }
}

/** Form parameters as the validator expects them (open mode): strings, or arrays of strings for repeated keys. */
function formParams(params: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(params))
    out[key] = Array.isArray(value) ? value.map(formValue) : formValue(value);
  return out;
}

function formValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

function checkSignedAt(value: unknown, nowMs: number): void {
  if (value === undefined) return;
  // Checked plain for an endpoint's own list; a Twilio webhook (no list) could carry anything here.
  const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  if (!UNIX_SECONDS.test(text)) throw invalid(`${SIGNED_AT} must be a Unix time in whole seconds`);
  if (Math.abs(Number(text) * 1000 - nowMs) > SIGNED_AT_TOLERANCE_SECONDS * 1000) {
    throw invalid(
      `${SIGNED_AT} is more than ${SIGNED_AT_TOLERANCE_SECONDS} s away from Twilio's clock: sign a fresh request`,
    );
  }
}
