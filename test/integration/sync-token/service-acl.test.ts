/**
 * The Sync service's ACL setting, looked up against the emulator over HTTP: once per warm instance and recheck
 * period (a fake monotonic clock moves it), shared by /sync-token's check and the pushed events, and forgotten by the
 * one warm-state reset.
 */
import twilio from 'twilio';
import { useEmulator } from '../../helpers/emulator';
import { ConfigError } from '../../../src/config/errors';
import { resetWarmState } from '../../../src/runtime/warm-state';
import { ACL_RECHECK_MS, requireServiceAcl, serviceAclEnabled } from '../../../src/tokens/service-acl';
import { TwilioHttpClient } from '../../../src/twilio/http-client';

const t = useEmulator();
beforeEach(resetWarmState);

function counted() {
  const http = new TwilioHttpClient({ emulatorUrl: t.emulator.url });
  const client = twilio(t.emulator.config.accountSid, t.emulator.config.authToken, { httpClient: http });
  return { client: () => client, requests: () => http.metrics.requests };
}

describe('the Sync service ACL setting', () => {
  it('is read once per recheck period, then again; a warm-state reset forgets it', async () => {
    const { client, requests } = counted();
    const sid = t.emulator.config.syncServiceSid;
    let now = 0;
    const clock = () => now;
    await t.client.sync.v1.services(sid).update({ aclEnabled: true });
    expect(await serviceAclEnabled(client, sid, clock)).toBe(true);
    await t.client.sync.v1.services(sid).update({ aclEnabled: false });
    now = ACL_RECHECK_MS; // still within the period: the warm instance keeps what it read
    expect(await serviceAclEnabled(client, sid, clock)).toBe(true);
    await requireServiceAcl(client, sid, false, clock);
    expect(requests()).toBe(1);
    now = ACL_RECHECK_MS + 1;
    expect(await serviceAclEnabled(client, sid, clock)).toBe(false);
    expect(requests()).toBe(2);

    await t.client.sync.v1.services(sid).update({ aclEnabled: true });
    expect(await serviceAclEnabled(client, sid, clock)).toBe(false); // cached again
    resetWarmState();
    expect(await serviceAclEnabled(client, sid, clock)).toBe(true);
    expect(requests()).toBe(3);
  });

  it('refuses a service with ACLs disabled unless allowed, and names a missing service as a configuration error', async () => {
    const { client, requests } = counted();
    const sid = t.emulator.config.syncServiceSid;
    await t.client.sync.v1.services(sid).update({ aclEnabled: false });
    await expect(requireServiceAcl(client, sid, false)).rejects.toThrow(ConfigError);
    await expect(requireServiceAcl(client, sid, false)).rejects.toThrow(/ACLs disabled/);
    await requireServiceAcl(client, sid, true);
    expect(requests()).toBe(1); // allowed: not even looked up

    const missing = 'IS' + 'f'.repeat(32);
    const error = await requireServiceAcl(client, missing, false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain(missing);
  });
});
