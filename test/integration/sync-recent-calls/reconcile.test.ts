/**
 * Which maps the reconciler reads (against the emulator over HTTP): a read is worth a request only when it finds
 * records, so once a few maps are read, the share they found decides whether the others are read at all.
 */
import type { Twilio } from 'twilio';
import { startEmulator, type Emulator } from '../../../emulator/server';
import { recentCallItemKey } from '../../../src/recent-calls/item-key';
import { recentCallsMapName } from '../../../src/recent-calls/map-name';
import { Reconciler, SAMPLE_MAPS, type MapEntry } from '../../../src/recent-calls/reconcile';
import { Deadline } from '../../../src/twilio/deadline';
import { emulatorClient } from '../../helpers/system';

const MAPS = 12;
const RECORDS_PER_MAP = 3;
const T0 = Date.parse('2026-11-20T00:00:00Z') / 1000;

let emulator: Emulator;
let sdk: Twilio;

beforeAll(async () => {
  emulator = await startEmulator();
  sdk = emulatorClient(emulator);
});
afterAll(() => emulator?.close());

const workerSid = (agent: number, run: number) => `WK${String(run).padStart(2, '0')}${String(agent).padStart(30, '0')}`;
const taskSid = (agent: number, n: number) => `WT${String(agent).padStart(16, '0')}${String(n).padStart(16, '0')}`;

/** MAPS agents with an existing map each and RECORDS_PER_MAP records; `inMap(agent, n)`: that record is there already. */
async function agentsWithMaps(run: number, inMap: (agent: number, n: number) => boolean): Promise<MapEntry[]> {
  const service = sdk.sync.v1.services(emulator.config.syncServiceSid);
  const entries: MapEntry[] = [];
  for (let agent = 0; agent < MAPS; agent++) {
    const sid = workerSid(agent, run);
    await service.syncMaps.create({ uniqueName: recentCallsMapName(sid) });
    for (let n = 0; n < RECORDS_PER_MAP; n++) {
      const itemKey = recentCallItemKey(taskSid(agent, n), T0 + agent * 60 + n);
      entries.push({ workerSid: sid, itemKey });
      if (inMap(agent, n))
        await service.syncMaps(recentCallsMapName(sid)).syncMapItems.create({ key: itemKey, data: {} });
    }
  }
  return entries;
}

function reconciler() {
  return new Reconciler({ client: sdk, serviceSid: emulator.config.syncServiceSid, deadline: Deadline.none() });
}

describe('which maps are read', () => {
  it('when the first maps read hold none of their records, the others are left out (their records go to the writer)', async () => {
    const entries = await agentsWithMaps(1, () => false);
    for (const readers of [2, 32]) {
      const r = reconciler();
      const lookup = await r.lookup(entries, readers);
      expect(lookup.present.size).toBe(0);
      // Just the sample, however many readers: the others wait for it before they decide.
      expect(r.stats.rangeReads).toBe(SAMPLE_MAPS);
      expect(r.stats.rangeReadsLeftOut).toBe(MAPS - SAMPLE_MAPS);
    }
  });

  it('when they hold their records (pushed calls), every map is read and every record found', async () => {
    const entries = await agentsWithMaps(2, () => true);
    const r = reconciler();
    const lookup = await r.lookup(entries, 2);
    expect(lookup.present.size).toBe(entries.length);
    expect(r.stats.rangeReads).toBe(MAPS);
    expect(r.stats.rangeReadsLeftOut).toBe(0);
  });

  it('a map is read when the share found says it would find at least one of its records', async () => {
    // One record in three is there: a map of three records is worth its read (1 expected), as the first ones showed.
    const entries = await agentsWithMaps(3, (_agent, n) => n === 0);
    const r = reconciler();
    const lookup = await r.lookup(entries, 2);
    expect(lookup.present.size).toBe(MAPS);
    expect(r.stats.rangeReadsLeftOut).toBe(0);
  });
});
