/**
 * Regression cases from an outside audit of the running system, each attack sent as the auditor sent it (raw bytes
 * over loopback to the built functions under twilio-run, the emulator behind them), with the answer the fix gives:
 *
 * 1. a captured form signature re-split into another identity or lifetime (Twilio's form signature concatenates
 *    sorted names and values with no separator), and signed requests replayed after their SignedAt;
 * 2. JSON nested 5,000 deep, unauthenticated, on every endpoint (it once overflowed the stack of the signature check);
 * 3. a forged checkpoint: a plausible recent cursor written over REST (the calls before it were skipped), and a forger
 *    renewing a live lease again and again while the job runs (it kept the job busy);
 * 4. a Flex token in the URL of a POST to /recent-calls (it was accepted), or anywhere but Authorization: Bearer;
 * 5. header games through the `request` key the runtime merges into `event` (a spoofed Origin got a token): none
 *    gets a token, data or a CORS grant for the real origin it would not get otherwise;
 * 6. identities IAM returns that cannot go into a token (oversized, non-printable, padded), and a client-chosen
 *    X-Request-Id posing as the function's own;
 * 7. the emulator's admin API from a web page: a cross-origin "simple" POST /__admin/reset, other origins, and DNS
 *    rebinding (a Host that is not a loopback name) reading /__admin/config;
 *
 * Every case also checks that no answer carries a token it should not, a 5xx, or a secret. The figures go to the
 * summary table (one row per case, counted as checks).
 */
import { createHash, randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { signedRequest } from '../../scripts/sync-calls';
import { jobUrl, startSystem, type System } from '../helpers/system';
import { CHECKPOINT_NAME, readSync, readTruth } from './support/job-truth';
import { writeFigures, type FigureRow, type FigureSection } from './support/figures';
import { header, send, type RawRequest, type RawResult } from './support/raw-http';
import { SecretIndex } from './support/secrets';
import { formBody } from './support/token-cases';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

let system: System;
const secrets = new SecretIndex();
const sections: FigureSection[] = [];
/** Tokens the control cases got: looked for in the logs at the end (two tokens share much of their payload). */
const issuedTokens: string[] = [];

interface Expected {
  status: number;
  /** The error code, for a refusal. */
  code?: string;
  /** A 200 that must carry an issued token (a control case). */
  token?: boolean;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string[]>;
}

const url = (path: string) => `http://localhost:${system.functions.port}${path}`;

function parse(result: RawResult): Answer | undefined {
  if (!result.ok) return undefined;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(result.response.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    body = { unparsed: result.response.body.toString('utf8').slice(0, 200) };
  }
  return { status: result.response.status, body, headers: result.response.headers };
}

/** What is wrong with an answer, given what the fix must answer (empty: right). */
function problemsOf(result: RawResult, expected: Expected): string[] {
  if (!result.ok) return [`no answer: ${result.error}`];
  const answer = parse(result)!;
  const problems: string[] = [];
  const found = secrets.scan(result.response.text);
  if (found.length > 0) problems.push(`secret in the answer: ${found.map((h) => h.label).join(', ')}`);
  if (answer.status >= 500) problems.push(`status ${answer.status}`);
  if (answer.status !== expected.status) problems.push(`status ${answer.status}, expected ${expected.status}`);
  if (expected.code !== undefined && answer.body.code !== expected.code)
    problems.push(`code ${String(answer.body.code)}, expected ${expected.code}`);
  const issued = typeof answer.body.token === 'string';
  if (issued && !expected.token) problems.push('TOKEN ISSUED');
  if (!issued && expected.token) problems.push('no token in a control answer');
  if (issued) issuedTokens.push(String(answer.body.token));
  if (header(result.response, 'cache-control') !== 'no-store') problems.push('no Cache-Control: no-store');
  return problems;
}

/** The rows of one point's section, and the failures to assert. */
class Point {
  readonly rows: FigureRow[] = [];
  readonly failures: string[] = [];
  constructor(readonly title: string) {
    sections.push({ title, rows: this.rows });
  }

  record(label: string, problems: string[], shown?: string): void {
    this.rows.push({
      label,
      value: shown ?? (problems.length === 0 ? 'as fixed' : 'WRONG'),
      ok: problems.length === 0,
    });
    if (problems.length > 0) this.failures.push(`${label}: ${problems.join('; ')}`);
  }

  async expect(label: string, request: RawRequest, expected: Expected): Promise<Answer | undefined> {
    const result = await send(system.functions.port, request);
    const answer = parse(result);
    this.record(
      label,
      problemsOf(result, expected),
      answer ? `${answer.status} ${String(answer.body.code ?? (expected.token ? 'token' : ''))}`.trim() : 'no answer',
    );
    return answer;
  }
}

const formRequest = (
  path: string,
  params: Record<string, string> | Array<[string, string]>,
  signature?: string,
  extra: Array<[string, string]> = [],
): RawRequest => ({
  method: 'POST',
  target: path,
  headers: [
    ['Content-Type', 'application/x-www-form-urlencoded'],
    ...(signature ? ([['X-Twilio-Signature', signature]] as Array<[string, string]>) : []),
    ...extra,
  ],
  body: Buffer.from(formBody(params)),
});

const jsonRequest = (path: string, bodyText: string, headers: Array<[string, string]> = []): RawRequest => ({
  method: 'POST',
  target: path,
  headers: [['Content-Type', 'application/json'], ...headers],
  body: Buffer.from(bodyText),
});

/** A JSON request signed the documented way: the signature covers `<url>?bodySHA256=<hash of the exact body>`. */
function signedJson(path: string, bodyText: string, authToken = system.emulator.config.authToken): RawRequest {
  const hash = createHash('sha256').update(bodyText).digest('hex');
  const signature = twilio.getExpectedTwilioSignature(authToken, `${url(path)}?bodySHA256=${hash}`, {});
  return jsonRequest(`${path}?bodySHA256=${hash}`, bodyText, [['X-Twilio-Signature', signature]]);
}

const signForm = (path: string, params: Record<string, string>) =>
  twilio.getExpectedTwilioSignature(system.emulator.config.authToken, url(path), params);

const nested = (depth: number, leaf = '"x"') => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;

beforeAll(async () => {
  system = await startSystem({ emulator: { authToken: hex(16), apiSecret: `secret-${hex(16)}` } });
  secrets.add(system.emulator.config.authToken, 'AUTH_TOKEN', { exact: true });
  secrets.add(system.emulator.config.apiSecret, 'API_SECRET', { exact: true });
}, 60_000);

afterAll(async () => {
  writeFigures('audit', sections);
  await system?.stop();
});

describe('audit point 1: one captured form signature re-split into another identity or lifetime', () => {
  it('each re-split replay is refused before the signature is judged; the captured requests themselves still work', async () => {
    const point = new Point('audit 1: signed-parameter re-splitting and replay (/sync-token, /sync-recent-calls)');
    const captures: Array<{ captured: Record<string, string>; replayed: Array<[string, string]>; what: string }> = [
      {
        captured: { Identity: 'alice_40example_2Ecom_reporting' },
        replayed: [
          ['Identity', 'alice_40example_2Ecom'],
          ['_reporting', ''],
        ],
        what: 'another identity',
      },
      {
        captured: { Identity: 'x', Ttl: '1800' },
        replayed: [
          ['Identity', 'x'],
          ['Ttl1800', ''],
        ],
        what: 'a longer lifetime',
      },
      {
        captured: { Identity: 'bobToken' },
        replayed: [
          ['Identity', 'bob'],
          ['Token', ''],
        ],
        what: 'another identity, empty Token',
      },
    ];
    for (const { captured, replayed, what } of captures) {
      const signature = signForm('/sync-token', captured);
      // The premise: Twilio's validator itself accepts the re-split with the captured signature.
      expect(
        twilio.validateRequest(
          system.emulator.config.authToken,
          signature,
          url('/sync-token'),
          Object.fromEntries(replayed),
        ),
      ).toBe(true);
      await point.expect(
        `captured ${JSON.stringify(captured)} (control)`,
        formRequest('/sync-token', captured, signature),
        { status: 200, token: true },
      );
      await point.expect(
        `re-split for ${what}: ${replayed.map(([k, v]) => `${k}=${v}`).join('&')}`,
        formRequest('/sync-token', replayed, signature),
        { status: 401, code: 'SIGNATURE_INVALID' },
      );
    }

    const nowSeconds = Math.floor(system.emulator.clock.now() / 1000);
    const fresh = { Identity: 'svc-reporting', SignedAt: String(nowSeconds) };
    await point.expect('SignedAt now (control)', formRequest('/sync-token', fresh, signForm('/sync-token', fresh)), {
      status: 200,
      token: true,
    });
    for (const [label, at] of [
      ['SignedAt 10 min ago (a replay)', nowSeconds - 600],
      ['SignedAt 10 min ahead', nowSeconds + 600],
    ] as const) {
      const params = { Identity: 'svc-reporting', SignedAt: String(at) };
      await point.expect(label, formRequest('/sync-token', params, signForm('/sync-token', params)), {
        status: 401,
        code: 'SIGNATURE_INVALID',
      });
    }
    await point.expect(
      'JSON variant with SignedAt (control)',
      signedJson('/sync-token', JSON.stringify({ Identity: 'svc-json', SignedAt: nowSeconds })),
      { status: 200, token: true },
    );
    const staleJson = JSON.stringify({ Identity: 'svc-json', SignedAt: nowSeconds - 600 });
    await point.expect('JSON variant, SignedAt 10 min ago', signedJson('/sync-token', staleJson), {
      status: 401,
      code: 'SIGNATURE_INVALID',
    });

    // The same rules on the job: a re-split that names a parameter the endpoint does not take never runs the job.
    const job = { Invocation: '1', RequestedAt: 'X' };
    const jobSignature = signForm('/sync-recent-calls', job);
    const resplit: Array<[string, string]> = [
      ['Invocation', '1'],
      ['Requested', 'AtX'],
    ];
    expect(
      twilio.validateRequest(
        system.emulator.config.authToken,
        jobSignature,
        url('/sync-recent-calls'),
        Object.fromEntries(resplit),
      ),
    ).toBe(true);
    await point.expect(
      'job: re-split Invocation=1&Requested=AtX',
      formRequest('/sync-recent-calls', resplit, jobSignature),
      { status: 401, code: 'SIGNATURE_INVALID' },
    );
    const staleJob = { Invocation: '1', SignedAt: String(nowSeconds - 600) };
    await point.expect(
      'job: SignedAt 10 min ago',
      formRequest('/sync-recent-calls', staleJob, signForm('/sync-recent-calls', staleJob)),
      { status: 401, code: 'SIGNATURE_INVALID' },
    );
    const service = system.emulator.state.sync.services.get(system.emulator.config.syncServiceSid)!;
    point.record(
      'job runs started by the refused requests',
      service.documents.size === 0 ? [] : ['the checkpoint exists'],
      String(service.documents.size),
    );

    expect(point.failures).toEqual([]);
  });
});

describe('audit point 2: deep JSON and non-string values never reach a recursive step', () => {
  it('a body nested 5,000 deep is a 400 on every endpoint; non-string signed values are a 401', async () => {
    const point = new Point('audit 2: deep JSON, non-string signed values (every endpoint)');
    const bogus: Array<[string, string]> = [['X-Twilio-Signature', 'Zm9yZ2Vk']];
    for (const depth of [1000, 5000]) {
      const body = `{"Identity":${nested(depth)}}`;
      const hash = createHash('sha256').update(body).digest('hex');
      await point.expect(
        `/sync-token, ${depth} deep, bodySHA256 + bogus signature`,
        jsonRequest(`/sync-token?bodySHA256=${hash}`, body, bogus),
        { status: 400, code: 'INVALID_REQUEST' },
      );
      await point.expect(
        `/sync-recent-calls, ${depth} deep, bodySHA256 + bogus signature`,
        jsonRequest(`/sync-recent-calls?bodySHA256=${hash}`, body, bogus),
        { status: 400, code: 'INVALID_REQUEST' },
      );
      await point.expect(
        `/recent-calls, ${depth} deep, bogus Bearer`,
        jsonRequest('/recent-calls', `{"PageSize":${nested(depth)}}`, [['Authorization', 'Bearer abc.def.ghi']]),
        { status: 400, code: 'INVALID_REQUEST' },
      );
      await point.expect(
        `/sync-token, ${depth} deep, no credential`,
        jsonRequest('/sync-token', `{"a":${nested(depth, '{}')}}`),
        { status: 400, code: 'INVALID_REQUEST' },
      );
    }
    // Flat but not plain: refused as a signed request without serialising anything.
    const objectIdentity = JSON.stringify({ Identity: { toString: 1 } });
    const hash = createHash('sha256').update(objectIdentity).digest('hex');
    await point.expect(
      '/sync-token, signed JSON with an object Identity',
      jsonRequest(`/sync-token?bodySHA256=${hash}`, objectIdentity, bogus),
      { status: 401, code: 'SIGNATURE_INVALID' },
    );
    await point.expect(
      '/sync-token, signed form with Identity[a]=x (an object)',
      formRequest('/sync-token', [['Identity[a]', 'x']], 'Zm9yZ2Vk'),
      { status: 401, code: 'SIGNATURE_INVALID' },
    );
    await point.expect(
      '/sync-token, signed form with Identity twice (an array)',
      formRequest(
        '/sync-token',
        [
          ['Identity', 'a'],
          ['Identity', 'b'],
        ],
        'Zm9yZ2Vk',
      ),
      { status: 401, code: 'SIGNATURE_INVALID' },
    );
    const lines = system.functions.output.filter((line) => /RangeError|Maximum call stack/.test(line));
    point.record(
      "stack overflows in the functions' output",
      lines.length === 0 ? [] : lines.slice(0, 3),
      String(lines.length),
    );
    expect(point.failures).toEqual([]);
  });
});

/** One signed invocation of the job, as the trigger sends it. */
async function invokeJob(n: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const signed = signedRequest(jobUrl(system), system.emulator.config.authToken, {
    Invocation: String(n),
    RequestedAt: new Date().toISOString(),
  });
  const response = await fetch(jobUrl(system), {
    method: 'POST',
    headers: signed.headers,
    body: signed.body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Handled calls still inside their 30 days that are not in their agent's map (from the emulator's own records). */
function missingCalls(): string[] {
  const now = system.emulator.clock.now();
  const present = new Set(readSync(system.emulator).items.map((i) => `${i.map}|${i.key}`));
  return [...readTruth(system.emulator).handled.values()]
    .filter((c) => c.expiresMs > now + 60_000 && !present.has(c.key))
    .map((c) => c.key);
}

function checkpointDocument() {
  const service = system.emulator.state.sync.services.get(system.emulator.config.syncServiceSid)!;
  return [...service.documents.values()].find((d) => d.uniqueName === CHECKPOINT_NAME);
}

describe('audit point 3: a forged checkpoint neither skips calls nor stalls the job', () => {
  beforeAll(async () => {
    await system.admin.reset();
    await system.admin.seed({ agents: 4, callsPerAgent: 6, days: 10 });
  });

  it('a plausible recent cursor written over REST is ignored and reported; every call reaches Sync', async () => {
    const point = new Point('audit 3a: forged plausible cursor (written with REST credentials, no seal)');
    const first = await invokeJob(1);
    point.record(
      'first run (creates the sealed checkpoint)',
      first.status === 200 ? [] : [`status ${first.status}`],
      String(first.status),
    );
    // Wipe what the job wrote, then forge a cursor one minute ago: trusted, it would skip every call.
    const service = system.emulator.state.sync.services.get(system.emulator.config.syncServiceSid)!;
    for (const map of service.maps.values()) map.items.clear();
    const forgedCursor = new Date(system.emulator.clock.now() - 60_000).toISOString();
    await system.twilio.sync.v1
      .services(system.emulator.config.syncServiceSid)
      .documents(CHECKPOINT_NAME)
      .update({ data: { v: 1, cursor: forgedCursor, lease: null, failures: [], attempts: {} } });
    const answers: Array<Record<string, unknown>> = [];
    for (let n = 2; n < 20; n++) {
      const answer = await invokeJob(n);
      answers.push(answer.body);
      if (answer.body.done === true) break;
    }
    const firstAnswer = answers[0] ?? {};
    point.record(
      'the next run reports checkpointIgnored',
      firstAnswer.checkpointIgnored === 'unsealed' ? [] : [`answered ${JSON.stringify(firstAnswer).slice(0, 200)}`],
      String(firstAnswer.checkpointIgnored),
    );
    point.record(
      'the job reaches done',
      answers.at(-1)?.done === true ? [] : ['not done'],
      String(answers.at(-1)?.done),
    );
    const missing = missingCalls();
    point.record(
      'calls missing from Sync afterwards',
      missing.length === 0 ? [] : missing.slice(0, 5),
      String(missing.length),
    );
    const cursor = readSync(system.emulator).checkpoint?.cursor;
    point.record(
      'stored cursor sealed again (not the forged one)',
      cursor !== forgedCursor && typeof readSync(system.emulator).checkpoint?.seal === 'string'
        ? []
        : [`cursor ${String(cursor)}`],
    );
    expect(point.failures).toEqual([]);
  });

  it('a forger renewing a live lease while the job runs does not keep it busy', async () => {
    const point = new Point('audit 3b: forged renewing lease (rewritten every 7th Twilio request)');
    // Start over: no items, no checkpoint (the first run creates it, the forger then rewrites it).
    const service = system.emulator.state.sync.services.get(system.emulator.config.syncServiceSid)!;
    for (const map of service.maps.values()) map.items.clear();
    service.documents.delete(checkpointDocument()!.sid);
    let requests = 0;
    let forgeries = 0;
    // In-process and counted in requests, not time: deterministic on a loaded machine.
    const forger = () => {
      requests += 1;
      const doc = checkpointDocument();
      if (!doc || requests % 7 !== 0) return;
      const until = new Date(system.emulator.clock.now() + 10_000).toISOString();
      doc.data = {
        v: 1,
        cursor: new Date(system.emulator.clock.now() - 60_000).toISOString(),
        lease: { owner: 'mallory', until },
        failures: [],
        attempts: {},
      };
      doc.revision += 1;
      forgeries += 1;
    };
    system.emulator.beforeRequest.push(forger);
    const answers: Array<Record<string, unknown>> = [];
    try {
      for (let n = 1; n <= 25; n++) {
        const answer = await invokeJob(100 + n);
        answers.push(answer.body);
        if (answer.body.done === true) break;
      }
    } finally {
      system.emulator.beforeRequest.splice(system.emulator.beforeRequest.indexOf(forger), 1);
    }
    const busy = answers.filter((a) => a.busy === true).length;
    point.record(
      'forgeries written during the runs',
      forgeries > 0 ? [] : ['the forger never wrote'],
      String(forgeries),
    );
    point.record('invocations until done', answers.at(-1)?.done === true ? [] : ['never done'], String(answers.length));
    point.record('answers busy because of the forged lease', busy === 0 ? [] : [`${busy} busy answers`], String(busy));
    point.record(
      'answers reporting checkpointIgnored',
      answers.some((a) => a.checkpointIgnored !== undefined) ? [] : ['none reported it'],
      String(answers.filter((a) => a.checkpointIgnored !== undefined).length),
    );
    const missing = missingCalls();
    point.record(
      'calls missing from Sync afterwards',
      missing.length === 0 ? [] : missing.slice(0, 5),
      String(missing.length),
    );
    expect(point.failures).toEqual([]);
  });
});

/** Flex tokens sent where they do not belong: they must stay out of the functions' own (structured) log lines. */
const misplacedTokens = new SecretIndex();
/** The same tokens as sent in URLs: twilio-run's own request log prints URLs (that is why they are refused). */
const urlTokens: string[] = [];

async function agentTokens(): Promise<{
  a: { token: string; workerSid: string };
  b: { token: string; workerSid: string };
}> {
  let { agents } = await system.admin.agents();
  if (agents.length < 2) {
    await system.admin.seed({ agents: 2, callsPerAgent: 3, days: 5 });
    agents = (await system.admin.agents()).agents;
  }
  const mint = async (i: number) => {
    const { token } = await system.admin.flexToken({
      identity: agents[i].identity,
      roles: ['agent'],
      workerSid: agents[i].workerSid,
      ttlSeconds: 3600,
    });
    secrets.add(token, `Flex token of ${agents[i].identity}`, { exact: true });
    return { token, workerSid: agents[i].workerSid };
  };
  return { a: await mint(0), b: await mint(1) };
}

/** The functions' structured lines holding `text`, once the first has arrived (their stdout is read asynchronously). */
async function functionLinesWith(text: string, attempts = 200): Promise<string[]> {
  for (let i = 0; i < attempts; i++) {
    const lines = system.functions.output.filter((line) => line.startsWith('{') && line.includes(text));
    if (lines.length > 0) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [];
}

const getRequest = (target: string, headers: Array<[string, string]> = []): RawRequest => ({
  method: 'GET',
  target,
  headers,
});
const bearer = (token: string): [string, string] => ['Authorization', `Bearer ${token}`];

describe('audit point 4: the Flex token of /recent-calls only in Authorization: Bearer', () => {
  it("a Token parameter is refused in a POST's URL, in a body and in a GET's URL; the Bearer header works", async () => {
    const point = new Point('audit 4: Flex token in the URL or body of /recent-calls');
    const { a } = await agentTokens();
    misplacedTokens.add(a.token, 'a Flex token sent as a Token parameter', { exact: true });
    urlTokens.push(a.token);
    await point.expect('GET with Authorization: Bearer (control)', getRequest('/recent-calls', [bearer(a.token)]), {
      status: 200,
    });
    await point.expect(
      'POST /recent-calls?Token=<valid> with a JSON body {}',
      jsonRequest(`/recent-calls?Token=${encodeURIComponent(a.token)}`, '{}'),
      { status: 400, code: 'TOKEN_IN_URL' },
    );
    await point.expect(
      'GET /recent-calls?Token=<valid>',
      getRequest(`/recent-calls?Token=${encodeURIComponent(a.token)}`),
      { status: 400, code: 'TOKEN_IN_URL' },
    );
    await point.expect('POST with Token=<valid> in a form body', formRequest('/recent-calls', { Token: a.token }), {
      status: 400,
      code: 'TOKEN_IN_URL',
    });
    await point.expect(
      'POST with {"Token": <valid>} in a JSON body',
      jsonRequest('/recent-calls', JSON.stringify({ Token: a.token })),
      { status: 400, code: 'TOKEN_IN_URL' },
    );
    await point.expect(
      'Bearer and the same token as ?Token=',
      getRequest(`/recent-calls?Token=${encodeURIComponent(a.token)}`, [bearer(a.token)]),
      { status: 400, code: 'TOKEN_IN_URL' },
    );
    const structured = system.functions.output.filter((line) => line.startsWith('{'));
    const hits = structured.filter((line) => misplacedTokens.scan(line, 1).length > 0);
    point.record(
      "the token in the functions' own log lines",
      hits.length === 0 ? [] : hits.slice(0, 2),
      String(hits.length),
    );
    expect(point.failures).toEqual([]);
  });
});

describe("audit point 5: header games through the runtime's `request` key", () => {
  it('no header trick gets a token, data, or a CORS grant for the origin that really sent it', async () => {
    const point = new Point('audit 5: `request`-key header games (/sync-token, /recent-calls)');
    const { a, b } = await agentTokens();
    const evil: [string, string] = ['Origin', 'https://evil.example'];
    const spoofed = { 'content-type': 'application/json', origin: 'https://flex.twilio.com' };

    // The auditor's finding: the spoofed Origin passes the (best-effort) Origin check, but the grant names the spoofed
    // origin, so the page on evil.example that sent it cannot read the answer.
    const issued = await send(
      system.functions.port,
      jsonRequest('/sync-token', JSON.stringify({ Token: a.token, request: { headers: spoofed } }), [evil]),
    );
    const grant = issued.ok ? header(issued.response, 'access-control-allow-origin') : undefined;
    point.record(
      'spoofed allowed Origin, real Origin evil: CORS grant for evil',
      grant === 'https://evil.example' ? ['granted to the real origin'] : [],
      String(grant ?? 'none'),
    );
    if (issued.ok && typeof parse(issued)?.body.token === 'string')
      issuedTokens.push(String(parse(issued)!.body.token));

    await point.expect(
      '/sync-token: smuggled X-Twilio-Signature, Identity=admin',
      jsonRequest(
        '/sync-token',
        JSON.stringify({
          Identity: 'admin',
          request: {
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'Zm9yZ2Vk' },
          },
        }),
      ),
      { status: 401, code: 'SIGNATURE_INVALID' },
    );
    await point.expect(
      '/sync-token: smuggled signature settings and Origin, no credential',
      jsonRequest(
        '/sync-token',
        JSON.stringify({
          request: { headers: { ...spoofed, 'x-twilio-webhooks-signature-settings': 'algorithm=none' } },
        }),
      ),
      { status: 401, code: 'CREDENTIALS_MISSING' },
    );
    await point.expect(
      "/recent-calls: agent A's token smuggled as a header, WorkerSid of B",
      jsonRequest(
        '/recent-calls',
        JSON.stringify({
          WorkerSid: b.workerSid,
          request: {
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${a.token}`,
              'x-flex-roles': 'supervisor',
            },
          },
        }),
      ),
      { status: 403, code: 'WORKER_NOT_ALLOWED' },
    );
    await point.expect(
      '/recent-calls: real Bearer replaced by a body `request` without one',
      jsonRequest('/recent-calls', JSON.stringify({ request: { headers: { 'content-type': 'application/json' } } }), [
        bearer(a.token),
      ]),
      { status: 401, code: 'CREDENTIALS_MISSING' },
    );
    await point.expect(
      '/recent-calls: a forged token smuggled as a header',
      jsonRequest(
        '/recent-calls',
        JSON.stringify({
          request: {
            headers: {
              'content-type': 'application/json',
              authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJmb3JnZWQiOnRydWV9.c2lnbmF0dXJlLWZvcmdlZA',
            },
          },
        }),
      ),
      { status: 401, code: 'FLEX_TOKEN_INVALID' },
    );
    await point.expect(
      '/recent-calls: headers replaced through the query string',
      getRequest(
        '/recent-calls?request[headers][authorization]=Bearer%20forged.token.value&request[headers][origin]=https://flex.twilio.com',
      ),
      { status: 401, code: 'FLEX_TOKEN_INVALID' },
    );
    const own = await send(
      system.functions.port,
      jsonRequest(
        '/recent-calls',
        JSON.stringify({ request: { headers: { ...spoofed, authorization: `Bearer ${a.token}` } } }),
        [evil],
      ),
    );
    const ownAnswer = parse(own);
    const ownGrant = own.ok ? header(own.response, 'access-control-allow-origin') : undefined;
    const onlyOwn =
      ownAnswer?.status === 200 && ownAnswer.body.workerSid === a.workerSid && ownGrant !== 'https://evil.example';
    point.record(
      "/recent-calls: spoofed Origin + A's own token: only A's calls, no grant for evil",
      onlyOwn ? [] : [`answered ${ownAnswer?.status} ${String(ownAnswer?.body.workerSid)} grant ${String(ownGrant)}`],
      `${ownAnswer?.status} ${ownGrant ?? 'no grant for evil'}`,
    );
    expect(point.failures).toEqual([]);
  });
});

describe("audit point 6: IAM identities are bounded; client request ids are logged as the client's", () => {
  it('a Flex token whose IAM identity cannot go into a token is refused with 403, never issued', async () => {
    const point = new Point('audit 6: identities IAM returns, client-chosen X-Request-Id');
    const worker = () => `WK${hex(16)}`;
    const bad: Array<[string, string]> = [
      ['oversized (500 characters)', 'a'.repeat(500)],
      ['122 characters', 'b'.repeat(122)],
      ['NUL inside', 'ali\u0000ce'],
      ['CR/LF header injection', 'alice\r\nX-Injected: 1'],
      ['leading space', ' alice'],
      ['non-ASCII', '\u00e5lice'],
      ['right-to-left override', '\u202eecila'],
      ['tab', 'ali\tce'],
    ];
    for (const [label, identity] of bad) {
      const { token } = await system.admin.flexToken({
        identity,
        roles: ['agent'],
        workerSid: worker(),
        ttlSeconds: 3600,
      });
      secrets.add(token, `Flex token with a ${label} identity`, { exact: true });
      await point.expect(`IAM identity ${label}`, jsonRequest('/sync-token', JSON.stringify({ Token: token })), {
        status: 403,
        code: 'FLEX_IDENTITY_INVALID',
      });
    }
    const { token } = await system.admin.flexToken({
      identity: 'c'.repeat(121),
      roles: ['agent'],
      workerSid: worker(),
      ttlSeconds: 3600,
    });
    secrets.add(token, 'Flex token with a 121-character identity', { exact: true });
    await point.expect(
      'IAM identity of 121 characters (control)',
      jsonRequest('/sync-token', JSON.stringify({ Token: token })),
      { status: 200, token: true },
    );

    const chosen = 'forged-request-id-1234';
    const result = await send(system.functions.port, jsonRequest('/sync-token', '{}', [['X-Request-Id', chosen]]));
    const id = result.ok ? header(result.response, 'x-request-id') : undefined;
    point.record(
      'a client X-Request-Id is not taken as ours',
      id !== undefined && id !== chosen && /^[0-9a-f-]{36}$/.test(id) ? [] : [`X-Request-Id ${String(id)}`],
      String(id === chosen ? 'echoed' : 'own id'),
    );
    const lines = (await functionLinesWith(chosen)).map((line) => JSON.parse(line) as Record<string, unknown>);
    const logged = lines.length > 0 && lines.every((l) => l.clientRequestId === chosen && l.requestId === id);
    point.record(
      'logged as clientRequestId next to our requestId',
      logged ? [] : [`lines ${JSON.stringify(lines).slice(0, 200)}`],
      String(lines.length),
    );
    expect(point.failures).toEqual([]);
  });
});

describe("audit point 7: the emulator's admin API against web pages", () => {
  it('cross-origin simple POSTs, other origins and rebinding Host names are refused; loopback callers still work', async () => {
    const point = new Point('audit 7: emulator admin API (cross-origin POST, DNS rebinding)');
    const port = Number(new URL(system.emulator.url).port);
    const workers = () => system.emulator.state.taskrouter.workers.size;
    if (workers() === 0) await system.admin.seed({ agents: 2, callsPerAgent: 1, days: 1 });
    const before = workers();
    const admin = async (
      label: string,
      request: RawRequest,
      status: number,
      check: (r: RawResult) => string[] = () => [],
    ) => {
      const result = await send(port, request);
      const problems: string[] = [];
      if (!result.ok) problems.push(`no answer: ${result.error}`);
      else {
        if (result.response.status !== status) problems.push(`status ${result.response.status}, expected ${status}`);
        if (status >= 400 && secrets.scan(result.response.text).length > 0) problems.push('a secret in the refusal');
        problems.push(...check(result));
      }
      point.record(label, problems, result.ok ? String(result.response.status) : 'no answer');
    };
    const evilOrigin: [string, string] = ['Origin', 'https://evil.example'];
    const noGrant = (r: RawResult) =>
      r.ok && header(r.response, 'access-control-allow-origin') ? ['a CORS grant'] : [];
    const text = (target: string, headers: Array<[string, string]>): RawRequest => ({
      method: 'POST',
      target,
      headers: [['Content-Type', 'text/plain'], ...headers],
      body: Buffer.from('{}'),
    });

    await admin(
      'simple POST /__admin/reset (text/plain) from evil.example',
      text('/__admin/reset', [evilOrigin]),
      403,
      noGrant,
    );
    await admin('POST /__admin/reset as text/plain, no Origin', text('/__admin/reset', []), 415);
    await admin(
      'POST /__admin/seed as a form',
      {
        method: 'POST',
        target: '/__admin/seed',
        headers: [['Content-Type', 'application/x-www-form-urlencoded']],
        body: Buffer.from('agents=1'),
      },
      415,
    );
    await admin(
      'JSON POST /__admin/reset from evil.example',
      { ...jsonRequest('/__admin/reset', '{}', [evilOrigin]) },
      403,
      noGrant,
    );
    await admin(
      'preflight from evil.example',
      {
        method: 'OPTIONS',
        target: '/__admin/reset',
        headers: [
          evilOrigin,
          ['Access-Control-Request-Method', 'POST'],
          ['Access-Control-Request-Headers', 'content-type'],
        ],
      },
      403,
      noGrant,
    );
    point.record(
      "the emulator's data after those requests",
      workers() === before ? [] : ['wiped'],
      `${workers()} workers`,
    );
    for (const host of ['evil.example', `rebind.evil.example:${port}`, 'localhost.evil.example', '127.0.0.1.nip.io']) {
      await admin(
        `GET /__admin/config with Host ${host} (DNS rebinding)`,
        { method: 'GET', target: '/__admin/config', headers: [['Host', host]] },
        403,
        (r) => (r.ok && r.response.text.includes(system.emulator.config.authToken) ? ['auth token in the answer'] : []),
      );
    }
    await admin(
      'GET /__admin/config from 127.0.0.1 (control)',
      { method: 'GET', target: '/__admin/config', headers: [['Host', `127.0.0.1:${port}`]] },
      200,
    );
    await admin(
      "preflight from http://localhost:3000 (control: npm start's page)",
      {
        method: 'OPTIONS',
        target: '/__admin/flex-tokens',
        headers: [
          ['Host', `127.0.0.1:${port}`],
          ['Origin', 'http://localhost:3000'],
          ['Access-Control-Request-Method', 'POST'],
        ],
      },
      204,
      (r) =>
        r.ok && header(r.response, 'access-control-allow-origin') === 'http://localhost:3000' ? [] : ['no CORS grant'],
    );
    await admin(
      'JSON POST /__admin/clock from localhost (control)',
      { ...jsonRequest('/__admin/clock', '{"advanceSeconds":0}', [['Host', `localhost:${port}`]]) },
      200,
    );
    expect(point.failures).toEqual([]);
  });
});

describe("no secret in the functions' output", () => {
  it('no auth token, API secret or issued token in any line the functions process printed', () => {
    for (const token of issuedTokens) secrets.add(token, 'an issued Sync token', { exact: true });
    // twilio-run's request log ("400 GET /recent-calls?Token=…") quotes the URLs audit 4 sent a token in: counted
    // apart. The functions' own lines must not hold it (checked in audit 4), and nothing else may be in any line.
    let urlEchoes = 0;
    const hits = system.functions.output.flatMap((raw, i) => {
      let line = raw;
      if (!raw.startsWith('{')) {
        for (const token of urlTokens)
          if (line.includes(`Token=${token}`) || line.includes(`Token=${encodeURIComponent(token)}`)) {
            urlEchoes += 1;
            line = line.split(token).join('[URL TOKEN]').split(encodeURIComponent(token)).join('[URL TOKEN]');
          }
      }
      return secrets.scan(line, 1).map((h) => `line ${i}: ${h.label} in ${line.slice(0, 160)}`);
    });
    sections.push({
      title: 'audit: logs of the functions process',
      rows: [
        { label: 'secrets found in logs', value: hits.length, expect: '0', ok: hits.length === 0 },
        { label: 'twilio-run request lines quoting a URL token', value: urlEchoes },
      ],
      notes: [
        "twilio-run prints each request's URL: a token sent in a URL is in that log whatever the function does (audit 4).",
      ],
    });
    expect(hits.slice(0, 10)).toEqual([]);
  });
});
