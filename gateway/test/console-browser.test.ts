/**
 * The web console in a real browser: playwright-core driving Debian's chromium against a real
 * gateway (in-process for the loopback cases, a child process on 127.0.0.2 with a token for the
 * token rules). Every wait is on the DOM or on the gateway; screenshots go to test-output/console/.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchTestBrowser, testOutputDir, type TestBrowser } from '../../lib/test/browser.js';
import { createGateway, type Gateway } from '../index.js';
import { spawnGateway, type GatewayProcess } from '../process.js';
import { connectRequest, rawRequest, startTcpEcho, tempDir, type TestServer } from './support.js';

// Page-side code runs in chromium; the project compiles without the DOM library, so name what it uses.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;
type HTMLCanvasElement = any;
type HTMLInputElement = any;

const HOSTILE_HEADER = '<img src=x onerror="window.__pwned=1">';
const HOSTILE_TARGET = '<img/src=x/onerror=window.__pwned=2>.test:443';
const shots = testOutputDir('console');

let browser: TestBrowser;
let echo: TestServer;
let work: ReturnType<typeof tempDir>;
let gw: Gateway;
let base: string;
let page: Page;
let problems: string[];

beforeAll(async () => {
  echo = await startTcpEcho();
  work = tempDir();
  const allowlistFile = join(work.dir, 'allowedlist_server.txt');
  writeFileSync(allowlistFile, 'a.example.test\n');
  gw = createGateway({ listenPort: 0, adminPort: 0, allowlistFile, hostMap: [`*.example.test=127.0.0.1:${echo.port}`], tlsInspection: false });
  await gw.start();
  base = `http://127.0.0.1:${gw.adminAddress!.port}`;
  browser = await launchTestBrowser();
  ({ page, problems } = await browser.newPage());
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await echo?.close();
  work?.cleanup();
});

async function connect(target: string, headers: Record<string, string> = {}): Promise<number> {
  const r = await rawRequest(gw.proxyAddress.port, connectRequest(target, headers));
  r.socket.destroy();
  return r.status;
}

test('the console loads, goes live and shows the gateway start (101) with no console errors', async () => {
  await page.goto(`${base}/`);
  await page.locator('.stream-status[data-state="live"]').waitFor();
  await page.locator('tr[data-id="101"]').waitFor();
  await page.locator('[data-list="hosts"] .entry', { hasText: 'a.example.test' }).waitFor();
  await page.locator('[data-chart="rejections"][data-points="2"]').waitFor();
  await page.screenshot({ path: join(shots, '01-loaded.png'), fullPage: true });
  expect(problems).toEqual([]);
});

test('a forbidden CONNECT shows its 103 and 105 together within a second; hostile strings stay text', async () => {
  const started = Date.now();
  expect(await connect('evil.test:443', { 'X-Evil': HOSTILE_HEADER })).toBe(403);
  const group = page.locator('tbody.group', { has: page.locator('tr[data-id="105"]', { hasText: 'evil.test' }) });
  await group.waitFor({ timeout: Math.max(1, 1000 - (Date.now() - started)) });
  expect(await group.getAttribute('data-outcome')).toBe('103 → 105');
  expect(await group.locator('tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual(['103', '105']);

  expect(await connect(HOSTILE_TARGET)).toBe(400);
  await page.locator('tr[data-id="104"] .message', { hasText: '<img/src=x/onerror=window.__pwned=2>' }).waitFor();

  // All fields of the 103, the hostile header among them, as text.
  await group.locator('tr[data-id="103"] button.id').click();
  const dialog = page.getByRole('dialog', { name: /Event 103/ });
  await dialog.waitFor();
  await expect(dialog.textContent()).resolves.toContain(`"X-Evil": "${HOSTILE_HEADER.replace(/"/g, '\\"')}"`);
  await page.screenshot({ path: join(shots, '02-event-details.png') });
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  expect(await page.locator('img').count()).toBe(0);
  expect(problems).toEqual([]);
});

test('the Rejection Count chart moves when a CONNECT is refused', async () => {
  const chart = page.locator('[data-chart="rejections"]');
  // The gateway's own count, not the chart's last poll (which may still lag an earlier test's refusal,
  // and then take both refusals in one step).
  const before = gw.counters.snapshot().rejectionCount;
  await page.locator(`[data-chart="rejections"][data-last="${before}"]`).waitFor();
  const pixelsBefore = await chart.locator('canvas').evaluate((c: HTMLCanvasElement) => c.toDataURL());
  expect(await connect('evil2.test:443')).toBe(403);
  expect(gw.counters.snapshot().rejectionCount).toBe(before + 1);
  await page.locator(`[data-chart="rejections"][data-last="${before + 1}"]`).waitFor();
  await page.waitForFunction((old) => (document.querySelector('[data-chart="rejections"] canvas') as HTMLCanvasElement).toDataURL() !== old, pixelsBefore);
  await page.screenshot({ path: join(shots, '03-counters.png'), fullPage: true });
});

test('adding a host in the page makes the next CONNECT to it pass', async () => {
  expect(await connect('b.example.test:443')).toBe(403);
  const input = page.getByRole('textbox', { name: 'Host to allow' });
  await input.fill('b.example.test');
  await input.press('Enter');
  await page.locator('[data-list="hosts"] .entry', { hasText: 'b.example.test' }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Added host b.example.test' }).waitFor();
  expect(await connect('b.example.test:443')).toBe(200);
  await page.locator('tbody.group[data-outcome="103"]', { has: page.locator('td.target', { hasText: 'b.example.test' }) }).first().waitFor();
});

test('filters: a malformed id filter says what to fix; id, level and target filters narrow the table', async () => {
  const ids = page.getByRole('textbox', { name: 'Event ids' });
  await ids.fill('10x; drop');
  await page.getByRole('alert').filter({ hasText: 'Id filter: use event ids such as 103,105' }).waitFor();
  expect(await ids.getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('tr[data-id="101"]').count()).toBe(1); // still showing everything meanwhile
  await ids.fill('105');
  await page.locator('tr[data-id="101"]').waitFor({ state: 'detached' });
  const groups = await page.locator('tbody.group').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-outcome')));
  expect(groups).toEqual(['103 → 105', '103 → 105', '103 → 105']); // b.example.test (before it was added), evil2, evil
  await ids.fill('');
  await page.getByRole('combobox', { name: 'Level' }).selectOption('warning');
  await page.getByRole('textbox', { name: 'Target' }).fill('evil2');
  await page.locator('tbody.group').nth(1).waitFor({ state: 'detached' });
  expect(await page.locator('tbody.group tr:not(.context)').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual(['105']);
  await page.getByRole('textbox', { name: 'Target' }).fill('');
  await page.getByRole('combobox', { name: 'Level' }).selectOption('');
});

test('pause holds new events (counted as waiting) and resume shows them', async () => {
  const pause = page.getByRole('button', { name: 'Pause' });
  await pause.click();
  expect(await connect('paused.test:443')).toBe(403);
  await page.locator('.stream-status', { hasText: 'paused (2 waiting)' }).waitFor();
  expect(await page.locator('td.target', { hasText: 'paused.test' }).count()).toBe(0);
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.locator('td.target', { hasText: 'paused.test' }).first().waitFor();
});

test('accessibility: every control has a name (with a positive control), and the keyboard reaches them in order', async () => {
  const unnamed = async (): Promise<string[]> => {
    const tree = await page.locator('body').ariaSnapshot();
    return tree.split('\n').filter((l) => /^\s*- (textbox|button|combobox|checkbox|searchbox|spinbutton)\s*(\[[^\]]*\])?:?\s*$/.test(l));
  };
  expect(await unnamed()).toEqual([]);
  await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<input id="unlabelled-probe">'));
  expect(await unnamed()).toHaveLength(1);
  await page.evaluate(() => document.getElementById('unlabelled-probe')!.remove());

  await page.reload();
  await page.locator('.stream-status[data-state="live"]').waitFor();
  await page.locator('td.target', { hasText: 'paused.test' }).first().waitFor();
  const names: string[] = [];
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    names.push(await page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement | null;
      if (!el) return '';
      return (el.getAttribute('aria-label') || (el.labels && el.labels[0]?.textContent?.trim()) || el.textContent?.trim() || el.tagName).replace(/\s+/g, ' ');
    }));
  }
  expect(names.slice(0, 9)).toEqual(['Skip to the event log', 'Admin token', 'Use token', 'Event ids', 'Level alldebuginfowarningerror', 'Client', 'Target', 'Pause', expect.stringMatching(/^Event 103 info, number \d+: show all fields$/)]);
  // The keyboard opens an event's fields and Escape closes them.
  await page.keyboard.press('Shift+Tab'); // back to the ninth stop, the newest event's button
  await page.keyboard.press('Enter');
  await page.getByRole('dialog', { name: /Event 103/ }).waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  expect(problems).toEqual([]);
});

test('reload re-reads the allowlist file; the relay proxy is set from the page and its password never shows', async () => {
  writeFileSync(join(work.dir, 'allowedlist_server.txt'), 'a.example.test\nfrom-file.example.test\n');
  await page.getByRole('button', { name: 'Reload allowlist files' }).click();
  await page.getByRole('status').filter({ hasText: /^Reloaded: / }).waitFor();
  await page.locator('[data-list="hosts"] .entry', { hasText: 'from-file.example.test' }).waitFor();

  const secret = 'relay-Pa55-word';
  await page.getByRole('textbox', { name: 'Relay address (host:port, blank = direct)' }).fill(`127.0.0.1:${echo.port}`);
  await page.getByRole('textbox', { name: 'Relay username' }).fill('relayuser');
  await page.getByRole('textbox', { name: 'Relay password' }).fill(secret);
  await page.getByRole('button', { name: 'Save relay proxy' }).click();
  await page.getByRole('status').filter({ hasText: 'Relay proxy set' }).waitFor();
  await page.getByText(`Now: http://127.0.0.1:${echo.port} as relayuser (password set)`).waitFor();
  await expect(page.locator('table.config').textContent()).resolves.toContain(`relayProxyhttp://relayuser:****@127.0.0.1:${echo.port}`);
  expect(await page.content()).not.toContain(secret);
  expect(((await (await fetch(`${base}/api/config`)).json()) as { relayProxy: { password: string } }).relayProxy.password).toBe('****');
  await page.getByRole('textbox', { name: 'Relay address (host:port, blank = direct)' }).fill('');
  await page.getByRole('button', { name: 'Save relay proxy' }).click();
  await page.getByText('Now: direct (no relay proxy)').waitFor();
  expect(problems).toEqual([]);
});

describe('off loopback, with an admin token', () => {
  const TOKEN = 'console-test-token-7f3a';
  let child: GatewayProcess;
  let other: { page: Page; problems: string[] };
  beforeAll(async () => {
    child = await spawnGateway(['--listen-port', '0', '--admin-host', '127.0.0.2', '--admin-port', '0', '--admin-token', TOKEN, '--allow-host', 'a.example.test', '--no-tls-inspection']);
    other = await browser.newPage();
  });
  afterAll(async () => {
    await other?.page.close();
    await child?.stop();
  });

  test('a change without the token is refused; with it, it goes through; the token never shows or travels in a URL', async () => {
    const { page: p } = other;
    const urls: string[] = [];
    p.on('request', (r) => urls.push(r.url()));
    expect(child.adminUrl).toMatch(/^http:\/\/127\.0\.0\.2:/);
    await p.goto(`${child.adminUrl}/`);
    await p.getByText('Changes need the admin token. No token set.').waitFor();
    const input = p.getByRole('textbox', { name: 'Host to allow' });
    await input.fill('c.example.test');
    await input.press('Enter');
    await p.getByRole('status').filter({ hasText: 'Refused (401): this change needs Authorization: Bearer <admin token>' }).waitFor();
    const hosts = async () => ((await (await fetch(`${child.adminUrl}/api/allowlist/hosts`)).json()) as { hosts: string[] }).hosts;
    expect(await hosts()).toEqual(['a.example.test']);
    await p.screenshot({ path: join(shots, '04-refused-without-token.png') });

    await p.getByRole('textbox', { name: 'Admin token' }).fill(TOKEN);
    await p.getByRole('button', { name: 'Use token' }).click();
    await p.getByText('A token is set.').waitFor();
    await p.getByRole('button', { name: 'Add host' }).click();
    await p.locator('[data-list="hosts"] .entry', { hasText: 'c.example.test' }).waitFor();
    expect(await hosts()).toEqual(['a.example.test', 'c.example.test']);

    const page = await p.content();
    expect(page).not.toContain(TOKEN);
    expect(await p.getByRole('textbox', { name: 'Admin token' }).inputValue()).toBe('');
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);
    expect(urls.length).toBeGreaterThan(5);
    const config = await p.locator('table.config').textContent();
    expect(config).toContain('adminToken****');
    expect(other.problems.filter((m) => !m.includes('401'))).toEqual([]);
  });
});
