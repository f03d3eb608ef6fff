/**
 * CORS for browser callers (Flex plugins). Only configured origins get a grant; a request that carries an Origin
 * outside the list is refused outright, so a page on another origin cannot even make the function do work.
 * (The Functions runtime answers OPTIONS preflights itself; this code sets the grant on real responses.)
 */
export const DEFAULT_ALLOWED_ORIGINS = ['https://flex.twilio.com'];

export function originOf(headers: Record<string, unknown>): string | undefined {
  const origin = headers.origin;
  return typeof origin === 'string' && origin !== '' ? origin : undefined;
}

export function isAllowedOrigin(origin: string, allowed: readonly string[]): boolean {
  return allowed.includes('*') || allowed.includes(origin);
}

export function corsHeaders(
  origin: string | undefined,
  allowed: readonly string[],
  methods: readonly string[] = ['POST'],
): Record<string, string> {
  if (!origin || !isAllowedOrigin(origin, allowed)) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': [...methods, 'OPTIONS'].join(', '),
    'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Request-Id',
    // Not CORS-safelisted: without this a cross-origin caller could not read when to retry, or quote the request id.
    'Access-Control-Expose-Headers': 'Retry-After, X-Request-Id',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  };
}
