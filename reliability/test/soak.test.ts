import { runSoak, validateSoakOptions, type SoakReport } from '../soak.js';
import { isInputError } from '../../lib/errors.js';

/**
 * The one test allowed to take real time (~60 s): it measures leaks, not speed. A gateway child
 * process carries steady, paced tunnel churn (40/s) (a new CONNECT + TLS 1.2 handshake per request)
 * while its RSS and open file descriptors are sampled from /proc.
 */
describe('soak (60 s)', () => {
  it('rejects bad soak options with a message', () => {
    for (const bad of [{ durationMs: 1000 }, { durationMs: 60_000, maxInFlight: 0 }, { durationMs: 60_000, warmupMs: 59_000 }, { durationMs: 60_000, ratePerSecond: 0 }]) {
      let err: unknown;
      try {
        validateSoakOptions(bad);
      } catch (e) {
        err = e;
      }
      expect(isInputError(err)).toBe(true);
    }
  });

  let report: SoakReport;
  it('gateway memory and file descriptors stay flat under churn', async () => {
    report = await runSoak({ durationMs: 60_000, warmupMs: 15_000, sampleIntervalMs: 1000, ratePerSecond: 40 });
    process.stdout.write(`${report.summary}\n`);
    // 40 tunnels/s for 60 s; ticks are lost to timer drift when the shared cores are busy with other suites.
    expect(report.load.completed).toBeGreaterThan(1200);
    expect(report.load.errors).toBe(0);
    expect(report.verdict.samplesUsed).toBeGreaterThanOrEqual(40);
    expect(report.verdict.reasons).toEqual([]);
    expect(report.verdict.flat).toBe(true);
    expect(report.verdict.fds.quiet).toBeDefined();
    expect(report.verdict.liveHeap!.growthBytes).toBeLessThanOrEqual(report.verdict.liveHeap!.allowedGrowthBytes);
    // The gateway saw the load it was sampled under.
    expect(Number(report.gatewayCounters.tunnelsTotal)).toBeGreaterThanOrEqual(report.load.completed);
  }, 120_000);

  it('positive control: a gateway that keeps every event it logs (an unbounded event ring) is judged NOT flat by its live heap', async () => {
    const leaky = await runSoak({ durationMs: 20_000, warmupMs: 4000, sampleIntervalMs: 500, ratePerSecond: 100, eventRingSize: 1_000_000 });
    process.stdout.write(`${leaky.summary}\n`);
    expect(leaky.load.errors).toBe(0);
    expect(leaky.verdict.flat).toBe(false);
    expect(leaky.verdict.reasons.join()).toMatch(/with no connection open, the live heap grew by/);
    expect(leaky.verdict.rss.judged).toBe(false);
  }, 60_000);
});
