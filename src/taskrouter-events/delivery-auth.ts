/**
 * Who may deliver to /taskrouter-events. The function is public (the runtime's protected visibility needs the raw body
 * for a JSON signature, which Functions never hand over), so it checks in code:
 * - workspace callbacks (form): `X-Twilio-Signature` over the public URL and the form parameters, as the job's
 *   trigger is checked (src/auth/signature.ts), plus the Basic credentials when TASKROUTER_EVENTS_REQUIRE_BASIC is on;
 * - Event Streams (JSON): the Basic credentials the sink URL carries (`https://user:secret@…`), compared in constant
 *   time; and the signature where it can be checked: Twilio signs a JSON body as the URL with `bodySHA256=<hash>`
 *   added, which arrives in the query, so the URL part is verified exactly; the hash can only be compared with the
 *   body as re-serialised from the parsed parameters, which may differ in formatting, so a mismatch there is logged,
 *   never refused.
 * A missing or wrong credential is 401 with `WWW-Authenticate: Basic`, so the sender retries with credentials.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import twilio from 'twilio';
import { hasSignature, verifySignature } from '../auth/signature';
import { publicUrl } from '../auth/public-url';
import type { Env } from '../config/env';
import type { TaskRouterEventsConfig } from '../config/taskrouter-events';
import { ConfigError } from '../config/errors';
import { BasicCredentialsRejected, SignatureRejected } from '../auth/errors';
import type { PushedShape } from './pushed-event';

/** The protection space a sender is challenged for (WWW-Authenticate: Basic realm=…). */
const REALM = 'taskrouter-events';

export interface DeliveryRequest {
  context: Env;
  params: Record<string, unknown>;
  headers: Record<string, string>;
}

/** What the checks found, for the delivery's summary line. */
export interface DeliveryAuth {
  basic: 'valid' | 'not-required';
  signature: 'valid' | 'absent' | 'url-valid-body-unverified';
}

/** Constant time whatever the lengths: both sides are hashed first. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function checkBasic(headers: Record<string, string>, config: TaskRouterEventsConfig, setting: string): 'valid' {
  if (!config.secret) throw new ConfigError('TASKROUTER_EVENTS_SECRET', `is not set (needed for ${setting})`);
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(headers.authorization ?? '');
  if (!match) {
    throw new BasicCredentialsRejected('missing', REALM, 'This endpoint needs HTTP Basic credentials');
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';
  // Both compared, always, so the answer takes as long whichever is wrong.
  const userOk = sameSecret(user, config.username);
  const passwordOk = sameSecret(password, config.secret);
  if (!(userOk && passwordOk)) {
    throw new BasicCredentialsRejected('invalid', REALM, 'The Basic credentials are not valid');
  }
  return 'valid';
}

/** The Event Streams signature: the URL with `bodySHA256` is verified; the hash against the re-serialised batch. */
function checkStreamsSignature(
  request: DeliveryRequest,
  authToken: string,
  batch: unknown[],
): DeliveryAuth['signature'] {
  const signature = request.headers['x-twilio-signature'];
  const hash = request.params.bodySHA256;
  if (!signature) return 'absent';
  const invalid = () => new SignatureRejected('invalid', 'The X-Twilio-Signature does not match this request');
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw invalid();
  const algorithm = twilio.getSignatureAlgorithm(request.headers['x-twilio-webhooks-signature-settings']);
  const url = `${publicUrl(request.context)}?bodySHA256=${hash}`;
  if (!twilio.validateRequest(authToken, signature, url, {}, algorithm)) throw invalid();
  return twilio.validateBody(JSON.stringify(batch), hash) ? 'valid' : 'url-valid-body-unverified';
}

/** Throws BasicCredentialsRejected or SignatureRejected unless the delivery is authenticated for its shape. */
export function authenticateDelivery(
  request: DeliveryRequest,
  shape: PushedShape,
  config: TaskRouterEventsConfig,
  authToken: string,
  batch: unknown[] = [],
): DeliveryAuth {
  if (shape === 'streams') {
    const basic = checkBasic(request.headers, config, 'Event Streams deliveries');
    return { basic, signature: checkStreamsSignature(request, authToken, batch) };
  }
  const basic = config.requireBasicForCallbacks
    ? checkBasic(request.headers, config, 'TASKROUTER_EVENTS_REQUIRE_BASIC')
    : 'not-required';
  if (basic === 'valid' && !hasSignature(request.headers)) return { basic, signature: 'absent' };
  verifySignature(request, authToken);
  return { basic, signature: 'valid' };
}
