/**
 * The live agent view (assets/live.html) in Chromium on the real twilio-sync SDK's browser build: a Sync token from
 * /sync-token, the emulator's /v3/wsconnect, the map the real job wrote. A call the job writes appears without a
 * reload; a refresh happens near expiry and the status line says so; a call whose date_expires passed is hidden (by
 * the server time the new token carries); another agent's map is refused. Screenshots land in test-artifacts/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { recentCallsMapName } from '../../src/recent-calls/map-name';
import { handledCalls } from '../helpers/handled-calls';
import { startSystem, syncRecentCalls, type System } from '../helpers/system';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const STEP_TIMEOUT_MS = 20_000;
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && !process.env.CI)
  console.warn(`browser test skipped: ${CHROMIUM} not found (apt-get install chromium)`);
const describeInBrowser = HAVE_CHROMIUM || process.env.CI ? describe : describe.skip;

describeInBrowser('live agent view in Chromium (real twilio-sync)', () => {
  let system: System;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // The page calls /sync-token from its own origin (a POST carries Origin); its port is only known once started.
    system = await startSystem({ env: { FLEX_VALIDATION_CACHE_SECONDS: '0', ALLOWED_ORIGINS: '*' } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 30_000,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    const context = await browser.newContext({
      viewport: { width: 1000, height: 800 },
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  const count = async () => Number(await page.locator('#panel').getAttribute('data-count'));
  const keys = () =>
    page.locator('#calls-body tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.key));
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `live-view-${name}.png`), fullPage: true });
  const url = (query: Record<string, string>) =>
    `${system.functions.url}/live.html?${new URLSearchParams({ emulator: system.emulator.url, ...query }).toString()}`;

  it('adds a call the job writes live, refreshes its token near expiry, hides an expired call', async () => {
    // Calls over the last ~3 minutes: the newest end inside the job's 60 s settling lag and wait for the next run.
    const { agents } = await system.admin.seed({ agents: 4, callsPerAgent: 6, days: 0.002 });
    expect((await syncRecentCalls(system)).done).toBe(true);
    const service = system.twilio.sync.v1.services(system.emulator.config.syncServiceSid);
    const stored = async (workerSid: string) =>
      service
        .syncMaps(recentCallsMapName(workerSid))
        .syncMapItems.list({ pageSize: 100 })
        .then(
          (items) => items.length,
          () => 0,
        );
    // An agent with calls synced already and calls still to come.
    let agent = agents[0];
    for (const candidate of agents) {
      const handled = handledCalls(system.emulator).filter((c) => c.workerSid === candidate.workerSid).length;
      const now = await stored(candidate.workerSid);
      if (now > 0 && handled > now) agent = candidate;
    }
    const before = await stored(agent.workerSid);
    expect(before).toBeGreaterThan(0);

    await page.goto(url({ agent: agent.identity }));
    await page.locator(`#panel[data-count="${before}"]`).waitFor({ state: 'attached' });
    await page.locator('#panel[data-connection="connected"]').waitFor({ state: 'attached' });
    expect(await page.locator('#status').textContent()).toContain('connected');
    await shot('1-connected');

    // The job's next run writes the remaining calls: they appear without a reload, newest first.
    await system.admin.advanceClock(120);
    expect((await syncRecentCalls(system)).done).toBe(true);
    const after = await stored(agent.workerSid);
    expect(after).toBeGreaterThan(before);
    await page.locator(`#panel[data-count="${after}"]`).waitFor({ state: 'attached' });
    const shown = await keys();
    expect(shown).toEqual([...shown].sort().reverse());
    await shot('2-live-add');

    // A call that expires in 10 minutes (written as the job writes them, newest key), then the clock moves near the
    // token's expiry: the page refreshes its token, learns the server's time from it, and hides that call.
    const newestKey = shown[0]!;
    const shortLived = `${newestKey}~short`;
    await service.syncMaps(recentCallsMapName(agent.workerSid)).syncMapItems.create({
      key: shortLived,
      data: {
        direction: 'inbound',
        from: '+15550000000',
        to: '+15551111111',
        startedAt: new Date(system.emulator.clock.now()).toISOString(),
        durationSeconds: 5,
      },
      itemTtl: 600,
    });
    await page.locator(`#calls-body tr[data-key="${shortLived}"]`).waitFor({ state: 'attached' });
    const ttl = 14_400; // SYNC_TOKEN_TTL's default, what /sync-token issued
    await system.admin.advanceClock(ttl - 150);
    await page.locator('#panel[data-refreshed="true"]').waitFor({ state: 'attached' });
    expect(await page.locator('#status').textContent()).toMatch(/token refreshed at \d\d:\d\d:\d\d UTC/);
    await page.locator(`#calls-body tr[data-key="${shortLived}"]`).waitFor({ state: 'detached' });
    expect(await count()).toBe(after);
    await shot('3-refreshed-expired-hidden');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it("refuses another agent's map", async () => {
    const { agents } = await system.admin.agents();
    const [me, other] = agents;
    await page.goto(url({ agent: me.identity, worker: other.workerSid }));
    await page.locator('#panel[data-state="error"]').waitFor({ state: 'attached' });
    expect(await page.locator('#error').textContent()).toContain('403');
    await shot('4-other-agent-refused');
  }, 60_000);
});
