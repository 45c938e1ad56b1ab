import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { RunFailure } from '../../lib/errors.js';
import { cliPath } from '../../lib/paths.js';
import type { LoadOptions } from '../options.js';
import type { ChildMessage, ParentMessage } from './protocol.js';
import { FLEET_KINDS, splitAgentMix, type FleetKind } from '../../simulators/ama-agent/mix.js';

/** Agents of process k (1-based) of n: the remainder goes to the first processes. */
export function agentsOfProcess(total: number, n: number, k: number): number {
  return Math.floor(total / n) + (k <= total % n ? 1 : 0);
}

/**
 * The run's mix split once over all its agents, then dealt round-robin to the processes: process k
 * gets exact counts (as --mix weights), so the run has the mix one process would have had
 * (3 + 3 agents of windows=1,linux=1 are 3 Windows and 3 Linux, not 2 + 1 twice).
 */
export function mixOfProcess(o: Pick<LoadOptions, 'count' | 'mix'>, n: number, k: number): Record<FleetKind, number> {
  const whole = splitAgentMix(o.count, o.mix);
  const out: Record<FleetKind, number> = { windows: 0, linux: 0, ama: 0 };
  let i = 0;
  for (const kind of FLEET_KINDS) for (let j = 0; j < whole[kind]; j++, i++) if (i % n === k - 1) out[kind]++;
  return out;
}

/** What an agent process is told: its shard of this run, the shared cloud and gateway, and the run's own flags. */
export function childArgs(o: LoadOptions, k: number, n: number, at: { runId: string; labUrl: string; workspace: { id: string; key: string }; gateway: string; jsonFile: string }): string[] {
  const m = mixOfProcess(o, n, k);
  const mix = `windows=${m.windows},linux=${m.linux}${m.ama ? `,ama=${m.ama}` : ''}`;
  return [
    cliPath(), 'load', '--coordinated',
    '--shard', `${k}/${n}`, '--run-id', at.runId, '--cloud', at.labUrl, '--workspace', `${at.workspace.id}:${at.workspace.key}`, '--gateway', at.gateway,
    '--agents', String(agentsOfProcess(o.count, n, k)),
    '--duration', `${o.durationMs}ms`, '--ramp-up', `${o.rampUpMs}ms`,
    // The cap on cycles in flight is the run's: shared out over the processes.
    '--concurrency', String(Math.max(1, Math.ceil(o.concurrency / n))),
    '--kb-per-upload', String(o.kbPerUpload), '--interval', `${o.intervalMs}ms`, '--speed', String(o.speed), '--mix', mix,
    ...(o.behavior ? ['--behavior', o.behavior] : []),
    '--seed', o.seed, '--json', at.jsonFile, '--quiet',
  ];
}

/**
 * One agent process of `--processes N` (an `omsgw load --shard k/N --coordinated` child with an IPC
 * channel): its messages in order, its exit, and the tail of what it printed (for errors).
 */
export class AgentProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly inbox: ChildMessage[] = [];
  private waiter?: { resolve: (m: ChildMessage) => void; reject: (e: Error) => void };
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  private closed = false;
  private readonly tail: string[] = [];

  constructor(readonly index: number, readonly agents: number, readonly jsonFile: string, args: string[]) {
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.tail.push(line);
        if (this.tail.length > 30) this.tail.shift();
      });
    }
    this.child.on('message', (m: ChildMessage) => {
      const w = this.waiter;
      if (w) {
        this.waiter = undefined;
        w.resolve(m);
      } else this.inbox.push(m);
    });
    // Messages come before the channel closes (they are read from it in order): a wait fails only
    // once the channel is closed, whether the process disconnected after its last message or died.
    this.child.once('disconnect', () => {
      this.closed = true;
      this.waiter?.reject(this.died());
      this.waiter = undefined;
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      resolve({ code, signal });
    }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  private died(): Error {
    const how = this.exit ? (this.exit.signal ? `exited on signal ${this.exit.signal}` : `exited with code ${this.exit.code}`) : 'closed its channel';
    return new RunFailure(`agent process ${this.index} (pid ${this.pid}) ${how} in the middle of the run: ${this.tail.slice(-10).join(' | ') || 'it printed nothing'}`);
  }

  /** The next message, which must be of `type`; rejects when the process is gone first. */
  async next<T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
    let msg = this.inbox.shift();
    if (!msg) {
      if (this.closed) throw this.died();
      msg = await new Promise<ChildMessage>((resolve, reject) => (this.waiter = { resolve, reject }));
    }
    if (msg.type !== type) throw new Error(`agent process ${this.index} sent '${msg.type}' where '${type}' was expected`);
    return msg as Extract<ChildMessage, { type: T }>;
  }

  send(m: ParentMessage): void {
    if (this.child.connected) this.child.send(m);
  }

  output(): string {
    return this.tail.join('\n');
  }

  /** SIGTERM, SIGKILL after graceMs; resolves when it is gone. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

export function startAgentProcesses(o: LoadOptions, n: number, dir: string, at: { runId: string; labUrl: string; workspace: { id: string; key: string }; gateway: string }): AgentProcess[] {
  return Array.from({ length: n }, (_, i) => {
    const k = i + 1;
    const jsonFile = join(dir, `agents-${k}.json`);
    return new AgentProcess(k, agentsOfProcess(o.count, n, k), jsonFile, childArgs(o, k, n, { ...at, jsonFile }));
  });
}
