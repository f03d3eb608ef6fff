/**
 * One signed HTTP delivery from the emulator to a configured URL, as Twilio's services send them:
 * - `X-Twilio-Signature`: HMAC-SHA1 with the account's auth token (twilio SDK helpers, the same code validators run).
 *   A form body is signed as the URL followed by the sorted parameters; a JSON body as the URL with
 *   `bodySHA256=<hex sha256 of the body>` added to its query string, and the request goes to that URL, so the receiver
 *   finds the hash in its query (twilio-node lib/webhooks/webhooks.ts, validateRequestWithBody).
 * - URL user info (`https://user:secret@host/…`) becomes an `Authorization: Basic` header on every request, and is
 *   neither sent in the request line nor signed (Event Streams webhook quickstart, "Authenticate your webhook sink":
 *   the header is sent even before a 401; which URL form is signed is unconfirmed: the one without user info here).
 * - The URL fragment (connection overrides such as `#rc=`) is never sent; overrides are not modelled.
 */
import twilio from 'twilio';

export interface DeliveryRequest {
  url: string;
  authToken: string;
  /** Form parameters (TaskRouter EventCallbackUrl) … */
  form?: Record<string, string>;
  /** … or a JSON value (Event Streams). */
  json?: unknown;
  timeoutMs: number;
}

export interface DeliveryOutcome {
  /** HTTP status, or 0 when no answer came (connection refused, timeout). */
  status: number;
  ok: boolean;
  ms: number;
  error?: string;
}

/** The URL as requested and signed (no user info, no fragment) and the credentials it carried. */
export function splitTarget(url: string): { url: string; basic?: { username: string; password: string } } {
  const parsed = new URL(url);
  const basic =
    parsed.username || parsed.password
      ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }
      : undefined;
  parsed.username = '';
  parsed.password = '';
  parsed.hash = '';
  return { url: parsed.toString(), basic };
}

/** Method, URL, headers and body of a delivery, signed; exported so tests can check what a receiver must accept. */
export function signedRequest(request: Omit<DeliveryRequest, 'timeoutMs'>): {
  url: string;
  headers: Record<string, string>;
  body: string;
} {
  const target = splitTarget(request.url);
  const headers: Record<string, string> = {
    'User-Agent': 'TwilioProxy/1.1',
    'I-Twilio-Idempotency-Token': crypto.randomUUID(),
  };
  if (target.basic) {
    headers.Authorization = `Basic ${Buffer.from(`${target.basic.username}:${target.basic.password}`).toString('base64')}`;
  }
  if (request.json !== undefined) {
    const body = JSON.stringify(request.json);
    const url = new URL(target.url);
    url.searchParams.append('bodySHA256', twilio.getExpectedBodyHash(body));
    const signedUrl = url.toString();
    headers['Content-Type'] = 'application/json';
    headers['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(request.authToken, signedUrl, {});
    return { url: signedUrl, headers, body };
  }
  const form = request.form ?? {};
  headers['Content-Type'] = 'application/x-www-form-urlencoded; charset=utf-8';
  headers['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(request.authToken, target.url, form);
  return { url: target.url, headers, body: new URLSearchParams(form).toString() };
}

/** Sends one delivery; never throws. A 2xx answer is a success, anything else (or no answer in time) a failure. */
export async function deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const signed = signedRequest(request);
    const response = await fetch(signed.url, {
      method: 'POST',
      headers: signed.headers,
      body: signed.body,
      signal: AbortSignal.timeout(request.timeoutMs),
      redirect: 'manual',
    });
    await response.arrayBuffer().catch(() => undefined);
    return { status: response.status, ok: response.status >= 200 && response.status < 300, ms: ms() };
  } catch (error) {
    return {
      status: 0,
      ok: false,
      ms: ms(),
      error: (error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message,
    };
  }
}
