/** npm run setup against the emulator: provisions once, then changes nothing. */
import { useEmulator } from '../../helpers/emulator';
import { runSetup } from '../../../scripts/setup';
import { CHECKPOINT_DOCUMENT_NAME } from '../../../src/recent-calls/map-name';
import { emulatorClient } from '../../helpers/system';

const t = useEmulator();

const writes = async () => {
  const stats = await t.admin.stats();
  return Object.entries(stats.byRoute)
    .filter(([route]) => /^(POST|DELETE) \/(v1|2010)/.test(route))
    .reduce((sum, [, n]) => sum + n, 0);
};

describe('npm run setup', () => {
  it('reuses the service, creates the checkpoint, checks workspace and key, and a second run changes nothing', async () => {
    const env = { TWILIO_EMULATOR_URL: t.emulator.url };
    const first = await runSetup(env);
    expect(first.target).toBe('emulator');
    expect(first.ok).toBe(true);
    expect(Object.fromEntries(first.steps.map((s) => [s.step, s.status]))).toEqual({
      'Sync service (ACLs on)': 'reused',
      'TaskRouter workspace': 'ok',
      'Checkpoint document': 'created',
      'API key (signs Sync tokens)': 'ok',
    });
    expect(first.env).toEqual({
      SYNC_SERVICE_SID: t.emulator.config.syncServiceSid,
      TWILIO_WORKSPACE_SID: t.emulator.config.workspaceSid,
      API_KEY: t.emulator.config.apiKey,
    });
    const sync = emulatorClient(t.emulator).sync.v1.services(t.emulator.config.syncServiceSid);
    expect((await sync.fetch()).aclEnabled).toBe(true);
    expect((await sync.documents(CHECKPOINT_DOCUMENT_NAME).fetch()).uniqueName).toBe(CHECKPOINT_DOCUMENT_NAME);

    const writesBefore = await writes();
    const second = await runSetup(env);
    expect(second.steps.map((s) => s.status)).toEqual(['reused', 'ok', 'reused', 'ok']);
    expect(await writes()).toBe(writesBefore);
    expect(JSON.stringify(second)).not.toContain(t.emulator.config.apiSecret);
  });

  it("turns ACLs on for an existing service only when asked to (it locks out the service's other clients)", async () => {
    const service = emulatorClient(t.emulator).sync.v1.services(t.emulator.config.syncServiceSid);
    await service.update({ aclEnabled: false });
    const env = { TWILIO_EMULATOR_URL: t.emulator.url };
    const refused = await runSetup(env);
    expect(refused.ok).toBe(false);
    expect(refused.steps[0]).toMatchObject({ status: 'failed', detail: expect.stringContaining('--enable-acl') });
    expect((await service.fetch()).aclEnabled).toBe(false);
    const enabled = await runSetup(env, { enableAcl: true });
    expect(enabled.steps[0].status).toBe('updated');
    expect((await service.fetch()).aclEnabled).toBe(true);
  });

  it('reports a wrong API secret, an unknown workspace and an unknown service instead of guessing', async () => {
    const result = await runSetup({
      TWILIO_EMULATOR_URL: t.emulator.url,
      API_SECRET: 'not-the-secret-0000000000000000',
      TWILIO_WORKSPACE_SID: 'WS' + 'f'.repeat(32),
    });
    expect(result.ok).toBe(false);
    expect(result.steps.find((s) => s.step.startsWith('TaskRouter'))?.status).toBe('failed');
    expect(result.steps.find((s) => s.step.startsWith('API key'))?.status).toBe('failed');
    const unknown = await runSetup({ TWILIO_EMULATOR_URL: t.emulator.url, SYNC_SERVICE_SID: 'IS' + 'f'.repeat(32) });
    expect(unknown.steps[0]).toMatchObject({ status: 'failed' });
  });

  it('explains what to do when neither credentials nor an emulator are there', async () => {
    await expect(runSetup({ TWILIO_EMULATOR_URL: 'http://127.0.0.1:9' })).rejects.toThrow(/npm run emulator/);
  });
});
