import { ManualClock } from '../../lib/clock.js';
import { createAgent, certificateSubject, KeyPool, type SimulatedAgent } from '../agent-core/index.js';
import { useWireLab } from './helpers/wire-lab.js';

const WS = '5e1f0f4c-8d3a-4b6e-9a77-0c2d4e6f8a10';
const KEY = Buffer.from('simulator test shared key, not a secret').toString('base64');

const lab = useWireLab();
const { agents } = lab;
const keyPool = new KeyPool({ size: 2 });

beforeAll(() => keyPool.warm());

function agent(os: 'linux' | 'windows', extra: Partial<Parameters<typeof createAgent>[0]> = {}): SimulatedAgent {
  const a = createAgent({ os, workspaceId: WS, workspaceKey: KEY, proxy: `http://user:p%40ss@127.0.0.1:${lab.proxy.port}`, caPem: lab.pki.caPem, seed: 42, keyPool, clock: new ManualClock(), ...extra });
  agents.push(a);
  return a;
}

describe('linux agent on the wire', () => {
  test('onboards, registers with the agent service, then posts deflated data, in that host order', async () => {
    const a = agent('linux', { bindAddress: '127.0.0.3' });
    const r = await a.runOnce();
    expect(r.delivered).toBeGreaterThan(0);
    expect(lab.proxy.seen.map((s) => s.target)).toEqual([
      `${WS}.oms.opinsights.azure.com:443`,
      'scus-agentservice-prod-1.azure-automation.net:443',
      ...lab.proxy.seen.slice(2).map(() => `${WS}.ods.opinsights.azure.com:443`),
    ]);
    expect(lab.proxy.seen.length).toBeGreaterThanOrEqual(3);
    // every CONNECT came from the bind address and carried the proxy credentials literally
    for (const s of lab.proxy.seen) {
      expect(s.remoteAddress).toBe('127.0.0.3');
      expect(s.headers['proxy-authorization']).toBe(`Basic ${Buffer.from('user:p%40ss').toString('base64')}`);
      expect(s.headers.host).toBe(s.target);
      // Ruby Net::HTTP sends Host and Proxy-Authorization only; node:http adds Connection: close.
      expect(s.rawHeaders.filter((_, i) => i % 2 === 0)).toEqual(['Host', 'Proxy-Authorization', 'Connection']);
    }
    const [topo, dsc, ...data] = lab.cloud.seen;
    expect(topo!.path).toBe('/AgentService.svc/LinuxAgentTopologyRequest');
    expect(topo!.headers['x-ms-version']).toBe('August, 2014');
    expect(topo!.headers['content-type']).toBe('application/x-www-form-urlencoded'); // curl --data-binary's default
    expect(topo!.headers['accept-language']).toBe('en-US');
    expect(topo!.headers['user-agent']).toMatch(/^LinuxMonitoringAgent\/\d+\.\d+\.\d+-\d+$/);
    expect(topo!.headers.authorization).toMatch(new RegExp(`^${WS}; [A-Za-z0-9+/]{43}=$`));
    expect(topo!.tlsVersion).toBe('TLSv1.2');
    expect(topo!.servername).toBe(`${WS}.oms.opinsights.azure.com`);
    const cert = await a.certificate();
    expect(topo!.peerSubject).toBe(`CN=${WS}, CN=${a.agentId}, OU=Linux Monitoring Agent, O=Microsoft`);
    expect(certificateSubject(cert.certPem)).toBe(`CN=${WS}, CN=${a.agentId}, OU=Linux Monitoring Agent, O=Microsoft`);
    expect(dsc!.method).toBe('PUT');
    expect(dsc!.path).toBe(`/Accounts/${WS}/Nodes(AgentId='${a.agentId}')`);
    expect(dsc!.peerSubject).toContain(a.agentId);
    const types = new Set(data.map((d) => d.json!.DataType));
    expect(types).toEqual(new Set(['LINUX_PERF_BLOB', 'LINUX_SYSLOGS_BLOB', 'HEALTH_ASSESSMENT_BLOB']));
    for (const d of data) {
      expect(d.path).toBe('/OperationalData.svc/PostJsonDataItems');
      expect(d.headers['content-encoding']).toBe('deflate');
      expect(d.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(d.json!.IPName).toBe('LogManagement');
    }
    const s = a.summary();
    expect(lab.cloud.recordIds().sort()).toEqual(a.ledger.acknowledgedIds().sort());
    expect(s).toMatchObject({ created: r.delivered, acknowledged: r.delivered, queued: 0, inFlight: 0, dropped: {} });
    expect(a.status()).toMatchObject({ onboarded: true, agentServiceRegistered: true, delivered: r.delivered, queued: 0 });
  });

  test('a CONNECT refused with 403 at the automation host is reported like the agent does and nothing is uploaded', async () => {
    lab.proxy.refuse = (t) => (t.startsWith('scus-agentservice') ? '403 Forbidden' : undefined);
    const a = agent('linux');
    const failures: string[] = [];
    a.on('failed', (f) => failures.push(`${f.phase}:${f.error.proxyStatus}`));
    await expect(a.runOnce()).rejects.toMatchObject({ kind: 'proxy-refused', proxyStatus: 403, message: expect.stringMatching(/^Proxy CONNECT refused: 403 Forbidden/) });
    expect(failures).toEqual(['agent-service:403']);
    const st = a.status();
    expect(st).toMatchObject({ onboarded: true, agentServiceRegistered: false, delivered: 0, state: 'failed' });
    expect(st.lastFailure).toMatchObject({ phase: 'agent-service', proxyStatus: 403, target: 'scus-agentservice-prod-1.azure-automation.net:443' });
    expect(st.lastError).toMatch(/Proxy CONNECT refused: 403 Forbidden/);
    expect(lab.cloud.seen.filter((s) => s.path.includes('PostJsonDataItems'))).toHaveLength(0);
  });
});

describe('heartbeat rows under runOnce', () => {
  const healthRows = (a: SimulatedAgent): number => [...a.ledger.records()].filter((r) => r.dataType === 'HEALTH_ASSESSMENT_BLOB').length;

  test('runOnce every 6 s of agent time makes one HEALTH_ASSESSMENT_BLOB a minute, not one a cycle; with the interval 0, one a call', async () => {
    const clock = new ManualClock();
    const a = agent('linux', { clock });
    for (let i = 0; i < 11; i++) {
      await a.runOnce();
      if (i < 10) await clock.advance(6_000);
    }
    // calls at 0, 6, ..., 60 s: rows at 0 s and 60 s
    expect(healthRows(a)).toBe(2);
    expect(lab.cloud.seen.filter((d) => d.json?.DataType === 'HEALTH_ASSESSMENT_BLOB')).toHaveLength(2);

    const every = agent('linux', { clock: new ManualClock(), schedule: { heartbeatRowsMs: 0 } });
    for (let i = 0; i < 3; i++) await every.runOnce();
    expect(healthRows(every)).toBe(3);
  });
});

describe('createAgent options', () => {
  const good = () => ({ os: 'linux' as const, workspaceId: WS, workspaceKey: KEY, proxy: '127.0.0.1:8080', caPem: lab.pki.caPem, seed: 1 });
  test.each([
    [{ os: 'macos' }, /os must be "linux" or "windows"/],
    [{ workspaceId: 'abc' }, /must be a GUID/],
    [{ workspaceKey: '***' }, /base64 shared key/],
    [{ proxy: 'ftp://x' }, /scheme "ftp:\/\/"/],
    [{ caPem: 'not a pem' }, /caPem must be the lab CA certificate/],
    [{ bindAddress: '10.0.0.1' }, /not a loopback address/],
    [{ bindAddress: '127.0.0.300' }, /bindAddress 127.0.0.300 is not a loopback address/],
    [{ bindAddress: '127.1' }, /not a loopback address/],
    [{ schedule: { collectIntervalMs: -1 } }, /schedule.collectIntervalMs must be/],
    [{ retry: { uploadInitialMs: 0 } }, /retry.uploadInitialMs must be/],
    [{ retry: { onboardInitialMs: 10_000, onboardMaxMs: 5_000 } }, /onboardMaxMs \(5000\) must not be below/],
    [{ retry: { jitter: 1 } }, /retry.jitter must be in/],
    [{ batchSize: 0 }, /batchSize must be a positive integer/],
    [{ queueLimit: 0 }, /queueLimit must be a whole number >= 1, got 0/],
    [{ requestTimeoutMs: 0 }, /requestTimeoutMs must be a number of milliseconds > 0, got 0/],
    [{ connectTimeoutMs: -5 }, /connectTimeoutMs must be a number of milliseconds > 0/],
    [{ volume: { perfSamples: -1 } }, /volume.perfSamples must be a whole number >= 0, got -1/],
    [{ volume: { messageBytes: 1.5 } }, /volume.messageBytes must be a whole number >= 0/],
    [{ tls: { minVersion: 'TLSv1.3' } }, /tls.minVersion TLSv1.3 is above tls.maxVersion TLSv1.2 \(the default, like the 2016 agents\)/],
    [{ tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.1' } }, /tls.minVersion TLSv1.2 is above tls.maxVersion TLSv1.1: raise/],
    [{ tls: { maxVersion: 'SSLv3' } }, /tls.maxVersion must be one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, got "SSLv3"/],
    [{ tls: { servername: '' } }, /tls.servername must be a host name/],
    [{ behavior: 'ideal', buffer: { chunkLimitBytes: 1000 } }, /^buffer applies to behavior omsagent or mma \(chunked buffers\), not ideal/],
    [{ behavior: 'omsagent', retry: { uploadInitialMs: 60_000, uploadMaxMs: 30_000 } }, /retry.uploadMaxMs \(30000\) must not be below retry.uploadInitialMs \(60000\)/],
  ])('%j is an InputError', (extra, msg) => {
    let err: unknown;
    try {
      createAgent({ ...good(), ...extra } as never);
    } catch (e) {
      err = e;
    }
    expect((err as Error)?.name).toBe('InputError');
    expect((err as Error).message).toMatch(msg);
  });
});

describe('failures and shutdown', () => {
  test('407 from the proxy is proxy-auth-required; an unreachable proxy says so, with the bind address', async () => {
    lab.proxy.refuse = () => '407 Proxy Authentication Required';
    const a = agent('windows');
    await expect(a.onboard()).rejects.toMatchObject({ kind: 'proxy-auth-required', proxyStatus: 407, message: 'Proxy CONNECT refused: 407 Proxy Authentication Required' });
    const b = agent('windows', { proxy: '127.0.0.1:1', bindAddress: '127.0.0.5' });
    await expect(b.onboard()).rejects.toMatchObject({ kind: 'proxy-unreachable', message: 'Cannot reach the proxy http://127.0.0.1:1 from 127.0.0.5: ECONNREFUSED' });
    expect(b.status()).toMatchObject({ state: 'failed', errors: 1, lastCallFailed: true });
  });

  test('close() abandons a CONNECT the proxy never answers, without counting it as a failure', async () => {
    lab.proxy.refuse = () => 'hang';
    const a = agent('linux', { connectTimeoutMs: 60_000 });
    const onboarding = a.onboard();
    await new Promise<void>((r) => {
      const t = setInterval(() => lab.proxy.seen.length > 0 && (clearInterval(t), r()), 5);
    });
    const t0 = Date.now();
    await a.close();
    await expect(onboarding).rejects.toThrow(/abandoned: the agent is closing$/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(a.status()).toMatchObject({ state: 'stopped', errors: 0 });
  });
});

describe('windows agent on the wire', () => {
  test('onboards with AgentTopologyRequest and posts events and perf to ODS, never the automation host', async () => {
    const a = agent('windows', { bindAddress: '127.0.0.4' });
    const r = await a.runOnce();
    expect(r.delivered).toBeGreaterThan(0);
    expect(lab.proxy.seen.every((s) => !s.target.includes('azure-automation'))).toBe(true);
    expect(lab.proxy.seen[0]!.target).toBe(`${WS}.oms.opinsights.azure.com:443`);
    expect(lab.proxy.seen[0]!.remoteAddress).toBe('127.0.0.4');
    expect(lab.proxy.seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0)).toEqual(['Host', 'User-Agent', 'Proxy-Connection', 'Proxy-Authorization', 'Connection']);
    const topo = lab.cloud.seen[0]!;
    expect(topo.path).toBe('/AgentService.svc/AgentTopologyRequest');
    expect(topo.headers['content-type']).toBe('application/xml');
    expect(topo.peerSubject).toBe(`CN=${WS}, CN=${a.agentId}, OU=Microsoft Monitoring Agent, O=Microsoft`);
    expect(new Set(lab.cloud.seen.slice(1).map((d) => d.json!.DataType))).toEqual(new Set(['GENERIC_EVENT_BLOB', 'WINDOWS_PERF_BLOB']));
    expect(lab.cloud.recordIds().sort()).toEqual(a.ledger.acknowledgedIds().sort());
  });

  test('TLS settings: maxVersion TLSv1.3 negotiates 1.3; an SNI override is sent as given', async () => {
    const a = agent('windows', { tls: { maxVersion: 'TLSv1.3', servername: 'sni.example.test' } });
    await a.onboard();
    expect(lab.cloud.seen[0]!.tlsVersion).toBe('TLSv1.3');
    expect(lab.cloud.seen[0]!.servername).toBe('sni.example.test');
  });

  test('identities are reproducible from the seed and differ by index', () => {
    const a1 = agent('windows', { seed: 'lab-7', index: 3 });
    const a2 = agent('windows', { seed: 'lab-7', index: 3 });
    const a3 = agent('windows', { seed: 'lab-7', index: 4 });
    expect(a1.identity).toEqual(a2.identity);
    expect(a3.identity.agentGuid).not.toBe(a1.identity.agentGuid);
  });
});
