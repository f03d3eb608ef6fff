/** Stored attempt entries and checkpoint fields read from an untrusted document: wrong types are dropped. */
import { readAttempts } from '../../../src/recent-calls/attempts';
import { readState } from '../../../src/recent-calls/checkpoint-state';

const AT = '2026-03-01T10:00:00.000Z';

describe('stored attempts of the wrong shape', () => {
  it('reads nothing from a missing, non-object or array value', () => {
    for (const value of [null, undefined, 0, 'EVa', [{ runs: 1, at: AT }]]) expect(readAttempts(value)).toEqual({});
  });

  it('drops entries whose time is not a readable date string', () => {
    expect(readAttempts({ EVa: { runs: 1, at: 5 }, EVb: { runs: 1, at: 'soon' }, EVc: { runs: 2, at: AT } })).toEqual({
      EVc: { runs: 2, at: AT },
    });
  });
});

describe('checkpoint fields of the wrong type', () => {
  it('are read as absent', () => {
    const state = readState({
      cursor: 5,
      updatedAt: 1_772_000_000_000,
      windowSeconds: '3600',
      lease: { owner: 7, until: AT },
    });
    expect(state).toMatchObject({ cursor: null, updatedAt: null, windowSeconds: null, lease: null });
    expect(readState({ lease: { owner: 'run-1', until: AT } }).lease).toEqual({ owner: 'run-1', until: AT });
  });
});
