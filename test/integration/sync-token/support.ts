/** Helpers for the /sync-token integration tests: calling the function, signing requests, counting IAM calls. */
import { createHash, randomBytes } from 'node:crypto';
import twilio from 'twilio';
import type { System } from '../../helpers/system';

export const IAM_ROUTE = 'POST /v1/Accounts/:AccountSid/Tokens/validate';

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface CallOptions {
  /** Send a JSON body (default: form). */
  json?: boolean;
  /** A JSON body sent exactly as given (for signature tests). */
  rawJson?: string;
  query?: string;
  headers?: Record<string, string>;
  method?: string;
}

/** Every response text seen, for the "no secret in any body" check. */
export const seenBodies: string[] = [];

export async function call(
  system: System,
  params: Record<string, unknown> | undefined,
  options: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body: string | undefined;
  if (options.rawJson !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = options.rawJson;
  } else if (params !== undefined && options.json) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(params);
  } else if (params !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(params as Record<string, string>).toString();
  }
  const url = `${system.functions.url}/sync-token${options.query ? `?${options.query}` : ''}`;
  const response = await fetch(url, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  seenBodies.push(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** The URL a signer signs: what twilio-run passes as DOMAIN_NAME (localhost:<port>) and PATH. */
export function publicUrl(system: System): string {
  return `http://localhost:${system.functions.port}/sync-token`;
}

export function signForm(authToken: string, url: string, params: Record<string, string>, algorithm?: string): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params, algorithm);
}

/** The JSON contract: POST to `<url>?bodySHA256=<hex>` with compact JSON; the signature covers that URL. */
export function signJson(authToken: string, url: string, bodyText: string): { query: string; signature: string } {
  const hash = createHash('sha256').update(bodyText).digest('hex');
  const query = `bodySHA256=${hash}`;
  return { query, signature: twilio.getExpectedTwilioSignature(authToken, `${url}?${query}`, {}) };
}

export async function iamCalls(system: System): Promise<number> {
  return (await system.admin.stats()).byRoute[IAM_ROUTE] ?? 0;
}

export const workerSid = () => `WK${randomBytes(16).toString('hex')}`;

export const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
