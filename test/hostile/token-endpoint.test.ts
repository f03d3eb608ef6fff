/**
 * Hostile input against /sync-token (and the signature gate of /sync-recent-calls): thousands of generated bad
 * requests (fast-check, fixed seed: HOSTILE_SEED=<seed> replays a run) sent as raw bytes to the built functions under
 * twilio-run, IAM and credentials from the emulator (random auth token and API secret, so a leak cannot hide).
 *
 * Asserted for every answer: no token and no JWT, no 5xx, and when the function answered, a JSON error
 * {code, message, status, requestId} with the documented code for that request; when twilio-run / node answered
 * before the function could (body-parser's 400 / 413 / 415, node's 400 / 431, the runtime's 404 and OPTIONS 204),
 * a status the case allows, counted apart. No auth token, API secret or Flex token (valid, expired, guest or
 * forged) in any answer or in any line the functions process printed. IAM calls stay bounded by the distinct
 * well-shaped tokens sent (malformed ones never reach IAM; repeated ones hit the validation cache).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import twilio from 'twilio';
import { startSystem, type System } from '../helpers/system';
import { writeFailures, writeFigures, suiteSeed, type FigureRow, type FigureSection } from './support/figures';
import { pool, send, serialise, type RawRequest } from './support/raw-http';
import { SecretIndex } from './support/secrets';
import {
  formBody,
  jobEndpointCases,
  publicUrl,
  tokenEndpointCases,
  wellShapedToken,
  type CaseContext,
  type HostileCase,
} from './support/token-cases';
import { judge, type Verdict } from './support/verdict';

const SEED = suiteSeed();
const TOKEN_CASES = Number(process.env.HOSTILE_TOKEN_CASES || 6000);
const JOB_CASES = Number(process.env.HOSTILE_JOB_CASES || 300);
const CONCURRENCY = 8;
const IAM_ROUTE = 'POST /v1/Accounts/:AccountSid/Tokens/validate';
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const workerSid = () => `WK${hex(16)}`;

let system: System;
let ctx: CaseContext;
const secrets = new SecretIndex();
const sections: FigureSection[] = [];
const issuedControlTokens: string[] = [];

interface Tally {
  tried: number;
  correct: number;
  tokens: number;
  fiveXX: number;
  nonJson: number;
  runtime: Record<string, number>;
  noAnswer: number;
  secrets: number;
  byCategory: Record<string, { tried: number; correct: number }>;
  byCode: Record<string, number>;
  failures: string[];
  /** The failing requests as sent (start), for test-artifacts/hostile/*-failures.txt. */
  details: string[];
  ms: number;
}

function tally(cases: readonly HostileCase[], verdicts: readonly Verdict[], ms: number): Tally {
  const t: Tally = {
    tried: 0,
    correct: 0,
    tokens: 0,
    fiveXX: 0,
    nonJson: 0,
    runtime: {},
    noAnswer: 0,
    secrets: 0,
    byCategory: {},
    byCode: {},
    failures: [],
    details: [],
    ms,
  };
  verdicts.forEach((v, i) => {
    const c = cases[i];
    const cat = (t.byCategory[c.category] ??= { tried: 0, correct: 0 });
    t.tried += 1;
    cat.tried += 1;
    if (v.tokenIssued) t.tokens += 1;
    if (v.status >= 500) t.fiveXX += 1;
    if (v.nonJson && v.kind === 'function') t.nonJson += 1;
    if (v.kind === 'runtime') t.runtime[v.status] = (t.runtime[v.status] ?? 0) + 1;
    if (v.kind === 'no-answer') t.noAnswer += 1;
    if (v.secrets.length > 0) t.secrets += 1;
    if (v.code) t.byCode[v.code] = (t.byCode[v.code] ?? 0) + 1;
    if (v.problems.length === 0) {
      t.correct += 1;
      cat.correct += 1;
    } else {
      t.failures.push(
        `#${i} [${c.category}] ${c.label.slice(0, 100)} → ${v.kind} ${v.status}${v.code ? ` ${v.code}` : ''}: ${v.problems.join('; ')}`,
      );
      t.details.push(
        `#${i} ${JSON.stringify(serialise(0, c.request).toString('latin1').slice(0, 1500))}\n  → ${v.problems.join('; ')}`,
      );
    }
  });
  return t;
}

function tallyRows(t: Tally): FigureRow[] {
  const runtimeTotal = Object.values(t.runtime).reduce((a, b) => a + b, 0);
  const runtimeDetail = Object.entries(t.runtime)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  return [
    { label: 'cases tried', value: t.tried },
    { label: 'rejected correctly', value: t.correct, expect: String(t.tried), ok: t.correct === t.tried },
    { label: 'tokens issued', value: t.tokens, expect: '0', ok: t.tokens === 0 },
    { label: '5xx answers', value: t.fiveXX, expect: '0', ok: t.fiveXX === 0 },
    { label: 'non-JSON answers from the function', value: t.nonJson, expect: '0', ok: t.nonJson === 0 },
    {
      label: 'answered by twilio-run/node first (4xx)',
      value: `${runtimeTotal}${runtimeDetail ? ` (${runtimeDetail})` : ''}`,
    },
    { label: 'no answer (connection dropped)', value: t.noAnswer, expect: '0', ok: t.noAnswer === 0 },
    { label: 'secrets found in answers', value: t.secrets, expect: '0', ok: t.secrets === 0 },
  ];
}

async function attack(name: string, cases: readonly HostileCase[]): Promise<Tally> {
  for (const c of cases) for (const s of c.sent ?? []) secrets.add(s, 'a Flex token or token-like value sent');
  const started = performance.now();
  const verdicts = await pool(cases, CONCURRENCY, async (c) =>
    judge(c, await send(system.functions.port, c.request), secrets),
  );
  const t = tally(cases, verdicts, performance.now() - started);
  if (t.details.length > 0) writeFailures(name, [`seed ${SEED} (HOSTILE_SEED=${SEED} replays it)`, ...t.details]);
  return t;
}

async function iamCalls(): Promise<number> {
  return system.emulator.stats.toJSON().byRoute[IAM_ROUTE] ?? 0; // in-process: no socket to the emulator to race
}

/** Cases that once broke the function, always sent whatever the seed. */
function regressionCases(): HostileCase[] {
  const json = (
    label: string,
    body: unknown,
    codes: string[],
    endpoint: HostileCase['endpoint'] = 'sync-token',
  ): HostileCase => ({
    endpoint,
    category: 'regressions',
    label,
    request: {
      method: 'POST',
      target: `/${endpoint}`,
      headers: [['Content-Type', 'application/json']],
      body: Buffer.from(JSON.stringify(body)),
    },
    codes,
  });
  const smuggle = (type: string) => ({ headers: { 'content-type': type, 'x-twilio-signature': 'Zm9yZ2Vk' } });
  return [
    // Crashed the whole twilio-run process (TypeError outside the wrapper's try).
    json('request.headers value with a toString key', { request: { headers: { x: { toString: 'a' } } } }, [
      'METHOD_NOT_ALLOWED',
    ]),
    json(
      'request.headers content-type object',
      { Token: 'x', request: { headers: { 'content-type': { toString: 1 } } } },
      ['METHOD_NOT_ALLOWED'],
    ),
    // Answered 500 INTERNAL: the signature check String()s every parameter.
    json(
      'smuggled form signature, Identity with toString',
      { Identity: { toString: 1 }, request: smuggle('application/x-www-form-urlencoded') },
      ['SIGNATURE_INVALID'],
    ),
    json(
      'smuggled form signature, Identity array of toString',
      { Identity: [{ toString: 1 }], request: smuggle('text/plain') },
      ['SIGNATURE_INVALID'],
    ),
    json(
      'smuggled form signature, extra param with valueOf/toString',
      { Identity: 'svc', Extra: { valueOf: 1, toString: 1 }, request: smuggle('x') },
      ['SIGNATURE_INVALID'],
    ),
    json(
      'job: smuggled form signature, Invocation with toString',
      { Invocation: { toString: 1 }, request: smuggle('application/x-www-form-urlencoded') },
      ['SIGNATURE_INVALID'],
      'sync-recent-calls',
    ),
  ];
}

beforeAll(async () => {
  system = await startSystem({ emulator: { authToken: hex(16), apiSecret: `secret-${hex(16)}` } });
  const { config } = system.emulator;
  const mint = async (identity: string, roles: string[], worker: string | null, ttlSeconds: number) => {
    const { token } = await system.admin.flexToken({ identity, roles, workerSid: worker, ttlSeconds });
    secrets.add(token, `Flex token of ${identity}`, { exact: true });
    return token;
  };
  const pools = {
    valid: await Promise.all([
      mint('alice_40example_2Ecom', ['agent'], workerSid(), 7200),
      mint('bob_40example_2Ecom', ['agent'], workerSid(), 7200),
      mint('sup_40example_2Ecom', ['supervisor'], workerSid(), 7200),
      mint('adm_40example_2Ecom', ['admin', 'agent'], workerSid(), 7200),
    ]),
    expired: await Promise.all([
      mint('carol_40example_2Ecom', ['agent'], workerSid(), -10),
      mint('dave_40example_2Ecom', ['agent'], workerSid(), -3600),
      mint('sup2_40example_2Ecom', ['supervisor'], workerSid(), -1),
      mint('guest-old', ['guest'], null, -10),
      mint('alice_40example_2Ecom', ['agent'], workerSid(), -86_400),
    ]),
    guest: await Promise.all([
      mint('guest-1', ['guest'], null, 7200),
      mint('guest-2', ['guest'], null, 7200),
      mint('frank_40example_2Ecom', ['agent'], null, 7200),
      mint('grace_40example_2Ecom', ['guest'], workerSid(), 7200),
      mint('heidi_40example_2Ecom', [], null, 7200),
      mint('alice_40example_2Ecom', ['guest'], 'WKnot-a-worker-sid', 7200),
    ]),
  };
  secrets.add(config.authToken, 'AUTH_TOKEN', { exact: true });
  secrets.add(config.apiSecret, 'API_SECRET', { exact: true });
  ctx = {
    port: system.functions.port,
    authToken: config.authToken,
    apiSecret: config.apiSecret,
    accountSid: config.accountSid,
    pools,
  };
  process.stdout.write(`\n[hostile] /sync-token attack: seed ${SEED} (replay with HOSTILE_SEED=${SEED})\n`);
}, 60_000);

afterAll(async () => {
  writeFigures('token-endpoint', sections);
  await system?.stop();
});

describe('/sync-token under hostile input', () => {
  it(`refuses ${TOKEN_CASES} generated hostile requests: no token, no 5xx, documented JSON errors, no secret`, async () => {
    const cases = [
      ...fc.sample(tokenEndpointCases(ctx), { seed: SEED, numRuns: TOKEN_CASES }),
      ...regressionCases().filter((c) => c.endpoint === 'sync-token'),
    ];
    const shaped = new Set(cases.flatMap((c) => c.wellShaped ?? []).filter(wellShapedToken));
    const iamBefore = await iamCalls();
    const t = await attack('token-endpoint', cases);
    const iam = (await iamCalls()) - iamBefore;

    const categories = Object.entries(t.byCategory)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, c]) => ({ label: `  ${name}`, value: `${c.correct} / ${c.tried}`, ok: c.correct === c.tried }));
    sections.push({
      title: `/sync-token: generated hostile requests (seed ${SEED})`,
      rows: [
        ...tallyRows(t),
        {
          label: 'IAM validate calls',
          value: iam,
          expect: `<= ${shaped.size} distinct well-shaped tokens`,
          ok: iam <= shaped.size,
        },
        { label: 'time', value: `${(t.ms / 1000).toFixed(1)} s at ${CONCURRENCY} in flight` },
        { label: 'by category (correct / tried)', value: '' },
        ...categories,
      ],
      notes: [
        'Answers from twilio-run/express/node before the function runs (unparseable JSON, refused charset or encoding, too many',
        'form fields, oversized headers, malformed HTTP, unknown paths, OPTIONS) are counted apart: each must be a status the',
        'case allows (4xx, or 204 for OPTIONS), with no token and no secret. In development twilio-run answers them with an',
        'HTML page that includes a stack trace (file paths only).',
        `Function codes seen: ${Object.entries(t.byCode)
          .sort(([, a], [, b]) => b - a)
          .map(([code, n]) => `${code} ${n}`)
          .join(', ')}`,
      ],
    });

    expect(
      t.failures.length === 0
        ? []
        : [
            `seed ${SEED} (HOSTILE_SEED=${SEED} to replay): ${t.failures.length} wrong answers`,
            ...t.failures.slice(0, 25),
          ],
    ).toEqual([]);
    expect(t.tried).toBeGreaterThanOrEqual(5000);
    expect(t.tokens).toBe(0);
    expect(t.fiveXX).toBe(0);
    expect(iam).toBeLessThanOrEqual(shaped.size);
  });

  it('a Flex token validated while valid is refused once it has expired (the cache never outlives the token)', async () => {
    const { token } = await system.admin.flexToken({
      identity: 'ivan_40example_2Ecom',
      roles: ['agent'],
      workerSid: workerSid(),
      ttlSeconds: 3,
    });
    secrets.add(token, 'Flex token of ivan', { exact: true });
    const request = (): RawRequest => ({
      method: 'POST',
      target: '/sync-token',
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: Buffer.from(formBody({ Token: token })),
    });
    const first = await send(system.functions.port, request());
    expect(first.ok && first.response.status).toBe(200);
    if (first.ok) issuedControlTokens.push(JSON.parse(first.response.body.toString()).token);
    await new Promise((resolve) => setTimeout(resolve, 3600));
    const cases: HostileCase[] = Array.from({ length: 20 }, () => ({
      endpoint: 'sync-token',
      category: 'expired after validation',
      label: 'token used after it expired',
      request: request(),
      codes: ['FLEX_TOKEN_EXPIRED'],
    }));
    const t = await attack('token-expiry', cases);
    sections.push({
      title: '/sync-token: a validated token used after its expiry (20 concurrent)',
      rows: tallyRows(t).slice(0, 4),
    });
    expect(t.failures).toEqual([]);
  });

  it(`refuses ${JOB_CASES} hostile requests to /sync-recent-calls without running the job`, async () => {
    const cases = [
      ...fc.sample(jobEndpointCases(ctx), { seed: SEED + 1, numRuns: JOB_CASES }),
      ...regressionCases().filter((c) => c.endpoint === 'sync-recent-calls'),
    ];
    const before = system.emulator.stats.toJSON();
    const t = await attack('job-endpoint', cases);
    const after = system.emulator.stats.toJSON();
    const service = system.emulator.state.sync.services.get(system.emulator.config.syncServiceSid)!;
    const jobRequests =
      (after.byFamily.sync ?? 0) -
      (before.byFamily.sync ?? 0) +
      (after.byFamily.taskrouter ?? 0) -
      (before.byFamily.taskrouter ?? 0);
    sections.push({
      title: '/sync-recent-calls: hostile requests (signature gate)',
      rows: [
        ...tallyRows(t),
        { label: 'job runs started (Sync/TaskRouter calls)', value: jobRequests, expect: '0', ok: jobRequests === 0 },
      ],
    });
    expect(
      t.failures.length === 0
        ? []
        : [`seed ${SEED + 1}: ${t.failures.length} wrong answers`, ...t.failures.slice(0, 25)],
    ).toEqual([]);
    expect(jobRequests).toBe(0);
    expect(service.documents.size + service.maps.size).toBe(0);
  });

  it('control: the same harness does see tokens when they are issued, with the verified identity only', async () => {
    const { config } = system.emulator;
    const seen: Verdict[] = [];
    for (const token of ctx.pools.valid) {
      const request: RawRequest = {
        method: 'POST',
        target: '/sync-token',
        headers: [['Content-Type', 'application/x-www-form-urlencoded']],
        body: Buffer.from(formBody({ Token: token, Identity: 'admin' })),
      };
      const result = await send(system.functions.port, request);
      const verdict = judge(
        { endpoint: 'sync-token', category: 'control', label: 'valid', request, codes: [] },
        result,
        secrets,
      );
      seen.push(verdict);
      expect(result.ok && result.response.status).toBe(200);
      if (!result.ok) continue;
      const issued = JSON.parse(result.response.body.toString()) as { token: string; identity: string };
      issuedControlTokens.push(issued.token);
      const payload = jwt.verify(issued.token, config.apiSecret, {
        algorithms: ['HS256'],
        issuer: config.apiKey,
        subject: config.accountSid,
      }) as { grants: { identity: string } };
      expect(payload.grants.identity).not.toBe('admin'); // the spoofed Identity is never used
      expect(payload.grants.identity).toBe(issued.identity);
    }
    const params = { Identity: 'svc-control' };
    const signature = twilio.getExpectedTwilioSignature(config.authToken, publicUrl(ctx), params);
    const signed: RawRequest = {
      method: 'POST',
      target: '/sync-token',
      headers: [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['X-Twilio-Signature', signature],
      ],
      body: Buffer.from(formBody(params)),
    };
    const result = await send(system.functions.port, signed);
    seen.push(
      judge(
        { endpoint: 'sync-token', category: 'control', label: 'signed', request: signed, codes: [] },
        result,
        secrets,
      ),
    );
    if (result.ok) issuedControlTokens.push(JSON.parse(result.response.body.toString()).token);
    // Every control answer is flagged as a token: the detector behind "tokens issued: 0" works.
    expect(seen.map((v) => v.tokenIssued)).toEqual(seen.map(() => true));
    for (const token of issuedControlTokens) secrets.add(token, 'an issued Sync token', { exact: true });
    sections.push({
      title: 'control (valid requests, not counted above)',
      rows: [
        {
          label: 'tokens issued and detected',
          value: `${seen.filter((v) => v.tokenIssued).length} / ${seen.length}`,
          ok: seen.every((v) => v.tokenIssued),
        },
      ],
    });
  });

  it('no auth token, API secret, Flex token or issued token in any line the functions process printed', () => {
    const lines = system.functions.output;
    const hits = lines.flatMap((line, i) =>
      secrets.scan(line, 1).map((h) => `line ${i}: ${h.label} (${h.sample}) in ${line.slice(0, 160)}`),
    );
    const functionLines = lines.filter((line) => line.startsWith('{')).length;
    sections.push({
      title: 'logs of the functions process (token suite)',
      rows: [
        { label: 'lines scanned', value: `${lines.length} (${functionLines} structured lines of the functions)` },
        { label: 'secrets and tokens looked for', value: secrets.size },
        { label: 'secrets found in logs', value: hits.length, expect: '0', ok: hits.length === 0 },
      ],
    });
    expect(hits.slice(0, 20)).toEqual([]);
    expect(lines.length).toBeGreaterThan(1000); // the function did log: the scan saw real lines
  });
});
