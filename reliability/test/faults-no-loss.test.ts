import { runFaultsNoLoss, type FaultsReport } from '../faults-run.js';

/**
 * Cloud faults (503 and 429 with Retry-After, resets, hangs, slow answers) and a gateway restart
 * under a scheduled fleet on a ManualClock: agents back off and deliver everything, nothing lost.
 */
describe('faults without loss', () => {
  let report: FaultsReport;

  beforeAll(async () => {
    report = await runFaultsNoLoss({ agents: 6, log: process.env.OMSGW_VERBOSE ? (l) => process.stdout.write(`faults: ${l}\n`) : undefined });
    const a = report.audit;
    process.stdout.write(
      `faults-no-loss: ${report.phases.map((p) => `${p.name}: ${p.faultHits} hits, ${p.agentFailures} agent failures`).join('; ')}; ` +
        `gateway restarts ${report.gatewayRestarts}; created ${a.created}, ingested ${a.ingested}, retransmissions ${a.retransmissions}, duplicates ${a.duplicates}, lost ${a.lost}; ` +
        `drained after ${Math.round(report.clockMsToDrain / 1000)} s of agent time (${report.realMs} ms real)\n`,
    );
  }, 150_000);

  it('ran every fault phase (the checks below loop over them, so an empty list would prove nothing)', () => {
    expect(report.phases.map((p) => p.name)).toEqual([
      '503 with Retry-After 90 s',
      '429 with Retry-After 150 s',
      'connection resets',
      'hung responses (agent request timeout)',
      'slow responses (800 ms)',
      'gateway restart mid-run',
    ]);
    expect(report.phases.filter((x) => x.retryAfterMs !== undefined).map((p) => p.retryAfterMs)).toEqual([90_000, 150_000]);
  });

  it('every injected fault actually fired and was seen by agents', () => {
    for (const p of report.phases.filter((x) => !/slow|restart/.test(x.name))) {
      expect({ phase: p.name, fired: p.faultHits > 0, seen: p.agentFailures > 0 }).toEqual({ phase: p.name, fired: true, seen: true });
    }
    const slow = report.phases.find((p) => /slow/.test(p.name))!;
    expect(slow.faultHits).toBeGreaterThan(0);
    // Slow answers within the request timeout are not failures: data still flows.
    expect(slow.deliveredDuringPhase).toBeGreaterThan(0);
    const restart = report.phases.find((p) => /restart/.test(p.name))!;
    expect(restart.agentFailures).toBeGreaterThan(0);
    expect(report.gatewayRestarts).toBe(1);
  });

  it('agents honour Retry-After: no retry sooner than the server asked', () => {
    for (const p of report.phases.filter((x) => x.retryAfterMs !== undefined)) {
      expect(p.delaysMs.length).toBeGreaterThan(0);
      expect({ phase: p.name, shortest: Math.min(...p.delaysMs) >= p.retryAfterMs! }).toEqual({ phase: p.name, shortest: true });
    }
  });

  it('agents back off after network failures instead of hammering', () => {
    for (const p of report.phases.filter((x) => /resets|hung|restart/.test(x.name))) {
      expect(p.delaysMs.length).toBeGreaterThan(0);
      // The upload backoff starts at 30 s with 20% jitter.
      expect({ phase: p.name, shortest: Math.min(...p.delaysMs) >= 24_000 }).toEqual({ phase: p.name, shortest: true });
    }
  });

  it('zero loss: every record created was ingested exactly once', () => {
    const a = report.audit;
    expect(a.created).toBeGreaterThan(0);
    expect(a.lost).toBe(0);
    expect(a.dropped).toEqual({});
    expect(a.stillQueued).toEqual([]);
    expect(a.acknowledgedButMissing).toEqual([]);
    expect(a.ingested).toBe(a.created);
    expect(a.duplicates).toBe(0);
    expect(a.retransmissions).toBeGreaterThan(0);
    expect(report.clockMsToDrain).toBeGreaterThan(0);
  });

  it('the gateway log spans both generations (started twice, stopped twice)', () => {
    expect(report.gatewayEventCounts['101']).toBe(2);
    expect(report.gatewayEventCounts['102']).toBe(2);
    expect(report.gatewayEventCounts['103']).toBeGreaterThan(0);
  });
});
