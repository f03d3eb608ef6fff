/** The cache entry checks at their edges: what the server may answer, what storage may hold, the margin's bounds. */
import {
  decodeEntry,
  fingerprint,
  encodeEntry,
  isFresh,
  makeEntry,
  marginMs,
  readTokenResult,
} from '../../../src/client/token-cache';
import { T0 } from './fakes';

const body = {
  token: 'jwt',
  identity: 'alice',
  ttl: 3600,
  expiresAt: new Date(T0 + 3600_000).toISOString(),
  serviceSid: 'IS1',
};

describe('readTokenResult', () => {
  it('takes a /sync-token success body, and only its fields', () => {
    expect(readTokenResult({ ...body, extra: 'ignored' })).toEqual(body);
  });

  it.each([
    ['null', null],
    ['a string', 'jwt'],
    ['an array', [body]],
    ['an empty token', { ...body, token: '' }],
    ['no identity', { ...body, identity: undefined }],
    ['an empty serviceSid', { ...body, serviceSid: '' }],
    ['a ttl of 0', { ...body, ttl: 0 }],
    ['a negative ttl', { ...body, ttl: -1 }],
    ['an infinite ttl', { ...body, ttl: Number.POSITIVE_INFINITY }],
    ['a ttl as text', { ...body, ttl: '3600' }],
    ['an unreadable expiresAt', { ...body, expiresAt: 'tomorrow' }],
    ['an empty expiresAt', { ...body, expiresAt: '' }],
  ])('refuses %s', (_name, value) => {
    expect(readTokenResult(value)).toBeUndefined();
  });

  it('accepts the smallest positive ttl', () => {
    expect(readTokenResult({ ...body, ttl: 1 })?.ttl).toBe(1);
  });
});

describe('stored entries', () => {
  const entry = makeEntry('e', 'u', T0, body);
  const stored = (changes: Record<string, unknown>) =>
    JSON.stringify({ ...JSON.parse(encodeEntry(entry)), ...changes });

  it('come back equal, with an expiry of fetch time + ttl', () => {
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    expect(entry).toMatchObject({ v: 1, endpoint: 'e', user: 'u', obtainedAtMs: T0, expiresAtMs: T0 + 3600_000 });
  });

  it.each([
    ['no text', null],
    ['JSON null', 'null'],
    ['another format version', stored({ v: 2 })],
    ['a numeric endpoint', stored({ endpoint: 1 })],
    ['no user', stored({ user: undefined })],
    ['an infinite fetch time', stored({ obtainedAtMs: null })],
    // true + 3600000 would equal a numeric expiry: the type check refuses it, not the expiry check.
    ['a boolean fetch time', stored({ obtainedAtMs: true, expiresAtMs: 1 + 3600_000 })],
    ['a JSON array', '[1]'],
    ['JSON text that is not an object', '"entry"'],
    ['a text expiry', stored({ expiresAtMs: String(T0 + 3600_000) })],
    ['an expiry that is not fetch time + ttl', stored({ expiresAtMs: T0 + 3600_001 })],
    ['a result without a token', stored({ result: { ...body, token: '' } })],
    ['a result with a ttl of 0', stored({ result: { ...body, ttl: 0 }, expiresAtMs: T0 })],
  ])('are refused with %s', (_name, text) => {
    expect(decodeEntry(text)).toBeUndefined();
  });
});

describe('freshness and the margin', () => {
  it('is fresh from the fetch instant itself', () => {
    const entry = makeEntry('e', 'u', T0, body);
    expect(isFresh(entry, T0)).toBe(true);
    expect(isFresh(entry, Number.POSITIVE_INFINITY)).toBe(false);
  });

  it('uses a configured margin instead of the default', () => {
    const entry = makeEntry('e', 'u', T0, body);
    expect(isFresh(entry, T0 + 3600_000 - 60_001, 60)).toBe(true);
    expect(isFresh(entry, T0 + 3600_000 - 60_000, 60)).toBe(false);
  });

  it('switches from the 300 s floor to 10 % of the lifetime at 3000 s', () => {
    expect(marginMs(3000)).toBe(300_000);
    expect(marginMs(3010)).toBe(301_000);
    expect(marginMs(2990)).toBe(300_000);
    expect(marginMs(600)).toBe(300_000); // half the lifetime
    expect(marginMs(590)).toBe(295_000);
  });
});

describe('fingerprint', () => {
  it('is cyrb53 (53 bits, base 36): the published test vectors', () => {
    // The vectors published with cyrb53 (seed 0).
    expect(parseInt(fingerprint('a'), 36)).toBe(7929297801672961);
    expect(parseInt(fingerprint('b'), 36)).toBe(8684336938537663);
    expect(parseInt(fingerprint('revenge'), 36)).toBe(4051478007546757);
    expect(parseInt(fingerprint('revenue'), 36)).toBe(8309097637345594);
  });
});
