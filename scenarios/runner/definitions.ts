/**
 * Serialisable definitions of what a scenario file can say: plain data, parsed from YAML and
 * validated by schema.ts. The code that carries each one out lives apart (steps/, expectations/),
 * looked up by its `do` name, so a definition can be listed, explained and reported without running it
 * (the same split mockttp makes between its step definitions and step implementations).
 */

/** A duration: milliseconds, or a string such as "250ms", "30s", "5m", "25h", "1d". */
export type Duration = number | string;

/** An exact number, or an inclusive range. */
export type Range = number | { min?: number; max?: number };

export interface WorkspaceDef {
  id: string;
  key?: string;
}

type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface GatewaySettings {
  listenPort?: number | string;
  requireProxyAuth?: { username: string; password: string };
  /** The gateway TLS policy, written to gateway.json "tls" (a preset and/or bounds; see docs/tls-inspection.md). */
  tls?: { policy?: 'current' | 'preview-2016'; minVersion?: TlsVersion; maxVersion?: TlsVersion; tls13ClientCertificate?: 'allow' | 'reject' };
  /** Lines written to allowedlist_client.txt (certificate subjects); empty = any certificate. */
  clientAllowlist?: string[];
  /** How the gateway reaches the fake cloud: its host map (default) or the cloud as relay proxy. */
  upstream?: 'host-map' | 'relay' | { relay: string } | { hostMap: string[] };
  relayAuth?: { username: string; password: string };
  clock?: 'manual' | 'system';
}

export interface GatewayStartStep {
  do: 'gateway.start';
  /** Several gateways can run at once; each has a name (default "gateway"). */
  name?: string;
  /** "default": the allowlist `omsgw gateway init` writes; or the exact hosts to write. */
  allowlist?: 'default' | string[];
  settings?: GatewaySettings;
  /** A gateway config file (path relative to the scenario file) instead of / in addition to settings. */
  config?: string;
  /** Extra command-line flags passed to `omsgw gateway run`. */
  args?: string[];
  /** The start is expected to fail (bad configuration): the step passes when the gateway refuses to run. */
  expectFailure?: boolean;
}
export interface GatewayStopStep { do: 'gateway.stop'; name?: string }
export interface GatewayRestartStep { do: 'gateway.restart'; name?: string }
export interface GatewayKillStep {
  do: 'gateway.kill';
  name?: string;
  signal?: 'SIGKILL' | 'SIGTERM';
  /** Kill under load: first wait (bounded) until the gateway's counters show open tunnels. */
  whenTunnelsOpen?: boolean;
}
export interface GatewayReloadStep { do: 'gateway.reload'; name?: string }

/** haproxy (TCP mode, TCP health check) in front of named gateways. */
export interface BalancerStartStep {
  do: 'balancer.start';
  /** Names of running gateways. */
  backends: string[];
  healthCheck?: { interval?: Duration; fall?: number; rise?: number };
}
export interface BalancerWaitStep {
  do: 'balancer.wait';
  backend: string;
  state: 'UP' | 'DOWN';
  timeout?: Duration;
}

export interface AllowlistEditFileStep {
  do: 'allowlist.edit-file';
  file?: 'server' | 'client';
  add?: string[];
  remove?: string[];
}
export interface AllowlistApiAddStep { do: 'allowlist.api-add'; host: string }
export interface AllowlistApiRemoveStep { do: 'allowlist.api-remove'; host: string }

export interface FaultDef {
  id?: string;
  [key: string]: unknown;
}
export interface CloudStartStep { do: 'cloud.start'; faults?: FaultDef[] }
export interface CloudFaultSetStep { do: 'cloud.fault-set'; fault: FaultDef }
export interface CloudFaultClearStep { do: 'cloud.fault-clear'; id?: string }

export interface AgentTlsDef {
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  servername?: string;
}
export interface AgentsStartStep {
  do: 'agents.start';
  /** Group name; agents are called <group>-1, <group>-2, ... (default: the OS). */
  group?: string;
  os: 'linux' | 'windows' | 'ama';
  count?: number;
  /** Workspace id (default: the scenario's first workspace). */
  workspace?: string;
  /** Credentials put in the agent's proxy string (user:pass@host:port). */
  proxyAuth?: { username: string; password: string };
  tls?: AgentTlsDef;
  /** Source addresses for the agents, e.g. 127.0.1.0/24 (default: a distinct 127.0.x.0/24 per group). */
  bindRange?: string;
  seed?: number;
  /** "once": one onboarding + upload attempt now; "scheduled": also keep running on the clock. */
  run?: 'once' | 'scheduled';
  /** Behaviour model: omsagent (Linux default), mma (Windows default), ideal (Retry-After honoured, no retry limit). */
  behavior?: 'omsagent' | 'mma' | 'ideal';
  /** Upload retry parameters (clock ms), overriding the model's. */
  retry?: { uploadInitialMs?: number; uploadMaxMs?: number; retryLimit?: number };
  /** Which proxy the agents use: "balancer", or a gateway name (default: the only / default gateway). */
  via?: string;
}
export interface AgentsRunOnceStep { do: 'agents.run-once'; agents?: string }
export interface AgentsStopStep { do: 'agents.stop'; agents?: string }
export interface AgentsWaitStep {
  do: 'agents.wait';
  agents?: string;
  onboarded?: boolean;
  /** Every agent in the selection has delivered at least this many records. */
  delivered?: number;
  /** Every agent in the selection has nothing left queued. */
  drained?: boolean;
  /** The gateway logged a CONNECT (103) from each agent in the selection to this host. */
  attempted?: string;
  timeout?: Duration;
}

export interface ClockAdvanceStep {
  do: 'clock.advance';
  by: Duration;
  /**
   * Advance in steps of this size, waiting after each until every agent's calls in flight have
   * ended, so retries are planned from the clock time they happened at (default: one jump).
   */
  step?: Duration;
  /** Also move the gateway's clock (gateway started with clock: manual). Default true when it is. */
  gateway?: boolean;
}

export interface ProbeHttpStep {
  do: 'probe.http';
  /** Name used for the probe in the timeline. */
  as?: string;
  method?: string;
  url: string;
  expectStatus?: number;
}
export interface ProbeConnectStep {
  do: 'probe.connect';
  as?: string;
  target: string;
  expectStatus?: number;
}
export interface ProbeTlsStep {
  do: 'probe.tls';
  as?: string;
  target: string;
  version?: 'TLSv1.2' | 'TLSv1.3';
  servername?: string;
  /** "closed": the gateway must cut the tunnel; "handshake": the TLS handshake must complete. */
  expect?: 'closed' | 'handshake';
}

export interface ExpectEventsStep {
  do: 'expect.events';
  /** Only this gateway's events (default: every gateway's). */
  gateway?: string;
  /** Agent or probe name (e.g. linux-1), or a group name (all its agents). */
  client?: string;
  /** host or host:port of the CONNECT target. */
  target?: string;
  /** Which gateway processes: all of them (default), or only the one running now. */
  generation?: 'all' | 'current';
  /** Event ids in order. exact: exactly these; subsequence: these in this order, others may interleave. */
  sequence?: number[];
  match?: 'exact' | 'subsequence';
  /** Event ids that must not appear. */
  absent?: number[];
  /** Keep polling the event stream up to this long before deciding. */
  within?: Duration;
  /** Each of these strings must appear in some matching event's message. */
  messageContains?: string[];
}
export interface ExpectCountersStep {
  do: 'expect.counters';
  /** Which gateway (default: the only / default one). */
  gateway?: string;
  counters: Record<string, Range>;
  within?: Duration;
}
export interface ExpectLedgerStep {
  do: 'expect.ledger';
  /** Every record any agent created was ingested exactly once by the cloud. */
  createdEqualsIngested?: boolean;
  /** Every record created was ingested exactly once, or is still queued at its agent with a reason (its last error). */
  ingestedOnceOrQueued?: boolean;
  /** With ingestedOnceOrQueued: a record the cloud took twice passes only if its agent resent it after a failed attempt (a kill can lose the answer after the cloud took the batch). */
  allowResentDuplicates?: boolean;
  records?: { agents?: string; dataType?: string; count: Range }[];
  within?: Duration;
}
export interface ExpectAgentsStep {
  do: 'expect.agents';
  agents?: string;
  onboarded?: boolean;
  queued?: Range;
  delivered?: Range;
  dropped?: Range;
  /** Dropped records per reason, e.g. { retry-limit: { min: 1 }, queue-full: 0 }. */
  droppedBy?: Record<string, Range>;
  /** Failed calls so far (any phase). */
  errors?: Range;
  /** Each agent's books balance: created = delivered + queued + dropped (each drop with a reason), and the cloud holds every delivered record. */
  ledger?: boolean;
  state?: string;
}

export type ActionStep =
  | GatewayStartStep | GatewayStopStep | GatewayRestartStep | GatewayKillStep | GatewayReloadStep
  | AllowlistEditFileStep | AllowlistApiAddStep | AllowlistApiRemoveStep
  | CloudStartStep | CloudFaultSetStep | CloudFaultClearStep
  | BalancerStartStep | BalancerWaitStep
  | AgentsStartStep | AgentsRunOnceStep | AgentsStopStep | AgentsWaitStep
  | ClockAdvanceStep | ProbeHttpStep | ProbeConnectStep | ProbeTlsStep;
export type ExpectationStep = ExpectEventsStep | ExpectCountersStep | ExpectLedgerStep | ExpectAgentsStep;
export type StepDef = (ActionStep | ExpectationStep) & { /** Optional label shown in the timeline. */ title?: string };
export type StepName = StepDef['do'];

export interface ScenarioDef {
  name: string;
  title: string;
  description?: string;
  /** For `omsgw lab`: a few sentences on why the story happens and how it is fixed. */
  explanation?: string;
  workspaces: WorkspaceDef[];
  clock?: { start?: string };
  /** Whole-scenario budget (default 60s). */
  timeout?: Duration;
  steps: StepDef[];
}

/** A scenario as loaded: the definition plus where it came from (for messages and relative paths). */
export interface LoadedScenario {
  def: ScenarioDef;
  file: string;
  /** Line of each step in the file (1-based), for reports. */
  stepLines: number[];
}

export function isExpectation(step: StepDef): step is ExpectationStep & { title?: string } {
  return step.do.startsWith('expect.');
}
