/**
 * The one table from errors to HTTP answers: each domain error type gets its registry code and status, its own
 * message (unless the table writes one) and the headers it needs; every registry code is answered by some error, so
 * the registry holds no unused entry.
 */
import twilio from 'twilio';
import {
  BasicCredentialsRejected,
  CredentialsMissing,
  FlexTokenRejected,
  FlexUserNotAllowed,
  SignatureRejected,
} from '../../../src/auth/errors';
import { ConfigError } from '../../../src/config/errors';
import { ERROR_CODES, type ErrorCode } from '../../../src/http/error-codes';
import { describeError, toErrorResponse } from '../../../src/http/error-response';
import { HttpError } from '../../../src/http/errors';
import { InvalidParameter, InvalidRequest } from '../../../src/params/errors';
import { MapReadOutOfTime, TokenInParameters, WorkerNotAllowed } from '../../../src/recent-calls/read-errors';
import { FlexIdentityRejected } from '../../../src/tokens/errors';

const cases: Array<[string, unknown, ErrorCode, number]> = [
  ['a bad request shape', new InvalidRequest('too deep'), 'INVALID_REQUEST', 400],
  [
    'a parameter without a code of its own',
    new InvalidParameter('Token', 'Token must be a string'),
    'INVALID_REQUEST',
    400,
  ],
  ['a malformed Ttl', new InvalidParameter('Ttl', 'x'), 'TTL_INVALID', 400],
  ['a Ttl out of range', new InvalidParameter('Ttl', 'x', 'out-of-range'), 'TTL_OUT_OF_RANGE', 400],
  ['a bad Identity', new InvalidParameter('Identity', 'x'), 'IDENTITY_INVALID', 400],
  ['a bad PageSize', new InvalidParameter('PageSize', 'x', 'out-of-range'), 'PAGE_SIZE_INVALID', 400],
  ['a bad PageToken', new InvalidParameter('PageToken', 'x'), 'PAGE_TOKEN_INVALID', 400],
  ['a bad WorkerSid', new InvalidParameter('WorkerSid', 'x'), 'WORKER_SID_INVALID', 400],
  ['a bad ShardIndex / ShardCount', new InvalidParameter('ShardCount', 'x'), 'SHARD_INVALID', 400],
  ['a Token parameter to /recent-calls', new TokenInParameters('x'), 'TOKEN_IN_URL', 400],
  ['no credentials', new CredentialsMissing('x'), 'CREDENTIALS_MISSING', 401],
  ['no Basic credentials', new BasicCredentialsRejected('missing', 'r', 'x'), 'CREDENTIALS_MISSING', 401],
  ['wrong Basic credentials', new BasicCredentialsRejected('invalid', 'r', 'x'), 'CREDENTIALS_INVALID', 401],
  ['a malformed Flex token', new FlexTokenRejected('malformed', 'x'), 'FLEX_TOKEN_INVALID', 401],
  ['an unknown Flex token', new FlexTokenRejected('invalid', 'x'), 'FLEX_TOKEN_INVALID', 401],
  ['an expired Flex token', new FlexTokenRejected('expired', 'x'), 'FLEX_TOKEN_EXPIRED', 401],
  ['no signature', new SignatureRejected('missing', 'x'), 'SIGNATURE_MISSING', 401],
  ['a bad signature', new SignatureRejected('invalid', 'x'), 'SIGNATURE_INVALID', 401],
  [
    'an identity IAM named that cannot go in a token',
    new FlexIdentityRejected('is required', 'x'),
    'FLEX_IDENTITY_INVALID',
    403,
  ],
  ['a guest', new FlexUserNotAllowed('guest', 'x'), 'GUEST_NOT_ALLOWED', 403],
  ['no allowed role', new FlexUserNotAllowed('role', 'x'), 'ROLE_NOT_ALLOWED', 403],
  ["another agent's calls", new WorkerNotAllowed('x'), 'WORKER_NOT_ALLOWED', 403],
  ['an origin outside the list', new HttpError('ORIGIN_NOT_ALLOWED', 'x'), 'ORIGIN_NOT_ALLOWED', 403],
  ['a method the function does not take', new HttpError('METHOD_NOT_ALLOWED', 'x'), 'METHOD_NOT_ALLOWED', 405],
  ['a bad setting', new ConfigError('SYNC_TOKEN_TTL', 'is not set'), 'CONFIG_INVALID', 500],
  ['a bug', new TypeError('x'), 'INTERNAL', 500],
  [
    'Twilio throttling after retries',
    new twilio.RestException({ statusCode: 429, body: {} }),
    'UPSTREAM_UNAVAILABLE',
    503,
  ],
  ['a map read out of time', new MapReadOutOfTime(3), 'UPSTREAM_UNAVAILABLE', 503],
];

describe('describeError', () => {
  it.each(cases)('%s', (_name, error, code, status) => {
    expect(describeError(error)).toMatchObject({ code, status });
    expect(ERROR_CODES[code]).toBe(status);
  });

  it('answers every code of the registry for some error: no unused entry', () => {
    const answered = new Set(cases.map(([, error]) => describeError(error).code));
    expect([...answered].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it("keeps the domain's message; writes its own for configuration, upstream failures and bugs", () => {
    expect(describeError(new InvalidParameter('PageSize', 'PageSize must be a whole number')).message).toBe(
      'PageSize must be a whole number',
    );
    expect(describeError(new MapReadOutOfTime(3)).message).toBe('Reading the map took too long (3 pages)');
    expect(describeError(new ConfigError('API_KEY', 'is not set')).message).toBe(
      'Server misconfigured: API_KEY is not set',
    );
    expect(describeError(new TypeError('secret stack detail')).message).not.toContain('secret');
    const upstream = describeError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(upstream).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringMatching(/Twilio/) });
  });

  it('adds Retry-After to 503s, the Basic challenge to Basic refusals, and what an edge refusal names', () => {
    expect(describeError(new MapReadOutOfTime(1)).headers).toEqual({ 'Retry-After': '5' });
    expect(describeError(new twilio.RestException({ statusCode: 503, body: {} })).headers).toEqual({
      'Retry-After': '5',
    });
    expect(describeError(new BasicCredentialsRejected('missing', 'taskrouter-events', 'x')).headers).toEqual({
      'WWW-Authenticate': 'Basic realm="taskrouter-events", charset="UTF-8"',
    });
    expect(describeError(new HttpError('METHOD_NOT_ALLOWED', 'x', { Allow: 'POST, OPTIONS' })).headers).toEqual({
      Allow: 'POST, OPTIONS',
    });
    expect(describeError(new SignatureRejected('invalid', 'x')).headers).toEqual({});
  });

  it('a Twilio 4xx that is not a throttle is a bug of ours, not an upstream failure', () => {
    expect(describeError(new twilio.RestException({ statusCode: 400, body: { code: 21211 } })).code).toBe('INTERNAL');
  });
});

describe('toErrorResponse', () => {
  it('builds the one body shape with the request id', () => {
    const { status, body, extraHeaders } = toErrorResponse(new WorkerNotAllowed('Only supervisors'), 'req-1');
    expect(status).toBe(403);
    expect(body).toEqual({ code: 'WORKER_NOT_ALLOWED', message: 'Only supervisors', status: 403, requestId: 'req-1' });
    expect(extraHeaders).toEqual({});
  });
});
