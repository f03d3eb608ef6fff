/** npm run setup -- --events callback|streams against the emulator: idempotent, secret to .env, a foreign callback kept. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runSetup } from '../../../scripts/setup';
import { useEmulator } from '../../helpers/emulator';

const t = useEmulator();
const BASE = 'https://example-1234.twil.io';
let dir: string;
let envFile: string;

beforeEach(() => {
  mkdirSync(join(__dirname, '..', '..', '..', 'dist'), { recursive: true });
  dir = mkdtempSync(join(__dirname, '..', '..', '..', 'dist', 'setup-events-'));
  envFile = join(dir, '.env');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = (extra: Record<string, string> = {}) => ({ TWILIO_EMULATOR_URL: t.emulator.url, ...extra });
const step = (result: Awaited<ReturnType<typeof runSetup>>, name: string) => result.steps.find((s) => s.step === name);
const workspace = () => t.client.taskrouter.v1.workspaces(t.emulator.config.workspaceSid);
const secretIn = (file: string) => /^TASKROUTER_EVENTS_SECRET=(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1];

describe('npm run setup -- --events', () => {
  it('callback: sets the workspace callback once, and never replaces a foreign one without --force', async () => {
    const first = await runSetup(env(), { events: { mode: 'callback', baseUrl: BASE, envFile } });
    expect(step(first, 'Workspace EventCallbackUrl')?.status).toBe('created');
    expect((await workspace().fetch()).eventCallbackUrl).toBe(`${BASE}/taskrouter-events`);
    expect((await workspace().fetch()).eventsFilter).toBe('reservation.completed');
    const again = await runSetup(env(), { events: { mode: 'callback', baseUrl: BASE, envFile } });
    expect(step(again, 'Workspace EventCallbackUrl')?.status).toBe('reused');

    await workspace().update({ eventCallbackUrl: 'https://other.example.com/flex-events' });
    const refused = await runSetup(env(), { events: { mode: 'callback', baseUrl: BASE, envFile } });
    expect(refused.ok).toBe(false);
    expect(step(refused, 'Workspace EventCallbackUrl')).toMatchObject({
      status: 'failed',
      detail: expect.stringContaining('--force'),
    });
    expect((await workspace().fetch()).eventCallbackUrl).toBe('https://other.example.com/flex-events');
    const forced = await runSetup(env(), { events: { mode: 'callback', baseUrl: BASE, envFile, force: true } });
    expect(step(forced, 'Workspace EventCallbackUrl')?.status).toBe('updated');
    expect((await workspace().fetch()).eventCallbackUrl).toBe(`${BASE}/taskrouter-events`);
  });

  it('streams: creates the sink with credentials and the subscription, writes the secret to .env, and a second run changes nothing', async () => {
    const first = await runSetup(env(), { events: { mode: 'streams', baseUrl: BASE, envFile } });
    expect(first.ok).toBe(true);
    const secret = secretIn(envFile)!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.stringify(first)).not.toContain(secret);
    const [sink] = await t.client.events.v1.sinks.list();
    expect(sink.sinkConfiguration).toMatchObject({
      destination: `https://taskrouter:${secret}@example-1234.twil.io/taskrouter-events`,
    });
    const [sub] = await t.client.events.v1.subscriptions.list({ sinkSid: sink.sid });
    expect((await t.client.events.v1.subscriptions(sub.sid).subscribedEvents.list()).map((e) => e.type)).toEqual([
      'com.twilio.taskrouter.reservation.completed',
    ]);

    const second = await runSetup(env({ TASKROUTER_EVENTS_SECRET: secret }), {
      events: { mode: 'streams', baseUrl: BASE, envFile },
    });
    expect(second.steps.filter((s) => /Event/.test(s.step)).map((s) => s.status)).toEqual([
      'reused',
      'reused',
      'reused',
    ]);
    expect((await t.client.events.v1.sinks.list()).map((s) => s.sid)).toEqual([sink.sid]);
    expect(secretIn(envFile)).toBe(secret);
  });

  it('refuses a base URL that is not https', async () => {
    await expect(
      runSetup(env(), { events: { mode: 'streams', baseUrl: 'http://example.com', envFile } }),
    ).rejects.toThrow(/https/);
  });
});
