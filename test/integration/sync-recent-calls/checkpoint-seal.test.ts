/**
 * The checkpoint's seal against the emulator, through the real SDK: a state is trusted only with the seal of the
 * functions' key. Whoever writes the document without that key (here: straight through the Sync REST API, as a
 * Sync token on a service without ACLs could) has the state ignored, lease and cursor included, and a save that
 * finds a forged state in its way overwrites it instead of giving up.
 */
import { EMPTY_STATE } from '../../../src/recent-calls/checkpoint-state';
import { CheckpointStore } from '../../../src/recent-calls/checkpoint-store';
import { acquireLease } from '../../../src/recent-calls/lease';
import { canonicalJson, checkpointKey, sealOf } from '../../../src/recent-calls/checkpoint-seal';
import { CHECKPOINT_DOCUMENT_NAME } from '../../../src/recent-calls/map-name';
import { TwilioHttpClient } from '../../../src/twilio/http-client';
import { useEmulator } from '../../helpers/emulator';

const t = useEmulator();
const key = () => checkpointKey({ AUTH_TOKEN: t.emulator.config.authToken });
const store = (k = key()) => new CheckpointStore(t.client, t.emulator.config.syncServiceSid, k);
const documents = () => t.client.sync.v1.services(t.emulator.config.syncServiceSid).documents;
const http = () => new TwilioHttpClient({ emulatorUrl: t.emulator.url });
const LEASE_MS = 12_000;

/** Writes `data` over the checkpoint through REST, as a forger would. */
async function forge(data: Record<string, unknown>): Promise<void> {
  await documents()(CHECKPOINT_DOCUMENT_NAME).update({ data });
}

describe('checkpoint seal', () => {
  it('the key comes from CHECKPOINT_SECRET when set, else AUTH_TOKEN; a short secret is a configuration error', () => {
    const a = checkpointKey({ AUTH_TOKEN: 'a'.repeat(32) });
    expect(a).toHaveLength(32);
    expect(checkpointKey({ AUTH_TOKEN: 'a'.repeat(32) }).equals(a)).toBe(true);
    expect(checkpointKey({ AUTH_TOKEN: 'b'.repeat(32) }).equals(a)).toBe(false);
    expect(checkpointKey({ AUTH_TOKEN: 'a'.repeat(32), CHECKPOINT_SECRET: 's'.repeat(40) }).equals(a)).toBe(false);
    expect(() => checkpointKey({ AUTH_TOKEN: 'a'.repeat(32), CHECKPOINT_SECRET: 'short' })).toThrow(
      /CHECKPOINT_SECRET/,
    );
    expect(() => checkpointKey({})).toThrow(/AUTH_TOKEN/);
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}',
    );
  });

  it('a sealed state reads back as written, whatever key order Sync hands back', async () => {
    const s = store();
    const base = await s.loadOrCreate();
    expect(base.rejected).toBeUndefined();
    const cursor = new Date(t.emulator.clock.now() - 3600_000).toISOString();
    const saved = await s.save(
      { ...base.state, cursor, attempts: { EVb: { runs: 2, at: cursor }, EVa: { runs: 1, at: cursor } } },
      base.revision,
    );
    expect(saved.ok).toBe(true);
    const loaded = (await store().load())!;
    expect(loaded.rejected).toBeUndefined();
    expect(loaded.state.cursor).toBe(cursor);
    // Reordered keys (as a store that sorts JSON keys would hand them back) keep the seal valid.
    const doc = await documents()(CHECKPOINT_DOCUMENT_NAME).fetch();
    const reversed = Object.fromEntries(Object.entries(doc.data as Record<string, unknown>).reverse());
    await forge(reversed);
    expect((await store().load())!).toMatchObject({ state: { cursor } });
    expect((await store().load())!.rejected).toBeUndefined();
  });

  it('an unsealed, tampered or differently keyed state is ignored: no cursor, no lease', async () => {
    const s = store();
    const base = await s.loadOrCreate();
    const plausible = new Date(t.emulator.clock.now() - 60_000).toISOString();
    const until = new Date(t.emulator.clock.now() + 10_000).toISOString();
    const forged = { ...base.state, cursor: plausible, lease: { owner: 'mallory', until } };

    await forge(forged);
    expect(await s.load()).toMatchObject({ rejected: 'unsealed', state: EMPTY_STATE });

    const doc = await documents()(CHECKPOINT_DOCUMENT_NAME).fetch();
    await forge({
      ...forged,
      seal: sealOf(key(), `${t.emulator.config.syncServiceSid}/${CHECKPOINT_DOCUMENT_NAME}`, EMPTY_STATE),
    });
    expect(await s.load()).toMatchObject({ rejected: 'tampered', state: EMPTY_STATE });
    expect(doc.revision).toBeDefined();

    await store(checkpointKey({ AUTH_TOKEN: 'e'.repeat(32) })).save(forged, (await s.load())!.revision);
    expect(await s.load()).toMatchObject({ rejected: 'tampered', state: EMPTY_STATE });
  });

  it('a forged live lease does not make the job busy: the lease is taken over it, and the forgery reported', async () => {
    const s = store();
    await s.loadOrCreate();
    await forge({
      ...EMPTY_STATE,
      lease: { owner: 'mallory', until: new Date(t.emulator.clock.now() + 10_000).toISOString() },
    });
    const clock = http();
    const result = await acquireLease(s, 'run-1', () => clock.serverNow(), LEASE_MS);
    expect(result).toMatchObject({
      ok: true,
      rejectedState: 'unsealed',
      checkpoint: { state: { lease: { owner: 'run-1' } } },
    });
    // A sealed lease of a real run still excludes the next one.
    expect(await acquireLease(store(), 'run-2', () => clock.serverNow(), LEASE_MS)).toMatchObject({
      ok: false,
      reason: 'busy',
    });
  });

  it('a save that meets a forged state (412) overwrites it; one that meets a sealed state of another run stops', async () => {
    const s = store();
    const base = await s.loadOrCreate();
    await forge({
      ...EMPTY_STATE,
      lease: { owner: 'mallory', until: new Date(t.emulator.clock.now() + 10_000).toISOString() },
    });
    const cursor = new Date(t.emulator.clock.now() - 120_000).toISOString();
    const saved = await s.save({ ...base.state, cursor }, base.revision);
    expect(saved).toMatchObject({ ok: true, checkpoint: { state: { cursor } } });
    expect(s.forgeries).toBeGreaterThan(0);
    expect((await store().load())!).toMatchObject({ state: { cursor } });
    expect((await store().load())!.rejected).toBeUndefined();

    const current = (await s.load())!;
    expect((await store().save({ ...current.state, cursor: null }, current.revision)).ok).toBe(true); // another run
    expect(await s.save({ ...current.state, cursor }, current.revision)).toEqual({ ok: false, reason: 'conflict' });
  });
});
