/** The shard model (pure): parameters, which agent each shard owns, document names. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describeError } from '../../../src/http/error-response';
import { InvalidParameter } from '../../../src/params/errors';
import { CHECKPOINT_DOCUMENT_NAME } from '../../../src/recent-calls/map-name';
import {
  MAX_SHARD_COUNT,
  readShardParams,
  shardDocumentName,
  shardFilter,
  shardLabel,
  shardOfDocument,
  shardOfWorker,
  UNSHARDED,
  type Shard,
} from '../../../src/recent-calls/shard';

const workerSid = fc.stringMatching(/^WK[0-9a-f]{32}$/);
const shardArb = fc
  .integer({ min: 2, max: MAX_SHARD_COUNT })
  .chain((count) => fc.integer({ min: 0, max: count - 1 }).map((index): Shard => ({ index, count })));

function refusal(params: Record<string, unknown>): { status: number; code: string; message: string } {
  try {
    readShardParams(params);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameter);
    const { status, code, message } = describeError(error);
    return { status, code, message };
  }
  throw new Error(`accepted ${JSON.stringify(params)}`);
}

describe('readShardParams', () => {
  it('reads a well-formed pair; neither parameter, or a count of 1, is the regular run', () => {
    expect(readShardParams({ ShardIndex: '2', ShardCount: '3' })).toEqual({ index: 2, count: 3 });
    expect(readShardParams({ ShardIndex: '0', ShardCount: String(MAX_SHARD_COUNT) })).toEqual({
      index: 0,
      count: MAX_SHARD_COUNT,
    });
    expect(readShardParams({})).toEqual(UNSHARDED);
    expect(readShardParams({ Invocation: '3' })).toEqual(UNSHARDED);
    expect(readShardParams({ ShardIndex: '0', ShardCount: '1' })).toEqual(UNSHARDED);
  });

  it.each([
    [{ ShardIndex: '1' }, /go together/],
    [{ ShardCount: '3' }, /go together/],
    [{ ShardIndex: '3', ShardCount: '3' }, /ShardIndex must be from 0 to 2/],
    [{ ShardIndex: '0', ShardCount: '0' }, /ShardCount must be from 1 to/],
    [{ ShardIndex: '0', ShardCount: String(MAX_SHARD_COUNT + 1) }, /ShardCount must be from 1 to/],
    [{ ShardIndex: '-1', ShardCount: '3' }, /plain decimal/],
    [{ ShardIndex: '01', ShardCount: '3' }, /plain decimal/],
    [{ ShardIndex: '1', ShardCount: '3.0' }, /plain decimal/],
    [{ ShardIndex: '1', ShardCount: ' 3' }, /plain decimal/],
    [{ ShardIndex: '1', ShardCount: '1e1' }, /plain decimal/],
    [{ ShardIndex: '', ShardCount: '3' }, /plain decimal/],
    [{ ShardIndex: 1, ShardCount: 3 }, /plain decimal/],
    [{ ShardIndex: ['1'], ShardCount: '3' }, /plain decimal/],
    [{ ShardIndex: '1', ShardCount: '9999' }, /plain decimal/],
  ])('refuses %j with 400 SHARD_INVALID', (params, message) => {
    const r = refusal(params);
    expect(r).toMatchObject({ status: 400, code: 'SHARD_INVALID' });
    expect(r.message).toMatch(message);
  });

  it('accepts exactly the canonical pairs in range (a value round-trips to the same string)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), (index, count) => {
        let shard: Shard | undefined;
        try {
          shard = readShardParams({ ShardIndex: index, ShardCount: count });
        } catch (error) {
          expect(describeError(error).code).toBe('SHARD_INVALID');
          return;
        }
        expect(String(Number(count))).toBe(count);
        expect(String(Number(index))).toBe(index);
        expect(Number(index)).toBeLessThan(Number(count));
        expect(shard.count === 1 ? UNSHARDED : shard).toEqual(shard);
      }),
    );
  });
});

describe('shardOfWorker', () => {
  it('is the first 4 bytes of SHA-256 of the worker SID, big-endian, mod the count', () => {
    const sid = 'WK0123456789abcdef0123456789abcdef';
    const expected = createHash('sha256').update(sid).digest().readUInt32BE(0) % 7;
    expect(shardOfWorker(sid, 7)).toBe(expected);
    expect(shardOfWorker(sid, 1)).toBe(0);
  });

  it('puts every agent in exactly one shard of a set', () => {
    fc.assert(
      fc.property(workerSid, fc.integer({ min: 2, max: MAX_SHARD_COUNT }), (sid, count) => {
        const owners = Array.from({ length: count }, (_, index) => shardFilter({ index, count })(sid));
        expect(owners.filter(Boolean)).toHaveLength(1);
        expect(owners.indexOf(true)).toBe(shardOfWorker(sid, count));
      }),
    );
  });

  it('spreads agents evenly enough that each shard gets a fair share of the maps', () => {
    const count = 4;
    const sizes = new Array(count).fill(0);
    for (let i = 0; i < 4000; i++) {
      const sid = `WK${createHash('md5').update(String(i)).digest('hex')}`;
      sizes[shardOfWorker(sid, count)] += 1;
    }
    for (const size of sizes) expect(Math.abs(size - 1000)).toBeLessThan(150);
  });

  it('the unsharded filter owns everyone', () => {
    fc.assert(fc.property(workerSid, (sid) => expect(shardFilter(UNSHARDED)(sid)).toBe(true)));
  });
});

describe('checkpoint document names', () => {
  it('the regular run keeps the main document; each shard its own, named by index and count', () => {
    expect(shardDocumentName(UNSHARDED)).toBe(CHECKPOINT_DOCUMENT_NAME);
    expect(shardDocumentName({ index: 1, count: 3 })).toBe(`${CHECKPOINT_DOCUMENT_NAME}-shard-1-of-3`);
    expect(shardLabel({ index: 1, count: 3 })).toBe('1-of-3');
    expect(shardLabel(UNSHARDED)).toBe('all');
  });

  it('reads a document name back to its shard, and nothing else as a checkpoint', () => {
    fc.assert(fc.property(shardArb, (shard) => expect(shardOfDocument(shardDocumentName(shard))).toEqual(shard)));
    expect(shardOfDocument(CHECKPOINT_DOCUMENT_NAME)).toEqual(UNSHARDED);
    for (const name of [
      `${CHECKPOINT_DOCUMENT_NAME}-shard-3-of-3`,
      `${CHECKPOINT_DOCUMENT_NAME}-shard-0-of-1`,
      `${CHECKPOINT_DOCUMENT_NAME}-shard-01-of-3`,
      `${CHECKPOINT_DOCUMENT_NAME}-shard-0-of-${MAX_SHARD_COUNT + 1}`,
      `${CHECKPOINT_DOCUMENT_NAME}-shard-0-of-3x`,
      'recent-calls-WK0123456789abcdef0123456789abcdef',
      'other',
    ]) {
      expect(shardOfDocument(name)).toBeUndefined();
    }
  });
});
