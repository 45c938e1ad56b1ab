import { ManualClock } from '../../lib/clock.js';
import { defaultReply } from './helpers/servers.js';
import { labAgentMaker, labOdsPosts, untilSocketWork, useWireLab } from './helpers/wire-lab.js';

const WS = '6f2a1b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const KEY = Buffer.from('behaviour-wire-test-key-0123456789').toString('base64');

describe('behaviour models over real sockets (tiny CONNECT proxy and cloud), on a manual clock', () => {
  const lab = useWireLab();
  const make = labAgentMaker(lab, { workspaceId: WS, workspaceKey: KEY, seed: 31 });
  const odsPosts = () => labOdsPosts(lab);
  const until = untilSocketWork;
  const quiet = () => new Promise((r) => setTimeout(r, 100));

  test('omsagent: a 429 with Retry-After 600 is retried after 30 s and 60 s anyway, each post on a new CONNECT + TLS; the ideal agent waits the 600 s', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    lab.cloud.reply = (req) => (req.path.includes('PostJsonDataItems') ? { status: 429, headers: { 'retry-after': '600' }, body: 'slow down' } : undefined);
    const quietSchedule = { topologyHeartbeatMs: 0, heartbeatRowsMs: 0 };
    const oms = make('linux', clock, { retry: { jitter: 0 }, schedule: quietSchedule });
    const ideal = make('linux', clock, { behavior: 'ideal', index: 1, bindAddress: '127.0.0.2', retry: { jitter: 0 }, schedule: quietSchedule });
    expect(oms.behavior.name).toBe('omsagent');
    const tunnels: string[] = [];
    oms.on('tunnel', (t) => tunnels.push(t.target));
    oms.start();
    ideal.start();
    await oms.waitFor({ registered: true });
    await ideal.waitFor({ registered: true });
    const mine = () => odsPosts().filter((p) => p.json!.DataItems.some((i) => String(i.omsgwRecordId).startsWith(oms.agentId)));
    const theirs = () => odsPosts().filter((p) => p.json!.DataItems.some((i) => String(i.omsgwRecordId).startsWith(ideal.agentId)));

    await clock.advance(60_000); // the first collection; the omsagent buffer flushes on its 20-s tick at 60 s
    await until(() => mine().length === 1 && oms.status().state === 'retrying' && ideal.status().state === 'retrying', 'both first failures');
    expect(oms.status().nextRetryAt).toBe(t0 + 90_000); // retry_wait 30 s after the attempt, Retry-After not read
    expect(ideal.status().nextRetryAt).toBe(t0 + 660_000); // the ideal agent honours Retry-After: 600
    await clock.advance(29_999);
    await quiet();
    expect(mine()).toHaveLength(1); // the control: not before the 30 s
    await clock.advance(1);
    await until(() => mine().length === 2 && oms.status().nextRetryAt === t0 + 150_000, 'the first retry at 90 s, the next planned 60 s later');
    await oms.settled();
    await clock.advance(60_000);
    await until(() => mine().length === 3, 'the second retry at 150 s');
    expect(theirs()).toHaveLength(1); // the ideal agent is still waiting
    // out_oms opens a new connection per POST: one CONNECT (and one 'tunnel') per upload attempt.
    const odsTunnels = tunnels.filter((t) => t.includes('.ods.'));
    expect(odsTunnels).toHaveLength(3);
    const connects = (from: string) => lab.proxy.seen.filter((c) => c.target.includes('.ods.') && c.remoteAddress === from).length;
    expect([connects('127.0.0.1'), connects('127.0.0.2')]).toEqual([3, 1]);
  });

  test('omsagent: the topology heartbeat waits 20 minutes, then follows the response\'s queryInterval; an out-of-range interval is ignored', async () => {
    const clock = new ManualClock();
    let interval = 'PT5M';
    lab.cloud.reply = (req) => {
      if (!req.path.startsWith('/AgentService.svc/')) return undefined;
      const r = defaultReply(req);
      return { ...r, body: r.body!.replace(/<(\w+TopologyResponse) /, `<$1 queryInterval="${interval}" `) };
    };
    const a = make('linux', clock, { schedule: { collectIntervalMs: 0, heartbeatRowsMs: 0 } });
    a.start();
    await a.waitFor({ registered: true });
    const heartbeats = () => lab.cloud.seen.filter((s) => s.path.startsWith('/AgentService.svc/') && s.headers.authorization === undefined).length;
    await clock.advance(20 * 60_000 - 1);
    await quiet();
    expect(heartbeats()).toBe(0); // control: the onboarding response's PT5M does not shorten the first wait
    await clock.advance(1);
    await until(() => heartbeats() === 1, 'the first heartbeat at 20 min');
    await a.settled(); // its answer read: the next wait starts when a heartbeat ends
    interval = 'P8D'; // above the 7-day bound: ignored, the 5 minutes stay
    await clock.advance(5 * 60_000 - 1);
    await quiet();
    expect(heartbeats()).toBe(1);
    await clock.advance(1);
    await until(() => heartbeats() === 2, 'the second heartbeat 5 min later (queryInterval PT5M)');
    await a.settled();
    await clock.advance(5 * 60_000);
    await until(() => heartbeats() === 3, 'the third, still 5 min later (P8D ignored)');
  });
});
