import { InputError } from '../../lib/errors.js';
import type { RoundCoordinator } from '../options.js';
import type { ChildMessage, ParentMessage } from './protocol.js';

/**
 * An agent process's side of `--processes N`: reports to the parent over the IPC channel it was
 * started with and waits for its word at the start of the load window and after every round.
 * If the parent goes away mid-run the wait fails (the run ends instead of waiting forever).
 */
export class IpcCoordinator implements RoundCoordinator {
  private readonly sent = new Set<string>();
  private waiting?: { type: ParentMessage['type']; resolve: (m: ParentMessage) => void; reject: (e: Error) => void };
  private gone = false;

  constructor() {
    if (typeof process.send !== 'function') throw new InputError('--coordinated is set by omsgw load --processes for its agent processes; run omsgw load --processes N instead');
    process.on('message', (m: ParentMessage) => {
      const w = this.waiting;
      if (!w) return;
      this.waiting = undefined;
      if (m.type === w.type) w.resolve(m);
      else w.reject(new Error(`omsgw load --processes: expected '${w.type}' from the parent, got '${m.type}'`));
    });
    process.once('disconnect', () => {
      this.gone = true;
      this.waiting?.reject(new Error('the parent omsgw load --processes went away'));
      this.waiting = undefined;
    });
  }

  /** Settles when the last message sent has been written to the channel. */
  private written: Promise<void> = Promise.resolve();

  private send(m: ChildMessage): void {
    if (this.gone) throw new Error('the parent omsgw load --processes went away');
    this.written = new Promise((resolve) => process.send!(m, undefined, {}, () => resolve()));
  }

  private wait(type: ParentMessage['type']): Promise<ParentMessage> {
    if (this.gone) return Promise.reject(new Error('the parent omsgw load --processes went away'));
    return new Promise((resolve, reject) => (this.waiting = { type, resolve, reject }));
  }

  /** Source addresses not yet reported (the parent keeps their union). */
  private fresh(sources: Iterable<string>): string[] {
    const out: string[] = [];
    for (const s of sources) if (!this.sent.has(s)) {
      this.sent.add(s);
      out.push(s);
    }
    return out;
  }

  async ready(): Promise<void> {
    const go = this.wait('go');
    this.send({ type: 'ready' });
    await go;
  }

  async roundDone(r: { tick: number; roundMs: number; latenciesUs: number[]; sources: Iterable<string> }): Promise<boolean> {
    const next = this.wait('next');
    this.send({ type: 'round', tick: r.tick, roundMs: r.roundMs, latenciesUs: r.latenciesUs, sources: this.fresh(r.sources) });
    const m = await next;
    return m.type === 'next' && m.more;
  }

  end(sources: Iterable<string>): void {
    this.send({ type: 'end', sources: this.fresh(sources) });
  }

  /** Lets the process exit once what was sent is written (the open channel would keep it alive). */
  async close(): Promise<void> {
    await this.written;
    if (!this.gone && process.connected) process.disconnect();
  }
}
