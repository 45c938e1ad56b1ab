/**
 * What a person sees of a scenario, checked in chromium (playwright-core, Debian's browser):
 * the `--reporter html` page of a real run, and `omsgw lab --console` kept running with its web
 * console showing the Linux agent's 105 turn into 107 across the gateway restart.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliPath } from '../../lib/paths.js';
import { launchTestBrowser, testOutputDir, type TestBrowser } from '../../lib/test/browser.js';
import { resolveScenario } from '../runner/catalogue.js';
import { loadScenarioFile } from '../runner/load.js';

const AUTOMATION = 'scus-agentservice-prod-1.azure-automation.net:443';
let browser: TestBrowser;

beforeAll(async () => {
  browser = await launchTestBrowser();
});
afterAll(async () => {
  await browser?.close();
});

function omsgw(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath(), ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('--reporter html: one self-contained page showing every step, the swimlanes, counters and ledger', async () => {
  const out = testOutputDir('scenario-report');
  const r = await omsgw(['scenario', 'run', 'linux-allowlist-bug', '--reporter', 'html', '--out', out]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const file = join(out, 'scenarios.html');
  expect(r.stdout).toContain(`report: ${file}`);
  const html = readFileSync(file, 'utf8');
  // Self-contained: no script, no link, nothing fetched.
  expect(html).not.toMatch(/<script|<link|\bsrc=|url\(|@import/i);

  const { page, problems } = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (q) => requests.push(q.url()));
  await page.goto(pathToFileURL(file).href);
  await page.getByRole('heading', { name: 'linux-allowlist-bug: PASSED' }).waitFor();

  const steps = loadScenarioFile(resolveScenario('linux-allowlist-bug')).def.steps;
  const rows = await page.locator('table.steps tr.step').evaluateAll((trs) => trs.map((tr) => ({ n: tr.getAttribute('data-step'), do: tr.querySelector('code')?.textContent, result: tr.children[3].textContent })));
  expect(rows).toEqual(steps.map((s, i) => ({ n: String(i + 1), do: s.do, result: 'passed' })));
  const expectation = page.locator('tr.step', { hasText: 'Linux agent is refused the automation host' });
  await expect(expectation.locator('td').nth(6).textContent()).resolves.toContain('103 → 105');

  // The swimlanes: both agents, the gateway, cloud and clock; the Linux agent refused, then verified.
  const lanes = await page.locator('svg.swimlane text.lane-name').allTextContents();
  expect(lanes).toEqual(['linux-1', 'windows-1', 'gateway', 'cloud', 'clock']);
  const linux = await page.locator('svg.swimlane g.connect').evaluateAll((gs) => gs.map((g) => ({ cls: g.getAttribute('class'), title: g.querySelector('title')?.textContent ?? '' })).filter((g) => g.title.includes('linux-1') && g.title.includes('azure-automation')));
  expect(linux.some((g) => g.cls === 'connect refused' && g.title.includes('103 CONNECT received → 105 target forbidden'))).toBe(true);
  expect(linux.some((g) => g.cls === 'connect verified' && g.title.includes('gen 2'))).toBe(true);
  expect(await page.locator('svg.swimlane g.mark.restart').count()).toBe(1);
  expect(await page.locator('svg.swimlane g.mark.advance').count()).toBe(2);
  expect(await page.locator('figure.counter').count()).toBe(6);
  await expect(page.locator('table.ledger').textContent()).resolves.toMatch(/total\s*(\d+)\s*\1\s*0/);

  await page.screenshot({ path: join(testOutputDir('scenario-report'), 'report.png'), fullPage: true });
  expect(requests).toEqual([pathToFileURL(file).href]);
  expect(problems).toEqual([]);
});

test('console flags: bad values exit 2 with the flag named, before anything runs', async () => {
  const keep = await omsgw(['lab', '--keep', '1s']);
  expect({ code: keep.code, stderr: keep.stderr.trim() }).toEqual({ code: 2, stderr: 'omsgw: --keep only applies with --console (it says how long the lab stays up for the console after the story)' });
  const pace = await omsgw(['lab', '--console', '--pace', 'soon']);
  expect({ code: pace.code, stderr: pace.stderr.trim() }).toEqual({ code: 2, stderr: 'omsgw: --pace must be a duration such as 500ms, 1s or 5m, got "soon"' });
  const two = await omsgw(['scenario', 'run', 'non-connect-104', 'non-443-port', '--console']);
  expect({ code: two.code, stderr: two.stderr.trim() }).toEqual({ code: 2, stderr: 'omsgw: --console keeps one lab running: give one scenario, not 2' });
});

test('--pace without --console only paces: no console URL, and the lab ends by itself (it used to wait for Ctrl-C)', async () => {
  const r = await omsgw(['lab', '--pace', '50ms']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout).toMatch(/^PASSED linux-allowlist-bug in /m);
  expect(r.stdout).not.toMatch(/^console: |lab kept running/m);
  // Paced: 17 steps, each waited 50 ms before it ran.
  const seconds = Number(/^PASSED linux-allowlist-bug in ([\d.]+)s/m.exec(r.stdout)![1]);
  expect(seconds).toBeGreaterThanOrEqual(17 * 0.05);
});

test('omsgw lab --console: paced story in the web console (105, restart, 107), kept up, then stops by itself', async () => {
  const child = spawn(process.execPath, [cliPath(), 'lab', '--console', '--pace', '300ms', '--keep', '4s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = (): void => {
    for (const w of waiters.splice(0)) {
      const m = w.re.exec(stdout);
      if (m) w.resolve(m);
      else waiters.push(w);
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((stdout += d), check()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = (re: RegExp) =>
    Promise.race([
      new Promise<RegExpMatchArray>((resolve) => {
        waiters.push({ re, resolve });
        check();
      }),
      exited.then(() => {
        throw new Error(`omsgw lab exited before printing ${re}; stdout:\n${stdout}\nstderr:\n${stderr}`);
      }),
    ]);
  try {
    const url = (await line(/^console: (http:\/\/127\.0\.0\.1:\d+)\/ /m))[1];
    const { page, problems } = await browser.newPage();
    await page.goto(`${url}/`);
    // Generation 0 of the page: the first gateway process refuses the Linux agent's automation host.
    const refused = page.locator('tbody.group', { has: page.locator('tr[data-gen="0"][data-id="105"] td.target', { hasText: AUTOMATION }) });
    await refused.first().waitFor();
    expect(await refused.first().getAttribute('data-outcome')).toBe('103 → 105');
    await page.screenshot({ path: join(testOutputDir('console'), 'lab-105.png'), fullPage: true });
    // The restart is marked, and the new process lets it through.
    await page.locator('tr.gap.restart').waitFor();
    const verified = page.locator('tbody.group', { has: page.locator('tr[data-gen="1"][data-id="107"] td.target', { hasText: AUTOMATION }) });
    await verified.first().waitFor();
    expect(await verified.first().getAttribute('data-outcome')).toBe('103 → 107');
    // The lists are the new process's: the host added to allowedlist_server.txt before the restart.
    await page.locator('[data-list="hosts"] .entry', { hasText: AUTOMATION.replace(/:443$/, '') }).waitFor();
    await page.screenshot({ path: join(testOutputDir('console'), 'lab-107.png'), fullPage: true });

    await line(/^lab kept running for 4\.00s for the console at http:\/\/127\.0\.0\.1:\d+\/; Ctrl-C to stop sooner$/m);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    // Page errors only: the console logs failed requests while the gateway restarts.
    expect(problems.filter((p) => p.startsWith('page error'))).toEqual([]);
    await page.close();
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/^stopping the lab$/m);
    // The story's summary (from every event): the timeline pairs a 103 with its 107 only when the 107 is read within a step of it.
    expect(stdout).toMatch(/after adding the host to allowedlist_server\.txt and restarting: \d+ connections?, 103 \(CONNECT received\) → 107 \(TLS session verified\)/);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow(/fetch failed/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('omsgw lab --console without --keep stays up until SIGINT, then tears down and exits 0', async () => {
  const child = spawn(process.execPath, [cliPath(), 'lab', '--console', '--pace', '0ms'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`code ${code} signal ${signal}${code === 0 ? '' : `\n${stderr}`}`)));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if (/^lab kept running for the console at http:\/\/127\.0\.0\.1:\d+\/; Ctrl-C to stop$/m.test(stdout)) resolve();
      });
      void exited.then(() => reject(new Error(`exited before keeping the lab up:\n${stdout}`)));
    });
    const url = /^console: (http:\/\/127\.0\.0\.1:\d+)\/ /m.exec(stdout)![1];
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGINT');
    expect(await exited).toBe('code 0 signal null');
    expect(stdout).toMatch(/^stopping the lab$/m);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow(/fetch failed/);
  } finally {
    child.kill('SIGKILL');
  }
});
