/**
 * The recent-calls page in Chromium (Debian's /usr/bin/chromium driven by playwright-core): served by twilio-run from
 * assets/, talking to the built /recent-calls function and to the emulator's admin API, with data the real sync job
 * wrote. Expectations come from the emulator's own records (events and calls), not from the page's or the function's
 * code. Screenshots land in test-artifacts/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { recentCallsMapName } from '../../src/recent-calls/map-name';
import type { SeededAgent } from '../../emulator/seed';
import { startSystem, syncRecentCalls, type System } from '../helpers/system';
import { handledCalls as handledCallsOf } from '../helpers/handled-calls';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const STEP_TIMEOUT_MS = 15_000;
const DAY_S = 86_400;
const DEPLOYED_HOST = 'recent-calls.example';

/**
 * Without Debian's chromium (`apt-get install chromium`) a developer's `npm test` skips this file, so the quick start
 * needs no browser; under CI (.ci/run installs chromium) a missing browser fails the run instead.
 */
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && !process.env.CI)
  console.warn(`browser test skipped: ${CHROMIUM} not found (apt-get install chromium)`);
const describeInBrowser = HAVE_CHROMIUM || process.env.CI ? describe : describe.skip;

describeInBrowser('recent-calls page in Chromium', () => {
  let system: System;
  let browser: Browser;
  let page: Page;
  let agents: SeededAgent[];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    system = await startSystem();
    await system.admin.setLimits({ sweepLagSeconds: 90 * DAY_S }); // expired items stay in Sync: the reader must hide them
    // 20 days of calls: all of them are inside the 30-day window, and all have expired 31 days later.
    agents = (await system.admin.seed({ agents: 3, callsPerAgent: 10, days: 20 })).agents;
    await system.admin.advanceClock(120); // past the job's settling lag
    const run = await syncRecentCalls(system);
    expect(run.done).toBe(true);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 30_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        // A non-loopback name for the same server, to see the page as it is deployed (no demo agents).
        `--host-resolver-rules=MAP ${DEPLOYED_HOST} 127.0.0.1`,
      ],
    });
    const context = await browser.newContext({
      viewport: { width: 1000, height: 900 },
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  /** The agent's completed voice reservations according to the emulator, newest first, with the other party. */
  function handledCalls(workerSid: string) {
    return handledCallsOf(system.emulator)
      .filter((c) => c.workerSid === workerSid)
      .map((c) => {
        const outbound = c.direction.startsWith('outbound');
        return {
          itemKey: c.itemKey,
          startMs: c.startMs,
          otherParty: String(outbound ? c.data.to : c.data.from),
          direction: outbound ? 'Outbound' : 'Inbound',
        };
      })
      .sort((a, b) => (a.itemKey < b.itemKey ? 1 : -1)); // newest first by item key, as /recent-calls answers
  }

  const panelState = () => page.locator('#panel').getAttribute('data-state');
  const rows = () => page.locator('#calls-body tr');

  async function waitForState(state: string) {
    await page.locator(`#panel[data-state="${state}"]`).waitFor({ state: 'attached' });
  }

  it("away from localhost, asks for a Flex token; a supervisor reads an agent's calls by worker SID", async () => {
    const agent = agents[2];
    const expected = handledCalls(agent.workerSid);
    await page.goto(`http://${DEPLOYED_HOST}:${system.functions.port}/index.html`);
    await waitForState('idle');
    expect(await page.locator('#demo-form').isHidden()).toBe(true);
    expect(await page.locator('#token-form').isVisible()).toBe(true);
    expect(await page.locator('label[for="flex-token"]').textContent()).toBe('Flex token');

    // An agent's expired token: the error names its code.
    const expired = await system.admin.flexToken({
      identity: agent.identity,
      workerSid: agent.workerSid,
      ttlSeconds: -60,
    });
    await page.locator('#flex-token').fill(expired.token);
    await page.locator('#token-form button[type="submit"]').click();
    await waitForState('error');
    expect(await page.locator('#error').textContent()).toContain('FLEX_TOKEN_EXPIRED');

    const boss = await system.admin.flexToken({
      identity: 'boss',
      roles: ['supervisor'],
      workerSid: agents[0].workerSid,
      ttlSeconds: 600,
    });
    await page.locator('#flex-token').fill(boss.token);
    await page.locator('#worker-sid').fill(agent.workerSid);
    await page.locator('#token-form button[type="submit"]').click();
    await waitForState('loaded');
    const keys = await rows().evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.key));
    expect(keys).toEqual(expected.map((c) => c.itemKey));
    // The token never lands in the URL.
    expect(page.url()).not.toContain(boss.token);
  }, 60_000);

  it('shows a demo agent its seeded calls, newest first, then nothing once they have expired', async () => {
    const agent = agents[1];
    const expected = handledCalls(agent.workerSid);
    expect(expected.length).toBeGreaterThan(3);

    await page.goto(`${system.functions.url}/index.html?emulator=${encodeURIComponent(system.emulator.url)}`);
    await expect(page.title()).resolves.toBe('Recent calls');

    // The emulator's demo agents are offered; pick one.
    const option = page.locator('#agent option', { hasText: `(${agent.identity})` });
    await option.waitFor({ state: 'attached' });
    expect(await page.locator('#agent option').count()).toBe(agents.length + 1);
    await page.locator('#agent').selectOption(await option.getAttribute('value'));
    await waitForState('loaded');

    // Every seeded call of that agent, in order, with the other party's number and its direction.
    expect(await rows().count()).toBe(expected.length);
    const keys = await rows().evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.key));
    expect(keys).toEqual(expected.map((c) => c.itemKey));
    for (const index of [0, 1, expected.length - 1]) {
      const cells = rows().nth(index).locator('td');
      expect(await cells.nth(1).textContent()).toBe(expected[index].otherParty);
      expect(await cells.nth(0).textContent()).toContain(expected[index].direction);
      expect(await cells.nth(2).locator('time').getAttribute('datetime')).toBe(
        new Date(Math.floor(expected[index].startMs / 1000) * 1000).toISOString(),
      );
      expect(await cells.nth(4).textContent()).toMatch(/^in \d+ days?$/);
    }
    expect(await page.locator('#status').textContent()).toMatch(new RegExp(`^${expected.length} calls, as of `));
    expect(await page.locator('th[scope="col"]').allTextContents()).toEqual([
      'Direction',
      'Number',
      'Time',
      'Duration',
      'Expires',
    ]);
    expect(new URL(page.url()).searchParams.get('agent')).toBe(agent.identity);
    await page.locator('#panel').screenshot({ path: join(ARTIFACTS, 'recent-calls.png') });

    // Errors are shown with their code and request id.
    await system.admin.faults({ errorRate: 1, families: ['sync'] });
    try {
      await page.locator('#refresh').click();
      await waitForState('error');
    } finally {
      await system.admin.faults({ errorRate: 0 });
    }
    const errorText = await page.locator('#error').textContent();
    expect(errorText).toContain('UPSTREAM_UNAVAILABLE');
    expect(errorText).toMatch(/Request id [0-9a-f-]{36}/);
    expect(await rows().count()).toBe(0);
    await page.locator('#panel').screenshot({ path: join(ARTIFACTS, 'recent-calls-error.png') });

    // 31 days later every one of those calls has expired (though Sync still holds them): a refresh shows none.
    await system.admin.advanceClock(31 * DAY_S);
    const stored = await system.twilio.sync.v1
      .services(system.emulator.config.syncServiceSid)
      .syncMaps(recentCallsMapName(agent.workerSid))
      .syncMapItems.list({ pageSize: 100 });
    expect(stored.length).toBe(expected.length);
    await page.locator('#refresh').click();
    await waitForState('empty');
    expect(await rows().count()).toBe(0);
    expect(await page.locator('#table-wrap').isHidden()).toBe(true);
    expect(await page.locator('#status').textContent()).toBe('No calls in the last 30 days.');
    await page.locator('#panel').screenshot({ path: join(ARTIFACTS, 'recent-calls-empty.png') });

    // A reload keeps the chosen agent and still shows nothing.
    await page.reload();
    await waitForState('empty');
    expect(await panelState()).toBe('empty');
    expect(consoleErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  }, 90_000);
});
