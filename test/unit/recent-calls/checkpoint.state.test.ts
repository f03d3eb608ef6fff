/** Reading checkpoint data. */
import { readState } from '../../../src/recent-calls/checkpoint';

describe('checkpoint state', () => {
  it('reads stored data tolerantly', () => {
    expect(readState(undefined)).toMatchObject({ v: 1, cursor: null, lease: null, failures: [] });
    expect(readState({ cursor: 'garbage', lease: { owner: 1 }, windowSeconds: -5 })).toMatchObject({
      cursor: null,
      lease: null,
      windowSeconds: null,
    });
    const state = readState({
      cursor: '2026-03-01T00:00:00.000Z',
      lease: { owner: 'run', until: '2026-03-01T00:00:10.000Z' },
      windowSeconds: 3600,
    });
    expect(state).toMatchObject({ cursor: '2026-03-01T00:00:00.000Z', lease: { owner: 'run' }, windowSeconds: 3600 });
  });
});
