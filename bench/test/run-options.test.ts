import { isInputError } from '../../lib/errors.js';
import { runBench } from '../run.js';

/** Bad selections are refused before anything is installed or started. */
describe('runBench option checks', () => {
  const base = { quick: true, install: false, log: () => undefined };

  it.each([
    [{ peers: [] as string[] }, '--peers names no peer; choose from direct'],
    [{ workloads: [] as string[] }, '--workloads names no workload; choose from keepalive'],
    [{ peers: ['varnish'] }, 'unknown peer "varnish"'],
    [{ workloads: ['stampede'] }, 'unknown workload "stampede"'],
  ])('%j is an input error', async (sel, message) => {
    const err = await runBench({ ...base, ...sel }).then(() => undefined, (e: unknown) => e);
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message).toContain(message);
  });
});
