/**
 * A parallel backfill end to end: the built /sync-recent-calls under twilio-run, driven as `npm run sync-calls --
 * --parallel N` drives it (scripts/sync-calls.ts), against the emulator's seeded workspace. Expectations come from
 * the emulator's own records (test/helpers/handled-calls.ts), and every item write is watched as the emulator
 * answers it, so "no record written twice" is what Sync saw, not what the job says.
 */
import type { ObservedAnswer } from '../../../emulator/server';
import { shardParams, signedRequest, syncShards, syncUntilDone } from '../../../scripts/sync-calls';
import { CHECKPOINT_DOCUMENT_NAME } from '../../../src/recent-calls/map-name';
import { shardDocumentName, shardOfWorker } from '../../../src/recent-calls/shard';
import { handledCalls } from '../../helpers/handled-calls';
import { jobUrl, startSystem, type System } from '../../helpers/system';

let system: System;
/** Item creates as the emulator answered them: `mapName|key` → statuses. */
const itemWrites = new Map<string, number[]>();

beforeAll(async () => {
  system = await startSystem();
  system.emulator.observers.push((answer: ObservedAnswer) => {
    if (answer.method !== 'POST' || answer.pattern !== '/v1/Services/:ServiceSid/Maps/:MapSid/Items') return;
    const body = answer.body as { map_sid?: string; key?: string } | undefined;
    // Only a created item names itself in the answer; refusals are counted under their status.
    const id = body?.key ? `${mapNameOf(body.map_sid)}|${body.key}` : `refused ${answer.status}`;
    itemWrites.set(id, [...(itemWrites.get(id) ?? []), answer.status]);
  });
});
afterAll(() => system?.stop());

function mapNameOf(mapSid: string | undefined): string {
  const service = system.emulator.state.sync.services.get(system.emulator.config.syncServiceSid)!;
  return service.maps.get(mapSid ?? '')?.uniqueName ?? `unknown ${mapSid}`;
}

/** Every item in every map, as `mapName|key`. */
function itemsInSync(): string[] {
  const service = system.emulator.state.sync.services.get(system.emulator.config.syncServiceSid)!;
  return [...service.maps.values()].flatMap((m) => [...m.items.keys()].map((key) => `${m.uniqueName}|${key}`));
}

function documentNames(): string[] {
  const service = system.emulator.state.sync.services.get(system.emulator.config.syncServiceSid)!;
  return [...service.documents.values()].map((d) => d.uniqueName ?? '').sort();
}

const drive = { url: '', authToken: '', log: () => undefined };

async function invoke(params: Record<string, string>) {
  const signed = signedRequest(jobUrl(system), system.emulator.config.authToken, params);
  const response = await fetch(jobUrl(system), { method: 'POST', headers: signed.headers, body: signed.body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Calls handled now by each of `workerSids`; resolves once their completions are in the Events log and settled. */
async function liveCalls(workerSids: string[]): Promise<void> {
  const before = handledCalls(system.emulator).length;
  for (const workerSid of workerSids) await system.admin.liveCalls({ workerSid, count: 1, talkSeconds: 0 });
  for (let i = 0; i < 200 && handledCalls(system.emulator).length < before + workerSids.length; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(handledCalls(system.emulator).length).toBe(before + workerSids.length);
  await system.admin.advanceClock(120); // past the job's settling lag
}

describe('shard parameters', () => {
  beforeAll(() => system.admin.reset());

  it.each([
    [{ ShardIndex: '3', ShardCount: '3' }],
    [{ ShardIndex: '0' }],
    [{ ShardIndex: '0', ShardCount: '99' }],
    [{ ShardIndex: '+1', ShardCount: '3' }],
  ])('refuses %j, signed, with 400 SHARD_INVALID and does nothing', async (params) => {
    const answer = await invoke({ Invocation: '1', ...params });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'SHARD_INVALID', status: 400 });
    expect(documentNames()).toEqual([]);
  });

  it('a signature names only the endpoint’s parameters: any other name is refused before it is judged', async () => {
    const answer = await invoke({ Invocation: '1', Shard: '1', ShardCount: '3' });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ code: 'SIGNATURE_INVALID' });
  });
});

describe('a backfill with 3 shards, then 2 shards interrupted, then the regular run', () => {
  beforeAll(async () => {
    await system.admin.reset();
    itemWrites.clear();
  });

  it('leaves every map with exactly its calls, each item created once, none missing', async () => {
    const seeded = await system.admin.seed({ agents: 24, callsPerAgent: 6, days: 8 });
    await system.admin.advanceClock(120);
    Object.assign(drive, { url: jobUrl(system), authToken: system.emulator.config.authToken });
    const workers = seeded.agents.map((a) => a.workerSid);

    // 1. The backfill: 3 shards at once, each with its own checkpoint; every agent in exactly one.
    const backfill = await syncShards({ ...drive, shards: 3, handover: false });
    expect(backfill.error).toBeUndefined();
    expect(backfill.done).toBe(true);
    expect(backfill.shards.map((s) => s.last?.shard)).toEqual(['0-of-3', '1-of-3', '2-of-3']);
    expect(documentNames()).toEqual([0, 1, 2].map((index) => shardDocumentName({ index, count: 3 })).sort());
    const afterBackfill = handledCalls(system.emulator).map((c) => c.key);
    expect(itemsInSync().sort()).toEqual([...afterBackfill].sort());
    // Each shard wrote its own agents' calls: the shards' counts add up, and nothing was written by two.
    const perShard = [0, 1, 2].map(
      (index) => handledCalls(system.emulator).filter((c) => shardOfWorker(c.workerSid, 3) === index).length,
    );
    expect(backfill.shards.map((s) => s.totals.written)).toEqual(perShard);

    // 2. New calls for agents of both halves of a 2-shard set; then 2 shards, interrupted: shard 0 runs to its end,
    //    shard 1 never starts. The set is incomplete and must not be adopted.
    const half = (index: number) => workers.filter((sid) => shardOfWorker(sid, 2) === index).slice(0, 3);
    await liveCalls([...half(0), ...half(1)]);
    const interrupted = await syncUntilDone({ ...drive, params: shardParams(0, 2), maxInvocations: 5 });
    expect(interrupted.done).toBe(true);
    expect(interrupted.totals.written).toBe(3);
    const missingBeforePlain = handledCalls(system.emulator).filter((c) => !itemsInSync().includes(c.key));
    expect(missingBeforePlain.map((c) => c.workerSid).sort()).toEqual([...half(1)].sort());

    // 3. More calls, then the regular run: it starts from the completed 3-shard set's minimum (not from shard 0 of
    //    2's cursor, which would skip shard 1's calls), re-reads what shard 0 of 2 wrote without writing it again.
    await liveCalls([...half(0).slice(0, 2), ...half(1).slice(0, 2)]);
    const plain = await syncUntilDone({ ...drive, maxInvocations: 10 });
    expect(plain.error).toBeUndefined();
    expect(plain.done).toBe(true);
    expect(plain.totals.written).toBe(3 + 4);
    expect(documentNames()).toContain(CHECKPOINT_DOCUMENT_NAME);

    // Exactly the expected items: every completed reservation once, nothing else.
    const expected = handledCalls(system.emulator).map((c) => c.key);
    expect(new Set(expected).size).toBe(expected.length);
    expect(itemsInSync().sort()).toEqual([...expected].sort());
    // Every item created by exactly one request, answered 201; no create ever found its item there already (409).
    // The only refusals allowed: at most one 404 per map, a first write before its map existed (the map is then
    // created and the write sent again).
    const maps = new Set(expected.map((key) => key.split('|')[0])).size;
    expect((itemWrites.get('refused 404') ?? []).length).toBeLessThanOrEqual(maps);
    itemWrites.delete('refused 404');
    expect([...itemWrites.keys()].sort()).toEqual([...expected].sort());
    for (const statuses of itemWrites.values()) expect(statuses).toEqual([201]);

    // 4. Changing N again after the handover: 4 shards start where the regular run got to and find nothing to do.
    const again = await syncShards({ ...drive, shards: 4, handover: true });
    expect(again.done).toBe(true);
    expect(again.totals.written).toBe(0);
    expect(itemsInSync().sort()).toEqual([...expected].sort());
  });
});
