/** The request rules of /recent-calls that need no Twilio call: the WorkerSid parameter and whose list is read. */
import { describeError } from '../../../src/http/error-response';
import { InvalidParameter } from '../../../src/params/errors';
import { WorkerNotAllowed } from '../../../src/recent-calls/read-errors';
import { parseWorkerSid, targetWorker } from '../../../src/recent-calls/read-request';

const OWN = 'WK' + 'a'.repeat(32);
const OTHER = 'WK' + 'b'.repeat(32);

function statusAndCode(run: () => unknown): [number, string] | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    // The domain's own types, answered with these statuses and codes by the one table at the edge.
    if (error instanceof InvalidParameter || error instanceof WorkerNotAllowed) {
      const { status, code } = describeError(error);
      return [status, code];
    }
    throw error;
  }
}

describe('parseWorkerSid', () => {
  it('takes an absent or empty parameter as "my own list"', () => {
    for (const value of [undefined, null, '']) expect(parseWorkerSid(value)).toBeUndefined();
  });

  it('passes a worker SID through and refuses anything else with 400 WORKER_SID_INVALID', () => {
    expect(parseWorkerSid(OTHER)).toBe(OTHER);
    for (const bad of ['WK123', 'wk' + 'a'.repeat(32), 'WT' + 'a'.repeat(32), `${OTHER} `, 42, ['x'], {}]) {
      expect(statusAndCode(() => parseWorkerSid(bad))).toEqual([400, 'WORKER_SID_INVALID']);
    }
  });
});

describe('targetWorker', () => {
  const agent = { workerSid: OWN, roles: ['agent'] };
  const supervisor = { workerSid: OWN, roles: ['agent', 'supervisor'] };

  it("reads the caller's own list when no other worker is named, or the caller names itself", () => {
    expect(targetWorker(agent, undefined, ['supervisor'])).toBe(OWN);
    expect(targetWorker(agent, OWN, ['supervisor'])).toBe(OWN);
  });

  it("lets only a supervisor role read another agent's list (403 WORKER_NOT_ALLOWED)", () => {
    expect(targetWorker(supervisor, OTHER, ['supervisor'])).toBe(OTHER);
    expect(statusAndCode(() => targetWorker(agent, OTHER, ['supervisor']))).toEqual([403, 'WORKER_NOT_ALLOWED']);
    expect(statusAndCode(() => targetWorker(supervisor, OTHER, []))).toEqual([403, 'WORKER_NOT_ALLOWED']);
  });
});
