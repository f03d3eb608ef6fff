/** What a run reports (pure): outcome counts, the invocation's totals, the summary line. */
import {
  busySummary,
  countOutcome,
  emptyOutcomeCounts,
  emptyReadCounts,
  errorCode,
  runTotals,
  summaryFields,
  summaryLine,
  type JobSummary,
} from '../../../src/recent-calls/run-summary';
import type { WriteOutcome } from '../../../src/recent-calls/writer';

const metrics = (requests: number) => ({ requests, retries: 1, throttled: 2, serverErrors: 3, networkErrors: 4 });

function countsOf(outcomes: WriteOutcome[]) {
  const counts = emptyOutcomeCounts();
  for (const o of outcomes) countOutcome(counts, o);
  return counts;
}

describe('countOutcome', () => {
  it('counts each kind once; an item written whose permission waits counts as written', () => {
    expect(
      countsOf([
        { kind: 'written' },
        { kind: 'exists' },
        { kind: 'old' },
        { kind: 'not-attempted' },
        { kind: 'not-attempted', itemWritten: true },
        { kind: 'failed', retryable: true, code: '54009' },
        { kind: 'failed', retryable: false, code: '54006' },
        { kind: 'failed', retryable: false, code: '54006' },
      ]),
    ).toEqual({
      ...emptyOutcomeCounts(),
      written: 2,
      exists: 1,
      old: 1,
      notAttempted: 1,
      failedRetryable: 1,
      failedPermanent: 2,
    });
  });
});

describe('runTotals', () => {
  it('skipped = already there + too old + duplicates + ignored events; processed = written + skipped + failed', () => {
    const counts = { ...emptyOutcomeCounts(), written: 1, exists: 2, old: 4, duplicate: 8, ignored: 16 };
    expect(runTotals({ ...counts, failedRetryable: 32, failedPermanent: 64, givenUp: 128, notAttempted: 256 })).toEqual(
      { processed: 1 + 30 + 96, written: 1, skipped: 30, failed: 96 },
    );
    expect(runTotals(emptyOutcomeCounts())).toEqual({ processed: 0, written: 0, skipped: 0, failed: 0 });
  });
});

describe('busySummary', () => {
  it('says busy, not done, nothing processed', () => {
    expect(busySummary()).toEqual({
      done: false,
      busy: true,
      processed: 0,
      written: 0,
      skipped: 0,
      failed: 0,
      remaining: 0,
      remainingExact: false,
      syncedThrough: null,
    });
  });
});

describe('summary line', () => {
  const summary: JobSummary = {
    done: true,
    processed: 3,
    written: 2,
    skipped: 1,
    failed: 0,
    remaining: 0,
    remainingExact: true,
    syncedThrough: null,
  };

  it('summaryFields are flat, with an empty string for no cursor and the seal failure only when there was one', () => {
    expect(summaryFields(summary)).toEqual({ ...summary, syncedThrough: '' });
    expect(summaryFields({ ...summary, syncedThrough: 'x', checkpointIgnored: 'tampered' })).toMatchObject({
      syncedThrough: 'x',
      checkpointIgnored: 'tampered',
    });
    expect(summaryFields({ ...summary, busy: true })).not.toHaveProperty('busy');
  });

  it('a run that answered: its fields, every count, both clients’ requests added, the writer’s statistics', () => {
    const counts = { ...emptyOutcomeCounts(), written: 2, exists: 1, givenUp: 1 };
    const reads = { ...emptyReadCounts(), windows: 2, eventPages: 3 };
    const line = summaryLine({
      summary,
      counts,
      reads,
      metrics: [metrics(10), metrics(5)],
      stats: { itemCreates: 2 },
      lostLease: false,
      elapsedMs: 1234.6,
    });
    expect(line).toMatchObject({
      done: true,
      busy: false,
      exists: 1,
      givenUp: 1,
      requests: 15,
      retries: 2,
      throttled: 4,
      serverErrors: 6,
      networkErrors: 8,
      itemCreates: 2,
      windows: 2,
      eventPages: 3,
      lostLease: false,
      elapsedMs: 1235,
    });
    expect(line).not.toHaveProperty('error');
  });

  it('a run that failed before it could answer: its totals so far, and the error code', () => {
    const counts = { ...emptyOutcomeCounts(), written: 2, old: 1, failedRetryable: 1 };
    const line = summaryLine({
      summary: undefined,
      counts,
      reads: emptyReadCounts(),
      metrics: [],
      stats: {},
      lostLease: true,
      elapsedMs: 0,
      failure: { status: 503 },
    });
    expect(line).toMatchObject({
      done: false,
      processed: 4,
      written: 2,
      skipped: 1,
      failed: 1,
      remaining: 0,
      syncedThrough: '',
      requests: 0,
      lostLease: true,
      error: 'HTTP_503',
    });
  });

  it('a busy run says so', () => {
    const line = summaryLine({
      summary: busySummary(),
      counts: emptyOutcomeCounts(),
      reads: emptyReadCounts(),
      metrics: [],
      stats: {},
      lostLease: false,
      elapsedMs: 0,
    });
    expect(line.busy).toBe(true);
  });
});

describe('errorCode', () => {
  it('names an error by its code, else its HTTP status, else its name, else UNKNOWN', () => {
    expect(errorCode({ code: 20003, status: 401 })).toBe('20003');
    expect(errorCode({ code: 'ECONNRESET' })).toBe('ECONNRESET');
    expect(errorCode({ code: {}, status: 500 })).toBe('HTTP_500');
    expect(errorCode(new TypeError('x'))).toBe('TypeError');
    expect(errorCode(null)).toBe('UNKNOWN');
    expect(errorCode('boom')).toBe('UNKNOWN');
  });
});
