import type { LoadedScenario, StepDef } from './definitions.js';
import { isExpectation } from './definitions.js';
import { durationMs } from './duration.js';
import type { CollectedEvent } from './events.js';
import { Lab, type PartsFactory } from './lab.js';
import { explainStep, implOf } from './registry.js';
import type { StepNeed, StepOutcome, StepStatus } from './step-types.js';
import { lossReport, type LossReport } from './expectations/ledger.js';
import { adminRequest } from './admin-client.js';
import { unverifiable, type ExternalGateway } from './external.js';

export interface StepResult {
  index: number;
  do: StepDef['do'];
  line: number;
  kind: 'action' | 'expectation';
  description: string;
  status: StepStatus;
  startMs: number;
  durationMs: number;
  summary?: string;
  details?: string[];
  expected?: string[];
  actual?: string[];
  /** Index range in `events` of what the runner read while this step ran. */
  eventsFrom: number;
  eventsTo: number;
}

export interface ScenarioResult {
  name: string;
  title: string;
  file: string;
  /** True only when verdict is 'passed'. */
  passed: boolean;
  /**
   * passed: no step failed and at least one expectation was checked (or the scenario has none);
   * failed: a step failed; not-verified: nothing failed, but every expectation was not verified.
   */
  verdict: 'passed' | 'failed' | 'not-verified';
  durationMs: number;
  steps: StepResult[];
  events: CollectedEvent[];
  /** Loss accounting at the end (created vs ingested), when a cloud ran. */
  loss?: LossReport;
  /** Last counters read from the gateway before it stopped (the default or only gateway). */
  counters?: Record<string, unknown>;
  /** Every gateway the scenario started: how it ended and its last counters (a killed one: just before the kill). */
  gateways: GatewayReport[];
  /** The gateways' counters sampled every half second (only when asked: `sampleCounters`). */
  counterSamples?: CounterSample[];
  /** Each agent's records at the end: how many in each state, and why any were dropped. */
  agents?: AgentReport[];
  /** Problems while tearing down (reported, not failing the scenario). */
  teardown: string[];
  /** Set when the scenario could not run at all. */
  error?: string;
  external?: string;
}

export interface CounterSample {
  atMs: number;
  gateway: string;
  generation: number;
  counters: Record<string, unknown>;
}

export interface AgentReport {
  name: string;
  os: string;
  records: number;
  states: Record<string, number>;
  dropReasons: Record<string, number>;
}

export interface GatewayReport {
  name: string;
  /** Processes started (restarts and refused starts included). */
  generations: number;
  /** How its last process ended: stopped by the runner at the end, by a step, or killed. */
  ended: 'stopped' | 'killed' | 'never started';
  counters?: Record<string, unknown>;
  /** Events collected from it, by id. */
  eventCounts: Record<string, number>;
}

export interface RunOptions {
  parts: PartsFactory;
  /** Test an external CONNECT proxy instead of starting ours. */
  external?: ExternalGateway;
  /** Called after each step, for live output. */
  /** Called after each step with every event read so far. */
  onStep?: (step: StepResult, events: readonly CollectedEvent[]) => void;
  /** Called once the lab exists (e.g. to find its gateways' consoles). */
  onLab?: (lab: Lab) => void;
  /** Real time to wait before each step after the first, so a person can watch (`--pace`). */
  paceMs?: number;
  /** Runs after the last step, before the teardown: the lab stays up until it resolves (`--console`). */
  keep?: (lab: Lab) => Promise<void>;
  /** Sample each running gateway's counters every half second and after each step into `counterSamples` (HTML report). */
  sampleCounters?: boolean;
}

const COUNTER_SAMPLE_MS = 500;

function sampleCounters(lab: Lab, into: CounterSample[]): void {
  for (const gw of lab.gateways.values()) {
    const url = gw.handle?.adminUrl;
    if (!url) continue;
    const generation = gw.generation;
    void adminRequest(url, 'GET', '/api/counters')
      .then((c) => {
        if (c && typeof c === 'object') into.push({ atMs: Date.now() - lab.startedAt, gateway: gw.name, generation, counters: c as Record<string, unknown> });
      })
      .catch(() => undefined);
  }
}

function agentReports(lab: Lab): AgentReport[] {
  return lab.agents.map((a) => {
    const states: Record<string, number> = {};
    const dropReasons: Record<string, number> = {};
    const records = a.handle.records();
    for (const r of records) {
      states[r.state] = (states[r.state] ?? 0) + 1;
      if (r.state === 'dropped') dropReasons[r.dropReason ?? 'unknown'] = (dropReasons[r.dropReason ?? 'unknown'] ?? 0) + 1;
    }
    return { name: a.name, os: a.os, records: records.length, states, dropReasons };
  });
}

function unmetNeed(needs: StepNeed[] | undefined, lab: Lab, step: StepDef): string | undefined {
  if (!lab.external) return undefined;
  // An events expectation may be checkable through the proxy's own log (--gateway-log).
  if (step.do === 'expect.events') return unverifiable(step, lab.external);
  if (!needs?.length) return undefined;
  if (needs.includes('management-api')) return `needs omsgw's management API; ${lab.external.host}:${lab.external.port} is an external proxy`;
  if (needs.includes('own-gateway')) return `controls omsgw's own gateway process; ${lab.external.host}:${lab.external.port} is an external proxy`;
  return undefined;
}

async function runStep(step: StepDef, lab: Lab, budgetMs: number): Promise<StepOutcome> {
  const impl = implOf(step);
  const skip = unmetNeed(impl.needs, lab, step);
  // An expectation that cannot be checked is not verified, never passed; an action is skipped.
  if (skip) return { status: isExpectation(step) ? 'not-verified' : 'skipped', summary: skip };
  let timer: NodeJS.Timeout | undefined;
  const overtime = new Promise<StepOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'failed', summary: `did not finish within the scenario's remaining ${Math.round(budgetMs)}ms` }), Math.max(1, budgetMs));
  });
  try {
    return await Promise.race([impl.run(step, lab), overtime]);
  } catch (err) {
    return { status: 'failed', summary: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs one scenario: steps in order; a failed action stops the rest (they are reported as not run),
 * a failed expectation does not (later ones still tell you something). Always tears down.
 */
export async function runScenario(scenario: LoadedScenario, options: RunOptions): Promise<ScenarioResult> {
  const def = scenario.def;
  const lab = new Lab(scenario, options.parts, options.external);
  const paceMs = options.paceMs ?? 0;
  // Pacing is for a watching person; it does not eat into the scenario's own timeout.
  const budget = durationMs(def.timeout ?? '60s') + paceMs * def.steps.length;
  options.onLab?.(lab);
  const steps: StepResult[] = [];
  let stopped = false;
  let outOfTime = false;
  let counters: Record<string, unknown> | undefined;
  // Read events as they happen (not only between steps), so the timeline's times are close to real.
  const readLog = (): void => {
    if (options.external?.gatewayLog) lab.events.addExternal('gateway', options.external.gatewayLog.read());
  };
  const poller = setInterval(() => {
    readLog();
    void lab.events.poll().catch(() => undefined);
  }, 50);
  poller.unref();
  const samples: CounterSample[] = [];
  const sampler = options.sampleCounters ? setInterval(() => sampleCounters(lab, samples), COUNTER_SAMPLE_MS) : undefined;
  sampler?.unref();
  for (const [index, step] of def.steps.entries()) {
    if (paceMs > 0 && index > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, paceMs));
    const startMs = Date.now() - lab.startedAt;
    const eventsFrom = lab.events.all.length;
    let outcome: StepOutcome;
    if (stopped) outcome = { status: 'failed', summary: '' };
    else if (budget - startMs <= 0) {
      // A step that overran the budget may still be running; starting more (a gateway, agents) now
      // would race the teardown and could outlive it.
      outcome = { status: 'failed', summary: `not started: the scenario's ${def.timeout ?? '60s'} timeout is used up` };
      outOfTime = true;
    } else {
      outcome = await runStep(step, lab, budget - startMs);
      await lab.events.poll().catch(() => undefined);
      // Also at each step's end: most scenarios take a few seconds, so half-second samples alone
      // miss what a step changed (a restart, a refusal) that the charts are there to show.
      if (sampler) sampleCounters(lab, samples);
    }
    const result: StepResult = {
      index,
      do: step.do,
      line: scenario.stepLines[index] ?? 0,
      kind: isExpectation(step) ? 'expectation' : 'action',
      description: explainStep(step),
      ...outcome,
      status: stopped ? 'not-run' : outcome.status,
      startMs,
      durationMs: Date.now() - lab.startedAt - startMs,
      eventsFrom,
      eventsTo: lab.events.all.length,
    };
    steps.push(result);
    options.onStep?.(result, lab.events.all);
    if (!stopped && outcome.status === 'failed' && (outOfTime || !isExpectation(step))) stopped = true;
  }
  clearInterval(poller);
  clearInterval(sampler);
  for (const gw of lab.gateways.values()) {
    if (gw.handle) gw.lastCounters = ((await adminRequest(gw.handle.adminUrl, 'GET', '/api/counters').catch(() => undefined)) as Record<string, unknown> | undefined) ?? gw.lastCounters;
  }
  if (lab.gateways.size) {
    const main = (() => { try { return lab.gatewayNamed(); } catch { return undefined; } })();
    if (main?.handle) counters = main.lastCounters;
  }
  const loss = lab.cloud && lab.agents.length ? lossReport(lab) : undefined;
  const agents = lab.agents.length ? agentReports(lab) : undefined;
  if (options.keep) await options.keep(lab).catch(() => undefined);
  const expectations = steps.filter((s) => s.kind === 'expectation');
  const verdict: ScenarioResult['verdict'] = steps.some((s) => s.status === 'failed' || s.status === 'not-run')
    ? 'failed'
    : expectations.length > 0 && expectations.every((s) => s.status === 'not-verified')
      ? 'not-verified'
      : 'passed';
  const teardown = await lab.teardown();
  const gateways: GatewayReport[] = [...lab.gateways.values()].map((gw) => {
    const eventCounts: Record<string, number> = {};
    for (const e of lab.events.all) if (e.gateway === gw.name) eventCounts[e.id] = (eventCounts[e.id] ?? 0) + 1;
    return { name: gw.name, generations: gw.generation, ended: gw.ended ?? 'never started', counters: gw.lastCounters, eventCounts };
  });
  return {
    name: def.name,
    title: def.title,
    file: scenario.file,
    passed: verdict === 'passed',
    verdict,
    durationMs: Date.now() - lab.startedAt,
    steps,
    events: lab.events.all,
    loss,
    counters,
    gateways,
    ...(options.sampleCounters ? { counterSamples: samples.sort((a, b) => a.atMs - b.atMs) } : {}),
    agents,
    teardown,
    external: options.external ? `${options.external.host}:${options.external.port}` : undefined,
  };
}
