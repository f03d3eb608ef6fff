/**
 * Judges one answer to a hostile request: who answered (the function, or twilio-run / node before it), whether it
 * is a correct refusal, and whether anything leaked (a token, a JWT, a secret).
 */
import { header, type RawResult } from './raw-http';
import { JWT_PATTERN, type SecretHit, type SecretIndex } from './secrets';
import { SYNC_JOB_CODES, SYNC_TOKEN_CODES, type HostileCase } from './token-cases';

export interface Verdict {
  kind: 'function' | 'runtime' | 'no-answer';
  status: number;
  code?: string;
  /** Everything wrong with the answer; empty for a correct refusal. */
  problems: string[];
  tokenIssued: boolean;
  nonJson: boolean;
  secrets: SecretHit[];
  ms: number;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function judge(c: HostileCase, result: RawResult, secrets: SecretIndex): Verdict {
  if (!result.ok) {
    return {
      kind: 'no-answer',
      status: 0,
      problems: [`no answer: ${result.error}`],
      tokenIssued: false,
      nonJson: false,
      secrets: [],
      ms: result.ms,
    };
  }
  const { response } = result;
  const problems: string[] = [];
  const status = response.status;
  const table = c.endpoint === 'sync-token' ? SYNC_TOKEN_CODES : SYNC_JOB_CODES;
  const found = secrets.scan(response.text);
  if (found.length > 0) problems.push(`secret in the answer: ${found.map((h) => h.label).join(', ')}`);
  let tokenIssued = JWT_PATTERN.test(response.text);
  if (status >= 500) problems.push(`status ${status}`);
  const requestId = header(response, 'x-request-id');
  const isHead = c.request.method.toUpperCase() === 'HEAD';
  let nonJson = false;
  let code: string | undefined;

  if (requestId !== undefined) {
    // The function answered (its wrapper always sets X-Request-Id).
    if (!/^application\/json\b/.test(header(response, 'content-type') ?? ''))
      problems.push(`content-type ${header(response, 'content-type')}`);
    if (header(response, 'cache-control') !== 'no-store') problems.push('no Cache-Control: no-store');
    if (!REQUEST_ID.test(requestId))
      problems.push(`X-Request-Id ${JSON.stringify(requestId.slice(0, 80))} is not a safe request id`);
    if (!isHead || response.body.length > 0) {
      let body: unknown;
      try {
        body = JSON.parse(response.body.toString('utf8'));
      } catch {
        nonJson = true;
        problems.push('function answer is not JSON');
      }
      if (body !== undefined) {
        if (body !== null && typeof body === 'object' && 'token' in body) tokenIssued = true;
        const b = body as Record<string, unknown>;
        const keys = body !== null && typeof body === 'object' ? Object.keys(b).sort().join(',') : typeof body;
        if (keys !== 'code,message,requestId,status') problems.push(`error body keys: ${keys}`);
        code = typeof b.code === 'string' ? b.code : undefined;
        if (b.status !== status) problems.push(`body status ${String(b.status)} ≠ HTTP ${status}`);
        if (b.requestId !== requestId) problems.push('body requestId ≠ X-Request-Id');
        if (typeof b.message !== 'string' || b.message === '') problems.push('no message');
        if (code === undefined || !(code in table))
          problems.push(`code ${String(b.code)} is not documented for /${c.endpoint}`);
        else if (table[code] !== status)
          problems.push(`code ${code} with status ${status} (documented: ${table[code]})`);
        if (code !== undefined && !c.codes.includes('*') && !c.codes.includes(code))
          problems.push(`code ${code}, expected ${c.codes.join(' or ') || '(an answer from the runtime)'}`);
      }
    } else if (!(status >= 400 && status < 500)) problems.push(`HEAD answered ${status}`);
    if (status < 400 || status >= 500) problems.push(`function answered ${status}`);
    return {
      kind: 'function',
      status,
      code,
      problems: tokenIssued ? [...problems, 'TOKEN ISSUED'] : problems,
      tokenIssued,
      nonJson,
      secrets: found,
      ms: result.ms,
    };
  }

  // twilio-run, express or node answered before the function ran.
  if (!(c.runtime ?? []).includes(status)) {
    problems.push(
      `runtime answered ${status}, expected ${c.codes.length ? `function code ${c.codes.join(' or ')}` : ''}${c.runtime?.length ? ` or runtime ${c.runtime.join('/')}` : ''}`,
    );
  }
  if (status >= 200 && status < 300 && !(status === 204 && c.request.method === 'OPTIONS'))
    problems.push(`runtime answered ${status}`);
  return {
    kind: 'runtime',
    status,
    problems: tokenIssued ? [...problems, 'TOKEN ISSUED'] : problems,
    tokenIssued,
    nonJson: true,
    secrets: found,
    ms: result.ms,
  };
}
