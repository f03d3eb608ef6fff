/** The summary line of a run that failed before it could answer: nothing claimed exact, every read count present. */
import { emptyOutcomeCounts, emptyReadCounts, summaryLine } from '../../../src/recent-calls/run-summary';

describe('summary line without an answer', () => {
  it('claims no exact remainder and reports every read count, zero when nothing was read', () => {
    const line = summaryLine({
      summary: undefined,
      counts: emptyOutcomeCounts(),
      reads: emptyReadCounts(),
      metrics: [],
      stats: {},
      lostLease: false,
      elapsedMs: 0,
      failure: new Error('x'),
    });
    expect(line).toMatchObject({ done: false, remaining: 0, remainingExact: false, error: 'Error' });
    for (const field of [
      'windows',
      'eventPages',
      'callPages',
      'callsMissing',
      'outboundMatched',
      'outboundUnmatched',
      'callListsPartial',
      'readsOutOfBudget',
    ]) {
      expect([field, line[field]]).toEqual([field, 0]);
    }
  });
});
