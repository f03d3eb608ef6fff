/**
 * Generated hostile requests for /sync-token (and a smaller set for /sync-recent-calls), with fast-check.
 *
 * Every case carries what a correct refusal looks like: the function's error codes that are right for it, and the
 * statuses twilio-run / node may answer with before the function runs (body-parser's 400 / 413 / 415, node's 400 /
 * 431, the runtime's own 404 and OPTIONS 204). The expected code follows the function's documented order of checks
 * (README "Sync token endpoint"): Origin → method (a body with a Content-Type) → Ttl → credentials (Token first,
 * then X-Twilio-Signature, then nothing). No case can legitimately earn a token: valid Flex tokens are only ever sent
 * altered, misplaced or blocked by an earlier check, and valid signatures only over an invalid Identity or Ttl.
 */
import { createHash, createHmac } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import twilio from 'twilio';
import type { RawRequest } from './raw-http';

/** The documented error codes of /sync-token and their statuses (README "Sync token endpoint"). */
export const SYNC_TOKEN_CODES: Readonly<Record<string, number>> = {
  TTL_INVALID: 400,
  TTL_OUT_OF_RANGE: 400,
  IDENTITY_INVALID: 400,
  INVALID_REQUEST: 400,
  CREDENTIALS_MISSING: 401,
  FLEX_TOKEN_INVALID: 401,
  FLEX_TOKEN_EXPIRED: 401,
  SIGNATURE_INVALID: 401,
  GUEST_NOT_ALLOWED: 403,
  ROLE_NOT_ALLOWED: 403,
  FLEX_IDENTITY_INVALID: 403,
  ORIGIN_NOT_ALLOWED: 403,
  METHOD_NOT_ALLOWED: 405,
};

/** /sync-recent-calls refuses with these (statuses as in src/http/error-codes.ts; docs/endpoints.md). */
export const SYNC_JOB_CODES: Readonly<Record<string, number>> = {
  INVALID_REQUEST: 400,
  SIGNATURE_MISSING: 401,
  SIGNATURE_INVALID: 401,
  METHOD_NOT_ALLOWED: 405,
};

export const ANY_CODE = ['*'] as const;

export type Endpoint = 'sync-token' | 'sync-recent-calls';

export interface HostileCase {
  endpoint: Endpoint;
  category: string;
  label: string;
  request: RawRequest;
  /** Function codes that are a correct refusal; ['*'] = any documented refusal of the endpoint. */
  codes: readonly string[];
  /** Statuses twilio-run or node may answer with before the function runs. */
  runtime?: readonly number[];
  /** Flex-token-shaped strings the function will see as Token (upper bound for IAM calls). */
  wellShaped?: readonly string[];
  /** Flex tokens or token-like strings this case sent (all must stay out of responses and logs). */
  sent?: readonly string[];
}

export interface TokenPools {
  /** Valid agent tokens: never sent in a way that could earn a token. */
  valid: string[];
  expired: string[];
  guest: string[];
}

export interface CaseContext {
  port: number;
  authToken: string;
  apiSecret: string;
  accountSid: string;
  pools: TokenPools;
}

const ALLOWED_ORIGIN = 'https://flex.twilio.com';
const CONFIGURED_TTL = 14_400;
const MIN_TTL = 1800;
const B64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
const B64 = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='];
const FLEX_SHAPE = /^[A-Za-z0-9._~+/=-]+$/;
const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export function wellShapedToken(token: unknown): token is string {
  return typeof token === 'string' && token.length > 0 && token.length <= 8192 && FLEX_SHAPE.test(token);
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

/** application/x-www-form-urlencoded from raw UTF-8 bytes (lone surrogates become U+FFFD, as a browser would). */
export function formEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9*\-._]/.test(ch)
      ? ch
      : byte === 0x20
        ? '+'
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export type FormValue = string | string[];

export function formBody(params: Record<string, FormValue> | Array<[string, string]>): string {
  const pairs = Array.isArray(params)
    ? params
    : Object.entries(params).flatMap(([key, value]) =>
        Array.isArray(value) ? value.map((v) => [key, v] as [string, string]) : [[key, value] as [string, string]],
      );
  return pairs.map(([key, value]) => `${formEncode(key)}=${formEncode(value)}`).join('&');
}

/** What the function sees for a form-encoded value: strings, arrays for repeated keys. */
function asForm(params: Record<string, unknown>): Record<string, FormValue> {
  const out: Record<string, FormValue> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue; // [] sends no field at all
    // A repeated key arrives as an array; a key sent once as a string, whatever the sender meant.
    out[key] = Array.isArray(value)
      ? value.length === 1
        ? toFormString(value[0])
        : value.map((v) => toFormString(v))
      : toFormString(value);
  }
  return out;
}

function toFormString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The string the function will see after UTF-8 decoding (lone surrogates → U+FFFD). */
function utf8RoundTrip(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

// ---------------------------------------------------------------------------------------------------------------
// The function's order of checks, as documented, for cases whose parameters are well-formed

function ttlCode(ttl: unknown): string | undefined {
  if (ttl === undefined || ttl === null) return undefined;
  let seconds: number;
  if (typeof ttl === 'number' && Number.isSafeInteger(ttl)) seconds = ttl;
  else if (typeof ttl === 'string' && /^[0-9]{1,9}$/.test(ttl)) seconds = Number(ttl);
  else return 'TTL_INVALID';
  return seconds < MIN_TTL || seconds > CONFIGURED_TTL ? 'TTL_OUT_OF_RANGE' : undefined;
}

function identityCode(identity: unknown): string | undefined {
  if (typeof identity !== 'string' || identity === '' || identity.length > 121) return 'IDENTITY_INVALID';
  if (!/^[\x20-\x7e]+$/.test(identity) || identity.trim() !== identity) return 'IDENTITY_INVALID';
  return undefined;
}

interface Seen {
  /** Parameters as the function sees them (after decoding). */
  params: Record<string, unknown>;
  /** Headers as the function sees them (lower-case). */
  origin?: string;
  contentType?: string;
  signature?: 'none' | 'invalid' | 'valid';
}

/**
 * The documented answer for a request the function sees as `seen`. Returns 'ISSUE' when it would get a token: the
 * generators never let such a case through (see ensureRefused).
 */
export function expectedCode(seen: Seen, pools: TokenPools): string {
  if (seen.origin !== undefined && seen.origin !== '' && seen.origin !== ALLOWED_ORIGIN) return 'ORIGIN_NOT_ALLOWED';
  if (!seen.contentType) return 'METHOD_NOT_ALLOWED';
  if (nestingDepth(seen.params) - 1 >= MAX_PARAMS_DEPTH) return 'INVALID_REQUEST';
  const ttl = ttlCode(seen.params.Ttl);
  if (ttl) return ttl;
  const token = seen.params.Token;
  if (token !== undefined && token !== null && token !== '') {
    if (typeof token !== 'string') return 'INVALID_REQUEST';
    if (!wellShapedToken(token)) return 'FLEX_TOKEN_INVALID';
    if (pools.valid.includes(token)) return 'ISSUE';
    if (pools.expired.includes(token)) return 'FLEX_TOKEN_EXPIRED';
    if (pools.guest.includes(token)) return 'GUEST_NOT_ALLOWED';
    return 'FLEX_TOKEN_INVALID';
  }
  // A signed request names only Identity, Ttl and SignedAt, each a plain value: anything else is refused before the
  // signature is judged (a form signature could otherwise be re-split into other names).
  if (
    seen.signature !== undefined &&
    seen.signature !== 'none' &&
    !signedShapeOk(seen.params, seen.contentType === 'application/json')
  )
    return 'SIGNATURE_INVALID';
  if (seen.signature === 'valid') return identityCode(seen.params.Identity) ?? 'ISSUE';
  if (seen.signature === 'invalid') return 'SIGNATURE_INVALID';
  return 'CREDENTIALS_MISSING';
}

/** The names a signed /sync-token request may carry (src/tokens/caller.ts, src/auth/signature.ts). */
export const SIGNED_TOKEN_NAMES = ['Identity', 'Ttl', 'SignedAt'];

function signedShapeOk(params: Record<string, unknown>, isJson: boolean): boolean {
  return Object.entries(params).every(
    ([name, value]) =>
      SIGNED_TOKEN_NAMES.includes(name) &&
      (typeof value === 'string' || (isJson && typeof value === 'number' && Number.isFinite(value))),
  );
}

/** The wrapper refuses parameters nested deeper than this (src/http/params-shape.ts) before any function code. */
export const MAX_PARAMS_DEPTH = 32;

/** How deep `value` nests (iteratively: the cases themselves may be thousands deep). */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}

// ---------------------------------------------------------------------------------------------------------------
// Building blocks (arbitraries)

const b64url = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...B64URL), minLength: min, maxLength: max });
const b64 = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...B64), minLength: min, maxLength: max });

function flipChar(token: string, at: number, by: number): string {
  const i = at % token.length;
  const alphabet = token[i] === '.' ? B64URL : B64URL.filter((c) => c !== token[i]);
  return token.slice(0, i) + alphabet[by % alphabet.length] + token.slice(i + 1);
}

/** Forged Flex tokens: random JWT look-alikes, real tokens altered, spliced, truncated, padded, oversized. */
function forgedToken(pools: TokenPools): fc.Arbitrary<string> {
  const real = fc.constantFrom(...pools.valid, ...pools.expired, ...pools.guest);
  const validOnly = fc.constantFrom(...pools.valid);
  return fc
    .oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(b64url(10, 60), b64url(20, 200), b64url(20, 60)).map(([h, p, s]) => `${h}.${p}.${s}`),
      },
      { weight: 3, arbitrary: fc.tuple(b64url(40, 160), b64url(43, 43)).map(([p, s]) => `${JWT_HEADER}.eyJ${p}.${s}`) },
      { weight: 5, arbitrary: fc.tuple(real, fc.nat(), fc.nat()).map(([t, at, by]) => flipChar(t, at, by)) },
      { weight: 2, arbitrary: fc.tuple(validOnly, fc.nat()).map(([t, n]) => t.slice(0, 1 + (n % (t.length - 1)))) },
      { weight: 2, arbitrary: fc.tuple(validOnly, b64url(1, 20)).map(([t, extra]) => t + extra) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(validOnly, real)
          .filter(([a, b]) => a !== b)
          .map(([a, b]) => `${a.split('.').slice(0, 2).join('.')}.${b.split('.')[2]}`),
      },
      { weight: 1, arbitrary: validOnly.map((t) => (t === t.toUpperCase() ? t.toLowerCase() : t.toUpperCase())) },
      { weight: 1, arbitrary: validOnly.map((t) => t.split('.').reverse().join('.')) },
      { weight: 2, arbitrary: b64(20, 400) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(validOnly, fc.constantFrom(' ', '\n', '\t', '\0', '\u00a0', '\u200b', '%', '"', '\u0430'))
          .map(([t, c]) => t + c),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(validOnly, fc.constantFrom('Bearer ', ' ', '\ufeff', 'Token=')).map(([t, p]) => p + t),
      },
      { weight: 1, arbitrary: validOnly.map((t) => [...t].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')) },
      { weight: 1, arbitrary: fc.integer({ min: 8193, max: 300_000 }).map((n) => 'eyJ' + 'A'.repeat(n)) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 300 }) },
    )
    .filter((t) => !pools.valid.includes(t) && !pools.valid.includes(utf8RoundTrip(t)));
}

/** Identity values an attacker would try next to a token or a forged signature. */
const spoofIdentity = fc.oneof(
  fc.constantFrom('alice_40example_2Ecom', 'admin', 'supervisor', 'system', '*', 'alice@example.com', 'client:alice'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 20 })
    .map((s) => `ali${s}ce`),
  fc.integer({ min: 122, max: 10_240 }).map((n) => 'a'.repeat(n)),
  fc.constantFrom(
    '\u202eecila', // right-to-left override
    'ali\u200bce', // zero-width space
    '\u0430lice', // Cyrillic a
    '\uff41\uff4c\uff49\uff43\uff45', // fullwidth
    'alice\u0301', // combining accent
    'alice\u0000admin',
    ' alice',
    'alice ',
    'alice\r\nX-Injected: 1',
    '../../admin',
    '<script>alert(1)</script>',
    '${jndi:ldap://x}',
    '\ud800', // lone surrogate
  ),
);

/** Identities a valid signer could send that the function must still refuse. */
const badIdentity: fc.Arbitrary<unknown> = fc.oneof(
  spoofIdentity.filter((id) => identityCode(id) !== undefined),
  fc.constantFrom('', ' ', '\t', 'x'.repeat(122)),
);

const ttlValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom('1800', '3600', '14400', 1800, 7200) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constantFrom(
        'abc',
        '-1',
        '1.5',
        '1e4',
        ' 3600',
        '3600 ',
        '0x10',
        '',
        '1799',
        '14401',
        '86400',
        '999999999',
        '1000000000',
        'NaN',
        'Infinity',
      ),
      fc.constantFrom(1799, 14401, 0, -5, 1.5, 1e21, Number.MAX_SAFE_INTEGER + 2, true, false),
      fc.constantFrom([], ['3600'], { a: 1 }),
      fc.integer({ min: -1e9, max: 1e9 }),
      fc.string({ maxLength: 12 }),
    ),
  },
);

const evilOrigin = fc.constantFrom(
  'https://evil.example',
  'https://flex.twilio.com.evil.example',
  'https://evil.example/https://flex.twilio.com',
  'http://flex.twilio.com',
  'https://FLEX.twilio.com',
  'https://flex.twilio.com/',
  'https://flex.twilio.com:443',
  'null',
  'file://',
  'https://flex.twilio.com, https://evil.example',
  'https://flex.twilio.com\tx',
);
const originValue = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constant(ALLOWED_ORIGIN) },
  { weight: 2, arbitrary: evilOrigin },
);

const junkParams = fc.dictionary(
  fc
    .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 })
    .filter((k) => !/^(Token|Identity|Ttl|request|bodySHA256|__proto__)$/i.test(k) && !k.includes('[')),
  fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
  { maxKeys: 3 },
);

// ---------------------------------------------------------------------------------------------------------------
// Case assembly

interface Structured {
  category: string;
  label: string;
  params: Record<string, unknown>;
  encoding: 'form' | 'json';
  origin?: string;
  signature?: { value: string; valid: boolean; settings?: string };
  extraHeaders?: Array<[string, string | Buffer]>;
  query?: string;
  endpoint?: Endpoint;
  sent?: string[];
}

function build(ctx: CaseContext, s: Structured): HostileCase {
  const params = Object.fromEntries(Object.entries(s.params).filter(([, v]) => v !== undefined));
  const headers: Array<[string, string | Buffer]> = [];
  const contentType = s.encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
  headers.push(['Content-Type', contentType]);
  if (s.origin !== undefined) headers.push(['Origin', s.origin]);
  if (s.signature) {
    headers.push(['X-Twilio-Signature', s.signature.value]);
    if (s.signature.settings !== undefined)
      headers.push(['X-Twilio-Webhooks-Signature-Settings', s.signature.settings]);
  }
  headers.push(...(s.extraHeaders ?? []));
  const body = s.encoding === 'json' ? JSON.stringify(params) : formBody(asForm(params));
  const seenParams =
    s.encoding === 'json'
      ? (JSON.parse(body) as Record<string, unknown>)
      : Object.fromEntries(
          Object.entries(asForm(params)).map(([k, v]) => [
            utf8RoundTrip(k),
            Array.isArray(v) ? v.map(utf8RoundTrip) : utf8RoundTrip(v),
          ]),
        );
  const code = expectedCode(
    {
      params: seenParams,
      origin: s.origin,
      contentType,
      signature: s.signature ? (s.signature.valid ? 'valid' : 'invalid') : 'none',
    },
    ctx.pools,
  );
  const token = seenParams.Token;
  return {
    endpoint: s.endpoint ?? 'sync-token',
    category: s.category,
    label: s.label,
    request: {
      method: 'POST',
      target: `/${s.endpoint ?? 'sync-token'}${s.query ? `?${s.query}` : ''}`,
      headers,
      body: Buffer.from(body, 'utf8'),
    },
    codes: [code],
    wellShaped: wellShapedToken(token) ? [token] : [],
    sent: [...(typeof token === 'string' && token.length >= 20 ? [token] : []), ...(s.sent ?? [])],
  };
}

export function publicUrl(ctx: CaseContext, path = '/sync-token'): string {
  return `http://localhost:${ctx.port}${path}`;
}

function sign(key: string, url: string, params: Record<string, FormValue>, algorithm?: string): string {
  return twilio.getExpectedTwilioSignature(key, url, params, algorithm);
}

// ---------------------------------------------------------------------------------------------------------------
// Categories

function forgedTokens(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  return fc
    .record({
      token: forgedToken(ctx.pools),
      identity: fc.option(spoofIdentity, { nil: undefined }),
      ttl: ttlValue,
      origin: originValue,
      encoding: fc.constantFrom('form' as const, 'json' as const),
      junk: junkParams,
    })
    .map((r) =>
      build(ctx, {
        category: 'forged Flex token',
        label: 'forged token',
        params: { ...r.junk, Token: r.token, Identity: r.identity, Ttl: r.ttl },
        encoding: r.encoding,
        origin: r.origin,
      }),
    );
}

function expiredAndGuest(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  return fc
    .record({
      token: fc.constantFrom(...ctx.pools.expired, ...ctx.pools.guest),
      identity: fc.option(spoofIdentity, { nil: undefined }),
      ttl: ttlValue,
      origin: originValue,
      encoding: fc.constantFrom('form' as const, 'json' as const),
      signed: fc.boolean(),
    })
    .map((r) => {
      const params = { Token: r.token, Identity: r.identity ?? 'alice_40example_2Ecom', Ttl: r.ttl };
      // A valid signature next to a refused Flex token must not rescue it (the Token decides).
      const signature =
        r.signed && r.encoding === 'form'
          ? { value: sign(ctx.authToken, publicUrl(ctx), asForm(params)), valid: true }
          : undefined;
      return build(ctx, {
        category: 'expired / guest Flex token',
        label: r.signed ? 'refused token + valid signature' : 'refused token',
        params,
        encoding: r.encoding,
        origin: r.origin,
        signature,
      });
    });
}

/** Valid agent tokens, each blocked: misplaced, altered in transit, or refused by an earlier check. */
function misplacedValid(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  const valid = fc.constantFrom(...ctx.pools.valid);
  const plain = (
    label: string,
    request: RawRequest,
    codes: string[],
    token: string,
    runtime?: number[],
  ): HostileCase => ({
    endpoint: 'sync-token',
    category: 'valid token, misplaced or blocked',
    label,
    request,
    codes,
    runtime,
    wellShaped: [],
    sent: [token],
  });
  const form = (body: string, headers: Array<[string, string]> = []): RawRequest => ({
    method: 'POST',
    target: '/sync-token',
    headers: [['Content-Type', 'application/x-www-form-urlencoded'], ...headers],
    body: Buffer.from(body),
  });
  return fc.oneof(
    fc
      .tuple(valid, fc.constantFrom('Authorization', 'X-Flex-Token', 'Token', 'X-Twilio-Token', 'Cookie'))
      .map(([t, name]) =>
        plain(
          `token in ${name} header`,
          form('Identity=admin', [
            [name, name === 'Authorization' ? `Bearer ${t}` : name === 'Cookie' ? `Token=${t}` : t],
          ]),
          ['CREDENTIALS_MISSING'],
          t,
        ),
      ),
    fc
      .tuple(
        valid,
        fc.constantFrom(
          'token',
          'TOKEN',
          'flexToken',
          'Token ',
          ' Token',
          'Token[]',
          'Token.',
          'Tokens',
          'access_token',
          'Token\u0000',
        ),
      )
      .map(([t, key]) =>
        plain(
          `token as ${JSON.stringify(key)}`,
          form(`${formEncode(key)}=${formEncode(t)}`),
          ['CREDENTIALS_MISSING'],
          t,
        ),
      ),
    valid.map((t) =>
      plain(
        'token in a multipart body (no parser)',
        {
          method: 'POST',
          target: '/sync-token',
          headers: [['Content-Type', 'multipart/form-data; boundary=XyZ']],
          body: Buffer.from(`--XyZ\r\nContent-Disposition: form-data; name="Token"\r\n\r\n${t}\r\n--XyZ--\r\n`),
        },
        ['CREDENTIALS_MISSING'],
        t,
      ),
    ),
    fc
      .tuple(
        valid,
        fc.constantFrom('text/plain', 'application/xml', 'application/vnd.api+json', 'application/octet-stream'),
      )
      .map(([t, type]) =>
        plain(
          `token in a ${type} body`,
          {
            method: 'POST',
            target: '/sync-token',
            headers: [['Content-Type', type]],
            body: Buffer.from(type.includes('json') ? JSON.stringify({ Token: t }) : `Token=${t}`),
          },
          ['CREDENTIALS_MISSING'],
          t,
        ),
      ),
    valid.map((t) =>
      plain(
        'token nested in JSON',
        {
          method: 'POST',
          target: '/sync-token',
          headers: [['Content-Type', 'application/json']],
          body: Buffer.from(JSON.stringify({ data: { Token: t } })),
        },
        ['CREDENTIALS_MISSING'],
        t,
      ),
    ),
    valid.map((t) =>
      plain(
        'token inside a JSON array body',
        {
          method: 'POST',
          target: '/sync-token',
          headers: [['Content-Type', 'application/json']],
          body: Buffer.from(JSON.stringify([{ Token: t }])),
        },
        ['CREDENTIALS_MISSING'],
        t,
      ),
    ),
    fc.tuple(valid, fc.constantFrom<unknown>('array', 'object', 'number')).map(([t, shape]) =>
      plain(
        `token as JSON ${shape}`,
        {
          method: 'POST',
          target: '/sync-token',
          headers: [['Content-Type', 'application/json']],
          body: Buffer.from(JSON.stringify({ Token: shape === 'array' ? [t] : shape === 'object' ? { Token: t } : 1 })),
        },
        ['INVALID_REQUEST'],
        t,
      ),
    ),
    valid.map((t) =>
      plain(
        'token twice in a form (array)',
        form(`Token=${formEncode(t)}&Token=${formEncode(t)}`),
        ['INVALID_REQUEST'],
        t,
      ),
    ),
    valid.map((t) => ({
      ...plain(
        'JSON duplicate key, forged last',
        {
          method: 'POST',
          target: '/sync-token',
          headers: [['Content-Type', 'application/json']],
          body: Buffer.from(`{"Token":"${t}","Token":"${t.slice(0, -3)}abc"}`),
        },
        ['FLEX_TOKEN_INVALID'],
        t,
      ),
      wellShaped: [`${t.slice(0, -3)}abc`],
    })),
    fc.tuple(valid, evilOrigin, fc.constantFrom('form', 'json')).map(([t, origin, enc]) =>
      plain(
        'valid token from a foreign Origin',
        enc === 'form'
          ? form(`Token=${formEncode(t)}`, [['Origin', origin]])
          : {
              method: 'POST',
              target: '/sync-token',
              headers: [
                ['Content-Type', 'application/json'],
                ['Origin', origin],
              ],
              body: Buffer.from(JSON.stringify({ Token: t })),
            },
        ['ORIGIN_NOT_ALLOWED'],
        t,
      ),
    ),
    fc
      .tuple(
        valid,
        ttlValue.filter((v) => ttlCode(v) !== undefined),
      )
      .map(([t, ttl]) => {
        const body = JSON.stringify({ Token: t, Ttl: ttl });
        return plain(
          'valid token, bad Ttl',
          {
            method: 'POST',
            target: '/sync-token',
            headers: [['Content-Type', 'application/json']],
            body: Buffer.from(body),
          },
          [ttlCode(JSON.parse(body).Ttl)!],
          t,
        );
      }),
    fc
      .tuple(valid, fc.constantFrom('GET', 'POST', 'DELETE'))
      .map(([t, method]) =>
        plain(
          `valid token in a body without Content-Type (${method})`,
          { method, target: '/sync-token', headers: [], body: Buffer.from(`Token=${formEncode(t)}`) },
          ['METHOD_NOT_ALLOWED'],
          t,
        ),
      ),
    fc
      .tuple(
        valid,
        fc.constantFrom(
          'application/json',
          'application/json; charset=latin1',
          'application/x-www-form-urlencoded; charset=iso-8859-1',
        ),
      )
      .map(([t, type]) =>
        plain(
          `valid token, refused charset (${type})`,
          {
            method: 'POST',
            target: '/sync-token',
            headers: [['Content-Type', type]],
            body: Buffer.from(
              type.startsWith('application/json;')
                ? JSON.stringify({ Token: t })
                : type === 'application/json'
                  ? `Token=${t}`
                  : `Token=${formEncode(t)}`,
            ),
          },
          ['*'],
          t,
          [400, 415],
        ),
      ),
    valid.map((t) =>
      plain(
        'valid token, truncated JSON',
        {
          method: 'POST',
          target: '/sync-token',
          headers: [['Content-Type', 'application/json']],
          body: Buffer.from(`{"Token":"${t}"`),
        },
        [],
        t,
        [400],
      ),
    ),
    valid.map((t) =>
      plain(
        'valid token, gzip body that is not gzip',
        {
          method: 'POST',
          target: '/sync-token',
          headers: [
            ['Content-Type', 'application/json'],
            ['Content-Encoding', 'gzip'],
          ],
          body: Buffer.from(JSON.stringify({ Token: t })),
        },
        [],
        t,
        [400],
      ),
    ),
    fc.tuple(valid, fc.constantFrom('br', 'compress', 'x-evil')).map(([t, enc]) =>
      plain(
        `valid token, Content-Encoding ${enc}`,
        {
          method: 'POST',
          target: '/sync-token',
          headers: [
            ['Content-Type', 'application/json'],
            ['Content-Encoding', enc],
          ],
          body: Buffer.from(JSON.stringify({ Token: t })),
        },
        [],
        t,
        [415],
      ),
    ),
    valid.map((t) =>
      plain(
        'valid token behind request-override headers without Content-Type',
        {
          method: 'POST',
          target: '/sync-token',
          headers: [['Content-Type', 'application/json']],
          body: Buffer.from(JSON.stringify({ Token: t, request: { headers: { 'x-request-id': 'spoofed' } } })),
        },
        ['METHOD_NOT_ALLOWED'],
        t,
      ),
    ),
  );
}

/** Requests signed wrongly: for another URL, host, scheme or port, with another key or algorithm, or tampered. */
function badSignatures(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  const url = publicUrl(ctx);
  const wrongUrl = fc.constantFrom(
    publicUrl(ctx, '/recent-calls'),
    publicUrl(ctx, '/sync-recent-calls'),
    publicUrl(ctx, '/sync-token/'),
    publicUrl(ctx, '/Sync-Token'),
    url.replace('http://', 'https://'),
    url.replace('localhost', '127.0.0.1'),
    url.replace(`:${ctx.port}`, `:${ctx.port + 1}`),
    `https://evil.example/sync-token`,
    `https://example-1234-dev.twil.io/sync-token`,
    `${url}?Identity=admin`,
    `${url}#frag`,
  );
  const wrongKey = fc.constantFrom(
    ctx.apiSecret,
    ctx.accountSid,
    '',
    ctx.authToken.toUpperCase() === ctx.authToken ? ctx.authToken.toLowerCase() : ctx.authToken.toUpperCase(),
    ctx.authToken.slice(0, -1) + (ctx.authToken.endsWith('0') ? '1' : '0'),
    createHash('md5').update(ctx.authToken).digest('hex'),
    `${ctx.authToken} `,
  );
  const identity = fc.oneof(fc.constantFrom('svc-reporting', 'alice_40example_2Ecom', 'admin'), spoofIdentity);
  const base = fc.record({ identity, ttl: ttlValue, origin: originValue, junk: junkParams });
  const invalid = (
    label: string,
    params: Record<string, unknown>,
    value: string,
    origin?: string,
    settings?: string,
    extra?: Array<[string, string]>,
  ) =>
    build(ctx, {
      category: 'bad signature',
      label,
      params,
      encoding: 'form',
      origin,
      signature: { value, valid: false, settings },
      extraHeaders: extra,
    });

  return fc.oneof(
    // No signature at all, or an empty one.
    base.map((r) =>
      build(ctx, {
        category: 'bad signature',
        label: 'no signature',
        params: { ...r.junk, Identity: r.identity, Ttl: r.ttl },
        encoding: 'form',
        origin: r.origin,
      }),
    ),
    // Random bytes, random base64, a real signature's shape.
    fc
      .tuple(
        base,
        fc.oneof(
          b64(1, 60),
          fc.uint8Array({ minLength: 20, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')),
          fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 80 }).filter((v) => v.trim() !== ''),
        ),
      )
      .map(([r, sig]) =>
        invalid('garbage signature', { ...r.junk, Identity: r.identity, Ttl: r.ttl }, sig.trim(), r.origin),
      ),
    // Signed for another URL (replayed to /sync-token).
    fc.tuple(base, wrongUrl).map(([r, other]) => {
      const params = { ...r.junk, Identity: r.identity, Ttl: r.ttl };
      return invalid(
        `signed for ${other.replace(String(ctx.port), '<port>')}`,
        params,
        sign(ctx.authToken, other, asForm(params)),
        r.origin,
      );
    }),
    // Signed with the wrong key.
    fc.tuple(base, wrongKey).map(([r, key]) => {
      const params = { ...r.junk, Identity: r.identity, Ttl: r.ttl };
      return invalid('signed with a wrong key', params, sign(key, url, asForm(params)), r.origin);
    }),
    // Tampered after signing: a changed, added or removed parameter.
    fc.tuple(base, fc.constantFrom('change', 'add', 'remove')).map(([r, how]) => {
      const signed = { Identity: 'svc-reporting', Ttl: '3600' };
      const sent: Record<string, unknown> =
        how === 'change'
          ? { ...signed, Identity: 'admin' }
          : how === 'add'
            ? { ...signed, Extra: '1' }
            : { Identity: 'svc-reporting' };
      return invalid(`tampered (${how})`, sent, sign(ctx.authToken, url, signed), r.origin);
    }),
    // Algorithm games: SHA-1 signature announced as SHA-256, SHA-256 unannounced, unknown algorithms.
    fc
      .tuple(
        base,
        fc.constantFrom<[string | undefined, string | undefined]>(
          ['HMAC_SHA1', 'algorithm=HMAC_SHA256'],
          ['HMAC_SHA256', undefined],
          ['HMAC_SHA256', 'algorithm=HMAC_SHA1'],
          ['HMAC_SHA1', 'algorithm=MD5'],
          ['HMAC_SHA1', 'algorithm=none'],
          ['HMAC_SHA256', 'key=abc,algorithm='],
        ),
      )
      .map(([r, [alg, settings]]) => {
        const params = { Identity: 'svc-reporting' };
        const value =
          alg === 'HMAC_SHA256' ? sign(ctx.authToken, url, params, 'HMAC_SHA256') : sign(ctx.authToken, url, params);
        // ['HMAC_SHA1', 'algorithm=HMAC_SHA1'-like] pairs are excluded above: each pair mismatches or names no real algorithm.
        return invalid(`algorithm ${alg} sent as ${settings ?? '(none)'}`, params, value, r.origin, settings);
      }),
    // A /sync-recent-calls scheduler request replayed to /sync-token, as is.
    base.map((r) => {
      const params = { Invocation: '1', RequestedAt: new Date().toISOString() };
      return invalid(
        'scheduler request replayed to /sync-token',
        params,
        sign(ctx.authToken, publicUrl(ctx, '/sync-recent-calls'), params),
        r.origin,
      );
    }),
    // Signed for another Host, sent with that Host and X-Forwarded-* (the function signs against its own domain).
    fc
      .tuple(base, fc.constantFrom('evil.example', 'example-1234-dev.twil.io', `127.0.0.1:${ctx.port}`))
      .map(([r, host]) => {
        const params = { Identity: 'svc-reporting' };
        const value = sign(ctx.authToken, `https://${host}/sync-token`, params);
        return invalid(`signed for host ${host}`, params, value, r.origin, undefined, [
          ['X-Forwarded-Host', host],
          ['X-Forwarded-Proto', 'https'],
          ['X-Original-Host', host],
          ['Forwarded', `host=${host};proto=https`],
        ]);
      }),
    // Duplicated signature headers (the valid one first): the runtime joins them.
    base.map((r) => {
      const params = { Identity: 'svc-reporting' };
      const good = sign(ctx.authToken, url, params);
      return invalid('duplicated X-Twilio-Signature', params, good, r.origin, undefined, [
        ['X-Twilio-Signature', 'AAAA'],
      ]);
    }),
    // JSON bodies: wrong hash, no hash, pretty-printed, signature over the URL without the hash.
    fc.tuple(base, fc.constantFrom('wrong-hash', 'no-hash', 'pretty', 'url-only', 'upper-hash')).map(([r, how]) =>
      jsonSigned(
        ctx,
        {
          Identity: typeof r.identity === 'string' ? r.identity : 'svc',
          ...(r.ttl === undefined ? {} : { Ttl: r.ttl }),
        },
        how,
        r.origin,
      ),
    ),
    // Valid signatures over an invalid Identity (identity spoofing by a signer) or an invalid Ttl.
    fc.tuple(badIdentity, ttlValue, fc.constantFrom('form', 'json')).map(([id, ttl, enc]) => {
      const params: Record<string, unknown> = { Identity: id, Ttl: ttl };
      if (enc === 'json') return jsonSigned(ctx, params, 'valid');
      const form = asForm(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)));
      return build(ctx, {
        category: 'valid signature, bad Identity / Ttl',
        label: 'signed, bad Identity',
        params,
        encoding: 'form',
        signature: { value: sign(ctx.authToken, url, form), valid: true },
      });
    }),
    ttlValue
      .filter((v) => (typeof v === 'string' || typeof v === 'number') && ttlCode(v) !== undefined)
      .map((ttl) => {
        const form = asForm({ Identity: 'svc-reporting', Ttl: ttl });
        return build(ctx, {
          category: 'valid signature, bad Identity / Ttl',
          label: 'signed, bad Ttl',
          params: { Identity: 'svc-reporting', Ttl: ttl },
          encoding: 'form',
          signature: { value: sign(ctx.authToken, url, form), valid: true },
        });
      }),
    // A valid signature next to a forged Flex token: the Token decides, the signature is not a fallback.
    fc
      .tuple(
        forgedToken(ctx.pools).filter((t) => t !== ''),
        identity,
      )
      .map(([token, id]) => {
        const form = asForm({ Token: token, Identity: id });
        return build(ctx, {
          category: 'valid signature, bad Identity / Ttl',
          label: 'signed, forged Flex token',
          params: { Token: token, Identity: id },
          encoding: 'form',
          signature: { value: sign(ctx.authToken, url, form), valid: true },
        });
      }),
  );
}

function jsonSigned(ctx: CaseContext, params: Record<string, unknown>, how: string, origin?: string): HostileCase {
  const url = publicUrl(ctx);
  const compact = JSON.stringify(params);
  const hash = createHash('sha256').update(compact).digest('hex');
  let body = compact;
  let query = `bodySHA256=${hash}`;
  let signed = `${url}?${query}`;
  let valid = false;
  if (how === 'valid') valid = true;
  else if (how === 'wrong-hash')
    query = `bodySHA256=${createHash('sha256')
      .update(compact + ' ')
      .digest('hex')}`;
  else if (how === 'no-hash') query = '';
  else if (how === 'pretty') {
    body = JSON.stringify(params, null, 2);
    query = `bodySHA256=${createHash('sha256').update(body).digest('hex')}`;
    signed = `${url}?${query}`;
  } else if (how === 'url-only') signed = url;
  else if (how === 'upper-hash') {
    query = `bodySHA256=${hash.toUpperCase()}`;
    signed = `${url}?${query}`;
  }
  const signature = twilio.getExpectedTwilioSignature(ctx.authToken, signed, {});
  const seen = JSON.parse(body) as Record<string, unknown>;
  const code = expectedCode(
    { params: seen, origin, contentType: 'application/json', signature: valid ? 'valid' : 'invalid' },
    ctx.pools,
  );
  const headers: Array<[string, string]> = [
    ['Content-Type', 'application/json'],
    ['X-Twilio-Signature', signature],
  ];
  if (origin !== undefined) headers.push(['Origin', origin]);
  return {
    endpoint: 'sync-token',
    category: valid ? 'valid signature, bad Identity / Ttl' : 'bad signature',
    label: `JSON body, ${how}`,
    request: { method: 'POST', target: `/sync-token${query ? `?${query}` : ''}`, headers, body: Buffer.from(body) },
    codes: [code],
  };
}

/** Identity spoofing without a usable credential: next to guest, expired, forged or no tokens. */
function identitySpoofing(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  return fc
    .record({
      identity: spoofIdentity,
      token: fc.oneof(
        fc.constant(undefined),
        fc.constant(''),
        fc.constantFrom(...ctx.pools.guest, ...ctx.pools.expired),
        forgedToken(ctx.pools),
      ),
      key: fc.constantFrom('Identity', 'identity', 'IDENTITY', 'Identity[]'),
      encoding: fc.constantFrom('form' as const, 'json' as const),
    })
    .map((r) =>
      build(ctx, {
        category: 'identity spoofing',
        label: `${r.key} with ${r.token === undefined ? 'no' : r.token === '' ? 'an empty' : 'a refused'} token`,
        params: { Token: r.token, [r.key]: r.identity },
        encoding: r.encoding,
      }),
    );
}

/** Malformed and oversized bodies. */
function malformedBodies(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  const raw = (
    label: string,
    type: string | undefined,
    body: Buffer,
    codes: readonly string[],
    runtime?: number[],
    extra: Array<[string, string]> = [],
  ): HostileCase => ({
    endpoint: 'sync-token',
    category: 'malformed / oversized body',
    label,
    request: {
      method: 'POST',
      target: '/sync-token',
      headers: [...(type ? ([['Content-Type', type]] as Array<[string, string]>) : []), ...extra],
      body,
    },
    codes,
    runtime,
  });
  const forged = forgedToken(ctx.pools);
  return fc.oneof(
    fc
      .tuple(
        fc.uint8Array({ maxLength: 2000 }),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded'),
      )
      .map(([bytes, type]) => raw('random bytes', type, Buffer.from(bytes), ANY_CODE, [400, 413, 415])),
    fc.tuple(forged, fc.nat()).map(([t, n]) => {
      const text = JSON.stringify({ Token: t, Identity: 'x' });
      return raw(
        'truncated JSON',
        'application/json',
        Buffer.from(text.slice(0, 1 + (n % (text.length - 1)))),
        [],
        [400],
      );
    }),
    fc
      .constantFrom(
        'null',
        'true',
        '"Token"',
        '123',
        '{"Token":}',
        '{Token:"x"}',
        "{'Token':'x'}",
        '{"Token":"x",}',
        '[',
        '{"a":NaN}',
        '\ufeff{}',
        '{"Token":"\\ud800"}',
      )
      .map((text) => raw(`bad JSON ${JSON.stringify(text)}`, 'application/json', Buffer.from(text), ANY_CODE, [400])),
    // Parameters nested deeper than the wrapper's bound are refused before any function code (depth 0 is the body).
    fc
      .integer({ min: 1, max: 5000 })
      .map((depth) =>
        raw(
          `JSON nested ${depth} deep`,
          'application/json',
          Buffer.from(`{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`),
          [depth >= MAX_PARAMS_DEPTH ? 'INVALID_REQUEST' : 'CREDENTIALS_MISSING'],
        ),
      ),
    fc
      .integer({ min: 10_000, max: 300_000 })
      .map((n) =>
        raw(`junk parameter of ${n} bytes`, 'application/x-www-form-urlencoded', Buffer.from(`Junk=${'x'.repeat(n)}`), [
          'CREDENTIALS_MISSING',
        ]),
      ),
    fc
      .tuple(fc.integer({ min: 9_000, max: 300_000 }), fc.constantFrom('form', 'json'))
      .map(([n, enc]) =>
        raw(
          `Token of ${n} bytes (${enc})`,
          enc === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
          Buffer.from(enc === 'json' ? JSON.stringify({ Token: 'eyJ' + 'a'.repeat(n) }) : `Token=eyJ${'a'.repeat(n)}`),
          ['FLEX_TOKEN_INVALID'],
        ),
      ),
    fc
      .integer({ min: 10_000, max: 300_000 })
      .map((n) =>
        raw(
          `Identity of ${n} bytes, no credential`,
          'application/json',
          Buffer.from(JSON.stringify({ Identity: 'a'.repeat(n) })),
          ['CREDENTIALS_MISSING'],
        ),
      ),
    fc
      .integer({ min: 1001, max: 3000 })
      .map((n) =>
        raw(
          `${n} form parameters`,
          'application/x-www-form-urlencoded',
          Buffer.from(Array.from({ length: n }, (_, i) => `p${i}=1`).join('&')),
          [],
          [413],
        ),
      ),
    fc
      .integer({ min: 1001, max: 5000 })
      .map((n) =>
        raw(
          `${n} JSON keys`,
          'application/json',
          Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i])))),
          ['CREDENTIALS_MISSING'],
        ),
      ),
    fc
      .tuple(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf'),
        fc.constantFrom('json', 'form'),
      )
      .map(([key, enc]) =>
        raw(
          `${key} key`,
          enc === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
          Buffer.from(
            enc === 'json'
              ? `{"${key}":{"Token":"x","isAdmin":true},"Identity":"admin"}`
              : `${key}=1&${key}[Token]=x&Identity=admin`,
          ),
          ['CREDENTIALS_MISSING'],
        ),
      ),
    fc.tuple(forged, fc.constantFrom('json', 'form')).map(([t, enc]) => {
      const body = enc === 'json' ? JSON.stringify({ Token: t }) : `Token=${formEncode(t)}`;
      const c = build(ctx, {
        category: 'malformed / oversized body',
        label: 'gzip body',
        params: { Token: t },
        encoding: enc as 'json' | 'form',
      });
      return {
        ...c,
        label: `gzip / deflate ${enc} body`,
        request: {
          ...c.request,
          headers: [...c.request.headers, ['Content-Encoding', 'gzip'] as [string, string]],
          body: gzipSync(body),
        },
      };
    }),
    fc
      .uint8Array({ minLength: 1, maxLength: 200 })
      .map((b) =>
        raw(
          'deflate header, garbage body',
          'application/json',
          Buffer.from(b),
          [],
          [400],
          [['Content-Encoding', 'deflate']],
        ),
      ),
    fc.constant(
      raw('deflated empty object', 'application/json', deflateSync('{}'), ['CREDENTIALS_MISSING'], undefined, [
        ['Content-Encoding', 'deflate'],
      ]),
    ),
  );
}

/** Content types the function does not parse, or that the runtime refuses. */
function contentTypes(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  const forged = forgedToken(ctx.pools).filter(wellShapedToken);
  return fc
    .tuple(
      forged,
      fc.constantFrom(
        ['text/plain', 'form', ['CREDENTIALS_MISSING'], undefined],
        ['text/html', 'form', ['CREDENTIALS_MISSING'], undefined],
        ['application/xml', 'xml', ['CREDENTIALS_MISSING'], undefined],
        ['multipart/form-data; boundary=b', 'multipart', ['CREDENTIALS_MISSING'], undefined],
        ['application/x-www-form-urlencoded', 'json', ['CREDENTIALS_MISSING'], undefined],
        ['application/json', 'form', [], [400]],
        ['APPLICATION/JSON', 'json', ['FLEX_TOKEN_INVALID'], undefined],
        ['application/json; charset=utf-8', 'json', ['FLEX_TOKEN_INVALID'], undefined],
        ['application/json;charset=UTF-8;foo=bar', 'json', ['FLEX_TOKEN_INVALID'], undefined],
        ['application/json; charset=utf-16le', 'json16', ['FLEX_TOKEN_INVALID'], undefined],
        ['application/json; charset=koi8-r', 'json', [], [415]],
        ['application/x-www-form-urlencoded; charset=utf-16', 'form', [], [415]],
        ['application/json, text/plain', 'json', ['*'], [400, 415]],
        ['*/*', 'json', ['CREDENTIALS_MISSING'], undefined],
        ['', 'json', ['METHOD_NOT_ALLOWED'], undefined],
        [' ', 'json', ['METHOD_NOT_ALLOWED', 'CREDENTIALS_MISSING'], undefined],
        ['application/json\u00ff', 'json', ['CREDENTIALS_MISSING', '*'], [400, 415]],
      ) as fc.Arbitrary<[string, string, string[], number[] | undefined]>,
    )
    .map(([token, [type, shape, codes, runtime]]) => {
      let body: Buffer;
      if (shape === 'json') body = Buffer.from(JSON.stringify({ Token: token }));
      else if (shape === 'json16') body = Buffer.from(JSON.stringify({ Token: token }), 'utf16le');
      else if (shape === 'xml') body = Buffer.from(`<Token>${token}</Token>`);
      else if (shape === 'multipart')
        body = Buffer.from(`--b\r\nContent-Disposition: form-data; name="Token"\r\n\r\n${token}\r\n--b--\r\n`);
      else body = Buffer.from(`Token=${formEncode(token)}`);
      return {
        endpoint: 'sync-token' as const,
        category: 'wrong content type',
        label: `Content-Type ${JSON.stringify(type)} with a ${shape} body`,
        request: {
          method: 'POST',
          target: '/sync-token',
          headers: [['Content-Type', Buffer.from(type, 'latin1')]],
          body,
        },
        codes,
        runtime,
        wellShaped: codes.includes('FLEX_TOKEN_INVALID') || codes.includes('*') ? [token] : [],
        sent: [token],
      };
    });
}

/** Invalid UTF-8 in bodies, percent-encoded bytes, BOMs, overlong forms and surrogates. */
function invalidUtf8(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  const badBytes = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b.map((x) => 0x80 | x))),
    fc.constantFrom(
      Buffer.from([0xc0, 0xaf]), // overlong '/'
      Buffer.from([0xe0, 0x80, 0xaf]),
      Buffer.from([0xed, 0xa0, 0x80]), // UTF-16 surrogate
      Buffer.from([0xf4, 0x90, 0x80, 0x80]), // above U+10FFFF
      Buffer.from([0xff, 0xfe]),
      Buffer.from([0xef, 0xbb, 0xbf]), // BOM
      Buffer.from([0x00]),
    ),
  );
  const valid = fc.constantFrom(...ctx.pools.valid);
  return fc
    .tuple(
      badBytes,
      fc.constantFrom('json-token', 'json-identity', 'form-token', 'form-percent', 'form-key', 'json-key'),
      valid,
      fc.nat(),
    )
    .map(([bytes, where, token, n]) => {
      // A real token with invalid bytes spliced in: whatever the decoder makes of them, it is not that token.
      const at = 1 + (n % (token.length - 1));
      const head = Buffer.from(token.slice(0, at));
      const tail = Buffer.from(token.slice(at));
      let type = 'application/json';
      let body: Buffer;
      let codes: readonly string[] = ['FLEX_TOKEN_INVALID'];
      if (where === 'json-token')
        body = Buffer.concat([Buffer.from('{"Token":"'), head, bytes, tail, Buffer.from('"}')]);
      else if (where === 'json-identity') {
        body = Buffer.concat([Buffer.from('{"Identity":"ali'), bytes, Buffer.from('ce"}')]);
        codes = ['CREDENTIALS_MISSING'];
      } else if (where === 'json-key') {
        body = Buffer.concat([Buffer.from('{"Tok'), bytes, Buffer.from(`en":"${token}"}`)]);
        codes = ['CREDENTIALS_MISSING'];
      } else {
        type = 'application/x-www-form-urlencoded';
        if (where === 'form-token') body = Buffer.concat([Buffer.from('Token='), head, bytes, tail]);
        else if (where === 'form-percent')
          body = Buffer.from(
            `Token=${formEncode(token.slice(0, at))}${[...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}${formEncode(token.slice(at))}`,
          );
        else {
          body = Buffer.concat([Buffer.from('Tok'), bytes, Buffer.from(`en=${formEncode(token)}`)]);
          codes = ['CREDENTIALS_MISSING'];
        }
      }
      // A NUL or BOM can make body-parser refuse the JSON outright; that is fair too.
      return {
        endpoint: 'sync-token' as const,
        category: 'invalid UTF-8',
        label: `invalid UTF-8 in ${where}`,
        request: { method: 'POST', target: '/sync-token', headers: [['Content-Type', type]], body },
        codes,
        runtime: [400],
        sent: [token],
      };
    });
}

/** Header games: duplicates, huge headers, Host / X-Forwarded-*, request ids, latin-1 bytes, CR/LF injection. */
function headerGames(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  const forged = forgedToken(ctx.pools).filter(wellShapedToken);
  const valid = fc.constantFrom(...ctx.pools.valid);
  const withHeaders = (
    c: HostileCase,
    label: string,
    extra: Array<[string, string | Buffer]>,
    codes?: readonly string[],
    runtime?: number[],
  ): HostileCase => ({
    ...c,
    category: 'header games',
    label,
    request: { ...c.request, headers: [...c.request.headers, ...extra] },
    codes: codes ?? c.codes,
    runtime: runtime ?? c.runtime,
  });
  const forgedCase = forged.map((t) =>
    build(ctx, { category: 'header games', label: '', params: { Token: t }, encoding: 'form' }),
  );
  return fc.oneof(
    fc.tuple(valid).map(([t]) =>
      withHeaders(
        build(ctx, { category: 'header games', label: '', params: { Token: t, Ttl: 'x' }, encoding: 'form' }),
        'duplicated Origin (allowed, then foreign), bad Ttl',
        [
          ['Origin', ALLOWED_ORIGIN],
          ['Origin', 'https://evil.example'],
        ],
        ['ORIGIN_NOT_ALLOWED'],
      ),
    ),
    fc.tuple(forgedCase, fc.integer({ min: 1, max: 11 }), fc.integer({ min: 200, max: 1000 })).map(([c, count, size]) =>
      withHeaders(
        c,
        `${count} padding headers of ${size} bytes`,
        Array.from({ length: count }, (_, i) => [`X-Pad-${i}`, 'p'.repeat(size)] as [string, string]),
      ),
    ),
    forgedCase.map((c) =>
      withHeaders(c, "one 20 KB header (over node's limit)", [['X-Huge', 'h'.repeat(20_000)]], [], [431]),
    ),
    // serialise() leaves out its own Host when the case brings one.
    fc
      .tuple(
        forgedCase,
        fc.constantFrom(
          'evil.example',
          'localhost',
          'localhost:1',
          '[::1]',
          'a'.repeat(300),
          'example-1234-dev.twil.io',
        ),
      )
      .map(([c, host]) =>
        withHeaders(c, `Host ${host.slice(0, 20)} + X-Forwarded-*`, [
          ['Host', host],
          ['X-Forwarded-Host', 'flex.twilio.com'],
          ['X-Forwarded-For', '127.0.0.1'],
          ['X-Forwarded-Proto', 'https'],
          ['X-Real-IP', '10.0.0.1'],
        ]),
      ),
    fc
      .tuple(
        forgedCase,
        fc.oneof(
          fc.string({ unit: 'grapheme-ascii', maxLength: 100 }),
          fc.constantFrom('../../etc/passwd', '<script>', 'a'.repeat(65), 'ok-id_1.2', '', ' ', 'id\u00e9'),
        ),
      )
      .map(([c, id]) => withHeaders(c, 'X-Request-Id games', [['X-Request-Id', Buffer.from(id, 'latin1')]])),
    fc
      .tuple(forgedCase, fc.uint8Array({ minLength: 1, maxLength: 40 }))
      .map(([c, bytes]) =>
        withHeaders(
          c,
          'latin-1 / high bytes in Origin',
          [
            [
              'Origin',
              Buffer.concat([
                Buffer.from('https://'),
                Buffer.from(bytes.map((b) => (b < 0x20 || b === 0x7f ? 0x41 : b))),
              ]),
            ],
          ],
          ['ORIGIN_NOT_ALLOWED'],
          [400],
        ),
      ),
    fc.tuple(forgedCase, fc.constantFrom('json-first', 'form-first')).map(([c, order]) => {
      const types: Array<[string, string]> =
        order === 'json-first' ? [['Content-Type', 'application/json']] : [['Content-Type', 'text/plain']];
      return withHeaders(c, `duplicated Content-Type (${order})`, types, ['*'], [400, 415]);
    }),
    // CR/LF inside a header value: on the wire this is header splitting. Node parses the pieces as headers (then
    // the forged signature is just invalid) or refuses the request.
    fc
      .tuple(
        fc.constantFrom('\r\n', '\n', '\r', '\r\n ', '\r\n\t', '\0'),
        fc.constantFrom('X-Request-Id', 'Origin', 'X-Twilio-Signature', 'User-Agent'),
      )
      .map(([sep, name]) => ({
        endpoint: 'sync-token' as const,
        category: 'header injection (raw CR/LF)',
        label: `${JSON.stringify(sep)} in ${name}`,
        request: {
          method: 'POST',
          target: '/sync-token',
          headers: [
            ['Content-Type', 'application/x-www-form-urlencoded'],
            [name, `abc${sep}X-Twilio-Signature: forged`],
          ] as Array<[string, string]>,
          body: Buffer.from('Identity=admin'),
        },
        codes: ['*'],
        runtime: [400],
      })),
  );
}

/** Protocol-level oddities (raw bytes). */
function rawProtocol(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  const body = 'Identity=admin';
  const rawCase = (label: string, text: string, codes: readonly string[] = ['*'], runtime = [400]): HostileCase => ({
    endpoint: 'sync-token',
    category: 'raw protocol',
    label,
    request: { method: 'POST', target: '/sync-token', headers: [], raw: Buffer.from(text, 'latin1') },
    codes,
    runtime,
  });
  const host = `Host: localhost:${ctx.port}\r\n`;
  const len = `Content-Length: ${body.length}\r\n`;
  const form = 'Content-Type: application/x-www-form-urlencoded\r\n';
  return fc.constantFrom(
    rawCase(
      'Transfer-Encoding and Content-Length',
      `POST /sync-token HTTP/1.1\r\n${host}${form}${len}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`,
    ),
    rawCase(
      'two different Content-Length',
      `POST /sync-token HTTP/1.1\r\n${host}${form}${len}Content-Length: 3\r\nConnection: close\r\n\r\n${body}`,
    ),
    rawCase('no Host', `POST /sync-token HTTP/1.1\r\n${form}${len}Connection: close\r\n\r\n${body}`),
    rawCase(
      'two Host headers',
      `POST /sync-token HTTP/1.1\r\n${host}Host: evil.example\r\n${form}${len}Connection: close\r\n\r\n${body}`,
    ),
    rawCase(
      'absolute-form target on another host',
      `POST http://evil.example/sync-token HTTP/1.1\r\nHost: evil.example\r\n${form}${len}Connection: close\r\n\r\n${body}`,
      ['CREDENTIALS_MISSING'],
      [400, 404],
    ),
    rawCase(
      'HTTP/1.0 without Host',
      `POST /sync-token HTTP/1.0\r\n${form}${len}\r\n${body}`,
      ['CREDENTIALS_MISSING'],
      [400],
    ),
    rawCase('lower-case method', `post /sync-token HTTP/1.1\r\n${host}${form}${len}Connection: close\r\n\r\n${body}`),
    rawCase(
      'header without a colon',
      `POST /sync-token HTTP/1.1\r\n${host}${form}X-Broken\r\n${len}Connection: close\r\n\r\n${body}`,
    ),
    rawCase(
      'space before the colon',
      `POST /sync-token HTTP/1.1\r\n${host}${form}X-Twilio-Signature : forged\r\n${len}Connection: close\r\n\r\n${body}`,
    ),
    rawCase(
      'obs-fold continuation',
      `POST /sync-token HTTP/1.1\r\n${host}${form}X-Twilio-Signature: a\r\n b\r\n${len}Connection: close\r\n\r\n${body}`,
    ),
    rawCase(
      'bare LF line endings',
      `POST /sync-token HTTP/1.1\n${host.trim()}\n${form.trim()}\n${len.trim()}\nConnection: close\n\n${body}`,
      ['*'],
      [400],
    ),
    rawCase(
      'chunked body with a bad chunk size',
      `POST /sync-token HTTP/1.1\r\n${host}${form}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`,
    ),
    rawCase(
      'chunked body, well formed',
      `POST /sync-token HTTP/1.1\r\n${host}${form}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      ['CREDENTIALS_MISSING'],
      [],
    ),
    rawCase(
      'request line with a tab',
      `POST\t/sync-token HTTP/1.1\r\n${host}${form}${len}Connection: close\r\n\r\n${body}`,
    ),
    rawCase(
      'NUL in the target',
      `POST /sync-token\0x HTTP/1.1\r\n${host}${form}${len}Connection: close\r\n\r\n${body}`,
    ),
    rawCase(
      'unknown HTTP version',
      `POST /sync-token HTTP/9.9\r\n${host}${form}${len}Connection: close\r\n\r\n${body}`,
      ['*'],
      [400, 505],
    ),
  );
}

/** Methods and paths. */
function methodsAndPaths(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  const forged = forgedToken(ctx.pools).filter(wellShapedToken);
  return fc.oneof(
    fc
      .tuple(
        fc.constantFrom('GET', 'HEAD', 'DELETE', 'TRACE'),
        fc.constantFrom('', '?Identity=admin', '?Ttl=3600', '?request[headers][content-type]=application/json'),
      )
      .map(([method, query]) => ({
        endpoint: 'sync-token' as const,
        category: 'methods and paths',
        label: `${method} without a body${query ? ' + query' : ''}`,
        request: { method, target: `/sync-token${query}`, headers: [] },
        // The query override supplies a Content-Type header the socket never sent: then the request counts as a POST.
        codes: query.startsWith('?request') ? ['CREDENTIALS_MISSING'] : ['METHOD_NOT_ALLOWED'],
      })),
    fc.tuple(forged, fc.constantFrom('PUT', 'PATCH', 'DELETE')).map(([t, method]) => {
      const c = build(ctx, { category: 'methods and paths', label: '', params: { Token: t }, encoding: 'json' });
      return { ...c, label: `${method} with a JSON body`, request: { ...c.request, method } };
    }),
    fc.constant({
      endpoint: 'sync-token' as const,
      category: 'methods and paths',
      label: 'OPTIONS preflight',
      request: {
        method: 'OPTIONS',
        target: '/sync-token',
        headers: [
          ['Origin', 'https://evil.example'],
          ['Access-Control-Request-Method', 'POST'],
        ] as Array<[string, string]>,
      },
      codes: [],
      runtime: [204],
    }),
    fc
      .tuple(
        forged,
        fc.constantFrom(
          '/sync-token/',
          '/Sync-Token',
          '/sync-token%2f',
          '//sync-token',
          '/sync-token;a=b',
          '/sync-token/../sync-token',
          '/./sync-token',
          '/sync-token.js',
          '/sync%2Dtoken',
          '/sync-token%00',
        ),
      )
      .map(([t, path]) => {
        const c = build(ctx, { category: 'methods and paths', label: '', params: { Token: t }, encoding: 'form' });
        return {
          ...c,
          label: `path ${path}`,
          request: { ...c.request, target: path },
          codes: ['FLEX_TOKEN_INVALID'],
          runtime: [400, 404],
        };
      }),
  );
}

/**
 * The runtime merges the body and query over `event.request` (the headers), so a client can replace the headers the
 * function sees. Whatever it puts there, the answer must stay a documented refusal (never a 5xx).
 */
function requestOverride(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  const forged = forgedToken(ctx.pools).filter(wellShapedToken);
  const weird = fc.oneof(
    fc.constantFrom<unknown>(
      null,
      1,
      true,
      [],
      {},
      { toString: 'x' },
      { valueOf: 1, toString: 2 },
      [{ toString: 1 }],
      ['a', { b: 1 }],
      'x'.repeat(10_000),
    ),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const json = (label: string, body: Record<string, unknown>, codes: readonly string[], query = ''): HostileCase => ({
    endpoint: 'sync-token',
    category: 'request-override (event.request)',
    label,
    request: {
      method: 'POST',
      target: `/sync-token${query}`,
      headers: [['Content-Type', 'application/json']],
      body: Buffer.from(JSON.stringify(body)),
    },
    codes,
    wellShaped: wellShapedToken(body.Token) ? [body.Token] : [],
    sent: typeof body.Token === 'string' && body.Token.length >= 20 ? [body.Token] : [],
  });
  return fc.oneof(
    fc.tuple(forged, weird).map(([t, w]) => json('request replaced by a JSON value', { Token: t, request: w }, ['*'])),
    fc
      .tuple(
        forged,
        fc.dictionary(
          fc.constantFrom(
            'content-type',
            'origin',
            'x-twilio-signature',
            'x-request-id',
            'x-twilio-webhooks-signature-settings',
            'x',
          ),
          weird,
          { maxKeys: 4 },
        ),
      )
      .map(([t, headers]) => json('request.headers with odd values', { Token: t, request: { headers } }, ['*'])),
    fc
      .tuple(forged, evilOrigin)
      .map(([t, origin]) =>
        json(
          'spoofed Origin via body',
          { Token: t, request: { headers: { 'content-type': 'application/json', origin } } },
          ['ORIGIN_NOT_ALLOWED'],
        ),
      ),
    fc
      .tuple(
        fc.constantFrom('application/x-www-form-urlencoded', 'text/plain', 'application/json'),
        weird,
        fc.constantFrom('Identity', 'Ttl', 'Extra', 'Token'),
      )
      .map(([type, value, key]) => {
        // A signature header smuggled in through the body, over parameters the function cannot stringify.
        const params: Record<string, unknown> = {
          [key]: value,
          request: { headers: { 'content-type': type, 'x-twilio-signature': 'Zm9yZ2Vk' } },
        };
        const code =
          key === 'Ttl' && ttlCode(value) !== undefined
            ? ttlCode(value)!
            : key === 'Token' && value !== null && value !== '' && value !== undefined
              ? typeof value === 'string'
                ? 'FLEX_TOKEN_INVALID'
                : 'INVALID_REQUEST'
              : 'SIGNATURE_INVALID';
        return json(`smuggled signature header, ${key} = ${JSON.stringify(value)?.slice(0, 30)} (as ${type})`, params, [
          code,
        ]);
      }),
    fc.tuple(forged).map(([t]) => ({
      ...json(
        'headers replaced through the query string',
        { Token: t },
        ['FLEX_TOKEN_INVALID', 'METHOD_NOT_ALLOWED'],
        '?request[headers][x-request-id]=q&request[cookies][a]=b',
      ),
    })),
    fc.constant(
      json(
        'signature smuggled through the query string',
        { Identity: 'admin' },
        ['SIGNATURE_INVALID'],
        '?request[headers][content-type]=application/json&request[headers][x-twilio-signature]=Zm9yZ2Vk',
      ),
    ),
  );
}

/** Requests to /sync-recent-calls that must not run the job. */
export function jobEndpointCases(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  const url = publicUrl(ctx, '/sync-recent-calls');
  const params = fc.oneof(
    fc.constant({ Invocation: '1' }),
    junkParams.map((j) => ({ ...j, Invocation: '2' })),
  );
  const job = (label: string, request: RawRequest, codes: readonly string[], runtime?: number[]): HostileCase => ({
    endpoint: 'sync-recent-calls',
    category: 'job endpoint',
    label,
    request,
    codes,
    runtime,
  });
  const form = (
    p: Record<string, string>,
    headers: Array<[string, string]>,
    target = '/sync-recent-calls',
  ): RawRequest => ({
    method: 'POST',
    target,
    headers: [['Content-Type', 'application/x-www-form-urlencoded'], ...headers],
    body: Buffer.from(formBody(p)),
  });
  return fc.oneof(
    params.map((p) => job('unsigned', form(p, []), ['SIGNATURE_MISSING'])),
    fc
      .tuple(
        params,
        b64(1, 40).filter((s) => s.trim() !== ''),
      )
      .map(([p, sig]) => job('garbage signature', form(p, [['X-Twilio-Signature', sig]]), ['SIGNATURE_INVALID'])),
    params.map((p) =>
      job('signed for /sync-token', form(p, [['X-Twilio-Signature', sign(ctx.authToken, publicUrl(ctx), p)]]), [
        'SIGNATURE_INVALID',
      ]),
    ),
    fc
      .tuple(
        params,
        fc.constantFrom(ctx.apiSecret, ctx.accountSid, createHash('md5').update(ctx.apiSecret).digest('hex')),
      )
      .map(([p, key]) =>
        job('signed with a wrong key', form(p, [['X-Twilio-Signature', sign(key, url, p)]]), ['SIGNATURE_INVALID']),
      ),
    params.map((p) =>
      job(
        'tampered after signing',
        form({ ...p, Invocation: '999' }, [['X-Twilio-Signature', sign(ctx.authToken, url, p)]]),
        ['SIGNATURE_INVALID'],
      ),
    ),
    params.map((p) =>
      job(
        'signed, sent with a query string',
        form(p, [['X-Twilio-Signature', sign(ctx.authToken, url, p)]], '/sync-recent-calls?force=1'),
        ['SIGNATURE_INVALID'],
      ),
    ),
    fc
      .constantFrom('GET', 'DELETE')
      .map((method) =>
        job(`${method} without a body`, { method, target: '/sync-recent-calls', headers: [] }, ['METHOD_NOT_ALLOWED']),
      ),
    fc.constantFrom<unknown>({ toString: 1 }, [{ toString: 1 }], { valueOf: 1, toString: 1 }).map((value) =>
      job(
        'smuggled signature header over an unstringifiable parameter',
        {
          method: 'POST',
          target: '/sync-recent-calls',
          headers: [['Content-Type', 'application/json']],
          body: Buffer.from(
            JSON.stringify({
              Invocation: value,
              request: {
                headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'Zm9yZ2Vk' },
              },
            }),
          ),
        },
        ['SIGNATURE_INVALID'],
      ),
    ),
    fc.constant(
      job(
        'JSON body, hash not signed',
        {
          method: 'POST',
          target: `/sync-recent-calls?bodySHA256=${createHash('sha256').update('{}').digest('hex')}`,
          headers: [
            ['Content-Type', 'application/json'],
            ['X-Twilio-Signature', createHmac('sha1', ctx.authToken).update(url).digest('base64')],
          ],
          body: Buffer.from('{}'),
        },
        ['SIGNATURE_INVALID'],
      ),
    ),
    fc.constant(
      job(
        'truncated JSON',
        {
          method: 'POST',
          target: '/sync-recent-calls',
          headers: [['Content-Type', 'application/json']],
          body: Buffer.from('{"Invocation":'),
        },
        [],
        [400],
      ),
    ),
  );
}

/** Every /sync-token category with its weight (the share of generated cases). */
export function tokenEndpointCases(ctx: CaseContext): fc.Arbitrary<HostileCase> {
  return (
    fc
      .oneof(
        { weight: 20, arbitrary: forgedTokens(ctx) },
        { weight: 8, arbitrary: expiredAndGuest(ctx) },
        { weight: 10, arbitrary: misplacedValid(ctx) },
        { weight: 16, arbitrary: badSignatures(ctx) },
        { weight: 8, arbitrary: identitySpoofing(ctx) },
        { weight: 9, arbitrary: malformedBodies(ctx) },
        { weight: 5, arbitrary: contentTypes(ctx) },
        { weight: 5, arbitrary: invalidUtf8(ctx) },
        { weight: 8, arbitrary: headerGames(ctx) },
        { weight: 2, arbitrary: rawProtocol(ctx) },
        { weight: 4, arbitrary: methodsAndPaths(ctx) },
        { weight: 5, arbitrary: requestOverride(ctx) },
      )
      // A safety net: a case the model says would earn a token is not a hostile case.
      .filter((c) => !c.codes.includes('ISSUE'))
  );
}
