/**
 * Proxy mode: the emulator answers HTTP CONNECT for Twilio hosts only, terminates TLS with this run's CA, and routes
 * by host (Sync and Serverless both own /v1/Services); the loopback port tells them apart by a host path segment.
 */
import { X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { useEmulator } from '../helpers/emulator';
import { proxiedRequest, proxiedUpgradeStatus } from '../helpers/proxied-https';

const t = useEmulator();

const basic = () =>
  `Basic ${Buffer.from(`${t.emulator.config.accountSid}:${t.emulator.config.authToken}`).toString('base64')}`;

/** What the proxy answers to CONNECT for this authority (status line only). */
function connectStatus(authority: string): Promise<number> {
  const proxy = new URL(t.emulator.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: authority });
    req.once('connect', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

async function viaProxy(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  const { caPem, proxyUrl } = await t.admin.config();
  return proxiedRequest({
    proxyUrl,
    ca: caPem,
    url,
    method: init.method,
    body: init.body,
    headers: { Authorization: basic(), ...init.headers },
  });
}

describe('proxy mode', () => {
  it('publishes the proxy URL and a CA certificate of its own in the admin config', async () => {
    const config = await t.admin.config();
    expect(config.proxyUrl).toBe(t.emulator.url);
    const ca = new X509Certificate(config.caPem);
    expect(ca.ca).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true); // self-signed root, made for this run
  });

  it('refuses to tunnel anything but port 443 of a Twilio host, and never goes to the network', async () => {
    expect(await connectStatus('example.com:443')).toBe(403);
    expect(await connectStatus('twilio.com.evil.example:443')).toBe(403);
    expect(await connectStatus('sync.twilio.com:80')).toBe(403);
    expect(await connectStatus('127.0.0.1:443')).toBe(403);
    expect(await connectStatus('unknown-product.twilio.com:443')).toBe(403);
    expect(await connectStatus('sync.twilio.com:443')).toBe(200);
  });

  it('terminates TLS with a certificate the CA signed for the host, which a client without the CA rejects', async () => {
    const { proxyUrl } = await t.admin.config();
    await expect(proxiedRequest({ proxyUrl, url: 'https://sync.twilio.com/v1/Services' })).rejects.toThrow(
      /certificate/i,
    );
  });

  it('routes /v1/Services by host: Sync on sync.twilio.com, Serverless on serverless.twilio.com', async () => {
    const sync = await viaProxy('https://sync.twilio.com/v1/Services');
    expect(sync.status).toBe(200);
    expect(sync.json().services[0]).toMatchObject({ sid: t.emulator.config.syncServiceSid, acl_enabled: true });
    expect(sync.json().meta.url).toMatch(/^https:\/\/sync\.twilio\.com\/v1\/Services\?/);

    const created = await viaProxy('https://serverless.twilio.com/v1/Services', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'UniqueName=proxy-test&FriendlyName=proxy-test',
    });
    expect(created.status).toBe(201);
    expect(created.json()).toMatchObject({
      sid: expect.stringMatching(/^ZS/),
      url: expect.stringMatching(/^https:\/\/serverless\.twilio\.com\//),
    });
    const serverless = await viaProxy('https://serverless.twilio.com/v1/Services');
    expect(serverless.json().services.map((s: { unique_name: string }) => s.unique_name)).toEqual(['proxy-test']);
  });

  it('requires Twilio credentials through the proxy as on the loopback port', async () => {
    const reply = await viaProxy('https://serverless.twilio.com/v1/Services', {
      headers: { Authorization: 'Basic bm9wZTpub3Bl' },
    });
    expect(reply.status).toBe(401);
    expect(reply.json().code).toBe(20003);
  });

  it('hands WebSocket upgrades on tsock.* to the Sync client endpoint, and on no other host', async () => {
    const { caPem, proxyUrl } = await t.admin.config();
    expect(await proxiedUpgradeStatus({ proxyUrl, ca: caPem, url: 'https://tsock.us1.twilio.com/v3/wsconnect' })).toBe(
      101,
    );
    expect(await proxiedUpgradeStatus({ proxyUrl, ca: caPem, url: 'https://sync.twilio.com/v3/wsconnect' })).toBe(404);
  });

  it('does not serve the admin API on Twilio hosts', async () => {
    const reply = await viaProxy('https://sync.twilio.com/__admin/config');
    expect(reply.status).toBe(404);
  });

  it('keeps the loopback paths: no host means the historical families, a host segment routes by host', async () => {
    const get = (path: string) =>
      fetch(`${t.emulator.url}${path}`, { headers: { Authorization: basic() } }).then((r) => r.json());
    await fetch(`${t.emulator.url}/serverless.twilio.com/v1/Services`, {
      method: 'POST',
      headers: { Authorization: basic(), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'UniqueName=loopback&FriendlyName=loopback',
    });
    const legacy = await get('/v1/Services');
    const sync = await get('/sync.twilio.com/v1/Services');
    const serverless = await get('/serverless.twilio.com/v1/Services');
    expect(legacy.services.map((s: { sid: string }) => s.sid)).toEqual([t.emulator.config.syncServiceSid]);
    expect(sync.services.map((s: { sid: string }) => s.sid)).toEqual([t.emulator.config.syncServiceSid]);
    expect(serverless.services.map((s: { unique_name: string }) => s.unique_name)).toEqual(['loopback']);
    // URLs in answers carry the host too, so following them stays on the same family.
    expect(serverless.meta.url).toBe(`${t.emulator.url}/serverless.twilio.com/v1/Services?PageSize=50&Page=0`);
  });
});
