/** How a listed checkpoint document counts for the handover (pure part of shard-checkpoints.ts). */
import { EMPTY_STATE, readState, type CheckpointState } from '../../../src/recent-calls/checkpoint-state';
import { checkpointKey, sealOf } from '../../../src/recent-calls/checkpoint-seal';
import { CHECKPOINT_DOCUMENT_NAME } from '../../../src/recent-calls/map-name';
import { shardDocumentName, UNSHARDED } from '../../../src/recent-calls/shard';
import { checkpointCursorOf } from '../../../src/recent-calls/shard-checkpoints';

const key = checkpointKey({ AUTH_TOKEN: 'a'.repeat(32) });
const serviceSid = 'IS00000000000000000000000000000001';
const NOW = Date.parse('2026-03-10T12:00:00Z');
const options = { key, serviceSid, serverNowMs: NOW };
const shard = { index: 1, count: 3 };
const name = shardDocumentName(shard);

function sealed(state: CheckpointState, sealName = name, sealKey = key) {
  const read = readState(state);
  return { ...read, seal: sealOf(sealKey, `${serviceSid}/${sealName}`, read) };
}
const withCursor = (iso: string): CheckpointState => ({ ...EMPTY_STATE, cursor: iso });

describe('checkpointCursorOf', () => {
  it('a sealed shard document gives its shard and cursor; the main one counts as the regular run', () => {
    expect(
      checkpointCursorOf({ uniqueName: name, data: sealed(withCursor('2026-03-10T11:00:00.000Z')) }, options),
    ).toEqual({
      cursor: { shard, cursorMs: Date.parse('2026-03-10T11:00:00.000Z') },
      sealed: true,
    });
    const main = sealed(withCursor('2026-03-10T10:00:00.000Z'), CHECKPOINT_DOCUMENT_NAME);
    expect(checkpointCursorOf({ uniqueName: CHECKPOINT_DOCUMENT_NAME, data: main }, options)?.cursor).toEqual({
      shard: UNSHARDED,
      cursorMs: Date.parse('2026-03-10T10:00:00.000Z'),
    });
  });

  it('other documents are not checkpoints', () => {
    expect(checkpointCursorOf({ uniqueName: 'my-app-settings', data: {} }, options)).toBeUndefined();
    expect(checkpointCursorOf({ uniqueName: null, data: {} }, options)).toBeUndefined();
  });

  it('no cursor from a state that is unsealed, sealed for another document or key, or ahead of the clock', () => {
    const state = withCursor('2026-03-10T11:00:00.000Z');
    const cases = [
      { ...readState(state) },
      sealed(state, shardDocumentName({ index: 2, count: 3 })),
      sealed(state, name, checkpointKey({ AUTH_TOKEN: 'b'.repeat(32) })),
      { ...sealed(state), cursor: '2026-03-10T11:30:00.000Z' },
    ];
    for (const data of cases) {
      expect(checkpointCursorOf({ uniqueName: name, data }, options)).toEqual({
        cursor: { shard, cursorMs: undefined },
        sealed: false,
      });
    }
    const ahead = sealed(withCursor('2026-03-10T12:10:00.000Z'));
    expect(checkpointCursorOf({ uniqueName: name, data: ahead }, options)).toEqual({
      cursor: { shard, cursorMs: undefined },
      sealed: true,
    });
  });

  it('an unsealed empty state (as setup creates it) is no forgery, and has no cursor', () => {
    expect(checkpointCursorOf({ uniqueName: CHECKPOINT_DOCUMENT_NAME, data: { ...EMPTY_STATE } }, options)).toEqual({
      cursor: { shard: UNSHARDED, cursorMs: undefined },
      sealed: true,
    });
  });
});
