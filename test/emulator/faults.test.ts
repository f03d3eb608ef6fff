/**
 * Seeded fault injection: each fault decision is a hash of the seed and the request's identity (route, object, how
 * many such requests came before), so the same seed replays the same faults whatever order requests arrive in.
 * Checked on the pure plan and over HTTP on two emulators fed the same requests in different orders.
 */
import { EmulatorAdmin } from '../../emulator/admin-client';
import { FaultPlan, NO_FAULTS, faultDraws, objectIdentity, type FaultSettings } from '../../emulator/core/faults';
import { startEmulator, type Emulator } from '../../emulator/server';

const settings = (overrides: Partial<FaultSettings>): FaultSettings => ({ ...NO_FAULTS, ...overrides });
const identity = (n: number) => ({ route: 'GET /v1/Services/:ServiceSid/Documents/:DocumentSid', object: `/doc-${n}` });

describe('the fault plan', () => {
  it('decides the same for the same seed and identity, in any order', () => {
    const faults = settings({ errorRate: 0.2, throttleRate: 0.2, dropRate: 0.2, seed: 42 });
    const forward = new FaultPlan(faults);
    const backward = new FaultPlan(faults);
    const ids = Array.from({ length: 200 }, (_, n) => n);
    const decide = (plan: FaultPlan, n: number) => [0, 1, 2].map(() => plan.decide('sync', identity(n)));
    const a = new Map(ids.map((n) => [n, decide(forward, n)]));
    const b = new Map([...ids].reverse().map((n) => [n, decide(backward, n)]));
    expect(ids.map((n) => b.get(n))).toEqual(ids.map((n) => a.get(n)));
    // Retries of one request are new draws: some first attempts fail and their retry succeeds.
    expect(ids.filter((n) => a.get(n)![0].kind !== 'none' && a.get(n)![1].kind === 'none').length).toBeGreaterThan(10);
  });

  it('gives another plan for another seed', () => {
    const kinds = (seed: number) => {
      const plan = new FaultPlan(settings({ errorRate: 0.3, seed }));
      return Array.from({ length: 100 }, (_, n) => plan.decide('sync', identity(n)).kind);
    };
    expect(kinds(1)).toEqual(kinds(1));
    expect(kinds(2)).not.toEqual(kinds(1));
  });

  it('injects each fault at about its rate, 500 and 503 alike', () => {
    const plan = new FaultPlan(settings({ errorRate: 0.1, throttleRate: 0.2, dropRate: 0.3, seed: 7 }));
    const counts = { none: 0, error500: 0, error503: 0, throttle: 0, drop: 0 };
    for (let n = 0; n < 10_000; n++) {
      const d = plan.decide('sync', identity(n));
      if (d.kind === 'error') counts[d.status === 500 ? 'error500' : 'error503'] += 1;
      else counts[d.kind] += 1;
    }
    // Errors first (10 %), then 429s among the rest (20 % of 90 %), then drops (30 % of 72 %).
    expect(counts.error500 + counts.error503).toBeGreaterThan(900);
    expect(counts.error500 + counts.error503).toBeLessThan(1100);
    expect(Math.abs(counts.error500 - counts.error503)).toBeLessThan(150);
    expect(counts.throttle).toBeGreaterThan(1650);
    expect(counts.throttle).toBeLessThan(1950);
    expect(counts.drop).toBeGreaterThan(1980);
    expect(counts.drop).toBeLessThan(2340);
  });

  it('touches only the families it names, and nothing at all with every rate 0', () => {
    const iamOnly = new FaultPlan(settings({ errorRate: 1, families: ['iam'] }));
    expect(iamOnly.decide('sync', identity(1))).toEqual({ kind: 'none' });
    expect(iamOnly.decide('iam', identity(1))).toMatchObject({ kind: 'error' });
    const off = new FaultPlan(settings({ latencyMs: 50 }));
    expect(Array.from({ length: 50 }, (_, n) => off.decide('sync', identity(n)).kind)).toEqual(Array(50).fill('none'));
  });

  it('keys on the object a request names, including the item key or unique name it creates', () => {
    const form = (entries: Record<string, string>) => new URLSearchParams(entries);
    expect(objectIdentity('/v1/Services/IS1/Maps/m/Items', '', form({ Key: 'CA1', Data: '{}' }), undefined)).toBe(
      '/v1/Services/IS1/Maps/m/Items#CA1',
    );
    expect(objectIdentity('/v1/Services/IS1/Maps', '?PageSize=5', form({ UniqueName: 'm' }), undefined)).toBe(
      '/v1/Services/IS1/Maps?PageSize=5#m',
    );
    expect(objectIdentity('/v1/Accounts/AC1/Tokens/validate', '', form({}), { token: 't1' })).toBe(
      '/v1/Accounts/AC1/Tokens/validate#t1',
    );
    const [a] = faultDraws(0, identity(1), 1);
    const [b] = faultDraws(0, identity(1), 2);
    expect(a).not.toBe(b);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(1);
  });
});

describe('seeded faults over HTTP', () => {
  let emulators: Emulator[] = [];
  beforeAll(async () => {
    emulators = await Promise.all([startEmulator(), startEmulator()]);
  });
  afterAll(() => Promise.all(emulators.map((e) => e.close())));

  /** GET a document three times; the answer statuses, or "dropped" when the connection was cut. */
  async function attempts(emulator: Emulator, name: string): Promise<string[]> {
    const { accountSid, authToken, syncServiceSid } = emulator.config;
    const auth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    const out: string[] = [];
    for (let i = 0; i < 3; i++) {
      try {
        const response = await fetch(`${emulator.url}/v1/Services/${syncServiceSid}/Documents/${name}`, {
          headers: { Authorization: auth },
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        out.push(String(response.status));
      } catch {
        out.push('dropped');
      }
    }
    return out;
  }

  const NAMES = Array.from({ length: 30 }, (_, n) => `doc-${n}`);
  const FAULTS = { errorRate: 0.15, throttleRate: 0.15, dropRate: 0.15 };

  it('replays the same faults for the same seed, whether requests come one by one or all at once', async () => {
    const [one, two] = emulators;
    await Promise.all([one, two].map((e) => new EmulatorAdmin(e.url).faults({ ...FAULTS, seed: 1234 })));
    const sequential: string[][] = [];
    for (const name of NAMES) sequential.push(await attempts(one, name));
    const concurrent = await Promise.all([...NAMES].reverse().map((name) => attempts(two, name)));
    expect(concurrent.reverse()).toEqual(sequential);
    const all = sequential.flat();
    expect(all.filter((s) => s === '404').length).toBeGreaterThan(30); // the document does not exist: no fault
    for (const injected of ['500', '503', '429', 'dropped']) expect(all).toContain(injected);
  });

  it('starts counting again when the faults are set again, and another seed gives other faults', async () => {
    const [one] = emulators;
    const admin = new EmulatorAdmin(one.url);
    const run = async (seed: number) => {
      expect(await admin.faults({ ...FAULTS, seed })).toMatchObject({ seed });
      return Promise.all(NAMES.map((name) => attempts(one, name)));
    };
    const first = await run(99);
    expect(await run(99)).toEqual(first);
    expect(await run(100)).not.toEqual(first);
  });

  it('refuses a seed that is not a whole number from 0 to 2^32 - 1', async () => {
    const admin = new EmulatorAdmin(emulators[0].url);
    for (const seed of [-1, 1.5, 2 ** 32, 'x']) {
      await expect(admin.faults({ seed } as unknown as Partial<FaultSettings>)).rejects.toThrow(/seed/);
    }
    expect(await admin.faults({})).toMatchObject({ seed: 0 });
  });
});
