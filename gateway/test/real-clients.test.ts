/**
 * Real clients through `omsgw gateway` with its defaults to `omsgw cloud` with its defaults, both
 * spawned as the real CLI processes (dist/cli/omsgw.js):
 *  - Debian curl doing the Linux agent's onboarding with the flags of omsadmin.sh (client
 *    certificate and key, --proxy http://user:pass@host:port, the XML body with --data-binary, the
 *    real headers and signature), then the ODS upload (deflated JSON, client certificate);
 *  - openssl s_client -proxy with -tls1_2 and with -tls1_3;
 *  - Ruby's Net::HTTP (what omsagent uploads with) through the proxy with the client certificate.
 * Each is checked against the cloud (registered agents, ledger) and the gateway's events (103 then
 * 107 carrying the TLS version). A missing tool fails the test: .ci/run installs curl, openssl, ruby.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { cliPath } from '../../lib/paths.js';
import { spawnGateway, type GatewayProcess } from '../process.js';
import { linuxAgentFiles, runTool, spawnCloud, type CloudProcess, type LinuxAgentFiles } from './real-clients-support.js';
import { tempDir } from './support.js';

const WS = '5d0c6e2a-8f41-4b3c-9a7e-1c2d3e4f5a6b';
const KEY = randomBytes(64).toString('base64');
const OMS = `${WS}.oms.opinsights.azure.com`;
const ODS = `${WS}.ods.opinsights.azure.com`;

let work: ReturnType<typeof tempDir>;
let cloud: CloudProcess;
let gateway: GatewayProcess;
let agent: LinuxAgentFiles;
let proxyString: string;

interface Event {
  seq: number;
  id: number;
  message: string;
  target?: string;
  connectionId?: number;
  fields?: Record<string, unknown>;
}

beforeAll(async () => {
  if (!existsSync(cliPath())) throw new Error(`${cliPath()} is missing: run npx tsc -p tsconfig.build.json first`);
  work = tempDir('omsgw-real-clients-');
  cloud = await spawnCloud(['--state-dir', join(work.dir, 'cloud'), '--workspace', `${WS}:${KEY}`]);
  const init = await runTool(process.execPath, [cliPath(), 'gateway', 'init', '--workspace', WS, '--dir', join(work.dir, 'gw')]);
  expect(init.code).toBe(0);
  // Defaults, except what a test on loopback needs: ephemeral ports, and the host map to the fake cloud.
  gateway = await spawnGateway(['--dir', join(work.dir, 'gw'), '--quiet', ...cloud.hostMap.flatMap((e) => ['--host-map', e])]);
  // The Linux agent's proxy string (omsadmin.sh -p): credentials the gateway accepts and does not require.
  proxyString = `http://agent:s3cret@127.0.0.1:${gateway.proxyPort}`;
  agent = await linuxAgentFiles(work.dir, WS, KEY);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await cloud?.stop();
  work?.cleanup();
});

async function lastSeq(): Promise<number> {
  const events = ((await (await fetch(`${gateway.adminUrl}/api/events`)).json()) as { events: Event[] }).events;
  return events.length ? events[events.length - 1].seq : 0;
}

/** The gateway's 103..107 (and any refusal) per connection since `seq`, once every connection has a verdict. */
async function connectionsSince(seq: number, expected: number): Promise<Event[][]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const events = ((await (await fetch(`${gateway.adminUrl}/api/events?since=${seq}&id=103,104,105,106,107,402,403`)).json()) as { events: Event[] }).events;
    const byConn = new Map<number, Event[]>();
    for (const e of events) if (e.connectionId !== undefined) byConn.set(e.connectionId, [...(byConn.get(e.connectionId) ?? []), e]);
    const conns = [...byConn.values()];
    if ((conns.length >= expected && conns.every((c) => c.length >= 2)) || Date.now() > deadline) return conns;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function verdict(conn: Event[]): { ids: number[]; target?: string; version?: unknown } {
  return { ids: conn.map((e) => e.id), target: conn[0]?.target, version: conn.find((e) => e.id === 107)?.fields?.version };
}

async function ledgerIds(): Promise<Record<string, string[]>> {
  const r = (await (await fetch(`${cloud.adminUrl}/_lab/ingested?workspace=${WS}`)).json()) as { entries: Array<{ agentId: string; dataType: string; recordIds: string[] }> };
  const out: Record<string, string[]> = {};
  for (const e of r.entries) out[`${e.agentId}/${e.dataType}`] = e.recordIds;
  return out;
}

/** An ODS body like out_oms sends it: {"DataType", "IPName", "DataItems"} with ledger ids. */
function odsBody(ids: string[]): string {
  return JSON.stringify({
    DataType: 'LINUX_PERF_BLOB',
    IPName: 'LogManagement',
    DataItems: ids.map((id) => ({ Timestamp: new Date().toISOString(), Host: 'real-client', ObjectName: 'Processor', InstanceName: '_Total', Collections: [{ CounterName: '% Processor Time', Value: '3' }], omsgwRecordId: id })),
  });
}

test('the cloud runs with its default TLS versions (today\'s endpoints: TLS 1.2 and 1.3)', () => {
  expect(cloud.tls).toEqual({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
});

test('curl onboards like omsadmin.sh: 200, the agent is registered, the gateway shows 103 then 107 with TLS 1.3', async () => {
  const since = await lastSeq();
  const h = agent.headers;
  const response = join(work.dir, 'resp_onboard.xml');
  // The flags of omsadmin.sh onboard(), in its order; -v is its verbose mode (CURL_VERBOSE), which
  // shows the protocol versions.
  const r = await runTool('curl', [
    '--header', `x-ms-Date: ${h['x-ms-Date']}`,
    '--header', `x-ms-version: ${h['x-ms-version']}`,
    '--header', `x-ms-SHA256_Content: ${h['x-ms-SHA256_Content']}`,
    '--header', `Authorization: ${h.Authorization}`,
    '--header', `User-Agent: ${h['User-Agent']}`,
    '--header', 'Accept-Language: en-US',
    '--insecure',
    '--data-binary', `@${agent.bodyPath}`,
    '--cert', agent.certPath, '--key', agent.keyPath,
    '--output', response, '-v',
    '--write-out', '%{http_code}\n',
    '--proxy', proxyString,
    `https://${OMS}/AgentService.svc/LinuxAgentTopologyRequest`,
  ]);
  expect({ code: r.code, status: r.stdout.trim() }).toEqual({ code: 0, status: '200' });
  expect(r.stderr).toMatch(/> CONNECT .*opinsights\.azure\.com:443 HTTP\/1\.1/);
  expect(r.stderr).toMatch(/Proxy-Authorization: Basic /);
  expect(r.stderr).toMatch(/SSL connection using TLSv1\.3/);
  expect(r.stderr).toMatch(/> POST \/AgentService\.svc\/LinuxAgentTopologyRequest HTTP\/1\.1/);
  expect(r.stderr).toMatch(/< HTTP\/1\.1 200/);
  expect(readFileSync(response, 'utf8')).toContain('<LinuxAgentTopologyResponse');

  const agents = ((await (await fetch(`${cloud.adminUrl}/_lab/agents?workspace=${WS}`)).json()) as { agents: Array<{ agentId: string; os: string; certificateSubject: string }> }).agents;
  expect(agents).toEqual([expect.objectContaining({ agentId: agent.agentGuid, os: 'linux' })]);

  const conns = await connectionsSince(since, 1);
  expect(conns.map(verdict)).toEqual([{ ids: [103, 107], target: `${OMS}:443`, version: 'TLSv1.3' }]);
  // The proxy string's credentials reached the gateway, masked in its 103.
  expect(conns[0][0].message).toMatch(/Proxy-Authorization: Basic \*\*\*\*/);
  expect(conns[0][0].message).not.toContain('s3cret');
});

test('curl uploads deflated JSON to PostJsonDataItems with the client certificate: ingested under the agent', async () => {
  const since = await lastSeq();
  const ids = ['curl-1', 'curl-2', 'curl-3'];
  const bodyPath = join(work.dir, 'ods-curl.deflate');
  writeFileSync(bodyPath, deflateSync(odsBody(ids)));
  const r = await runTool('curl', [
    '--insecure', '-v',
    '--cert', agent.certPath, '--key', agent.keyPath,
    '--proxy', proxyString,
    '--header', `X-Request-ID: ${randomUUID()}`,
    '--header', 'Content-Type: application/json',
    '--header', 'Content-Encoding: deflate',
    '--data-binary', `@${bodyPath}`,
    '--output', join(work.dir, 'ods-curl.out'),
    '--write-out', '%{http_code}\n',
    `https://${ODS}/OperationalData.svc/PostJsonDataItems`,
  ]);
  expect({ code: r.code, status: r.stdout.trim() }).toEqual({ code: 0, status: '200' });
  expect(r.stderr).toMatch(/SSL connection using TLSv1\.3/);
  expect((await ledgerIds())[`${agent.agentGuid}/LINUX_PERF_BLOB`]).toEqual(expect.arrayContaining(ids));
  expect((await connectionsSince(since, 1)).map(verdict)).toEqual([{ ids: [103, 107], target: `${ODS}:443`, version: 'TLSv1.3' }]);
});

describe('openssl s_client -proxy', () => {
  test.each([
    ['-tls1_2', 'TLSv1.2'],
    ['-tls1_3', 'TLSv1.3'],
  ])('%s: handshake verified against the lab CA, negotiated %s, the gateway shows 103 then 107 with that version', async (flag, version) => {
    const since = await lastSeq();
    const r = await runTool(
      'openssl',
      ['s_client', '-proxy', `127.0.0.1:${gateway.proxyPort}`, '-connect', `${OMS}:443`, '-servername', OMS, flag, '-CAfile', cloud.caCertPath, '-verify_return_error', '-cert', agent.certPath, '-key', agent.keyPath, '-ign_eof'],
      { stdin: `GET /AgentService.svc/LinuxAgentTopologyRequest HTTP/1.1\r\nHost: ${OMS}\r\nConnection: close\r\n\r\n` },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`New, ${version.replace('.', '\\.')}, Cipher is `));
    expect(r.stdout).toContain('Verify return code: 0 (ok)');
    // The request went through the tunnel to the cloud (which answers a GET on a POST operation with an HTTP error).
    expect(r.stdout).toMatch(/HTTP\/1\.1 \d{3} /);
    expect((await connectionsSince(since, 1)).map(verdict)).toEqual([{ ids: [103, 107], target: `${OMS}:443`, version }]);
  });
});

test("Ruby's Net::HTTP uploads like out_oms (proxy with credentials, client certificate, deflate): ingested, 103 then 107", async () => {
  const since = await lastSeq();
  const ids = ['ruby-1', 'ruby-2'];
  const jsonPath = join(work.dir, 'ods-ruby.json');
  writeFileSync(jsonPath, odsBody(ids));
  // create_secure_http / create_ods_http / create_ods_request of omsagent's oms_common.rb.
  const script = `
require 'net/http'
require 'openssl'
require 'securerandom'
require 'zlib'
uri = URI(ARGV[0])
proxy = URI(ARGV[1])
http = Net::HTTP.new(uri.host, uri.port, proxy.host, proxy.port, proxy.user, proxy.password)
http.use_ssl = true
http.verify_mode = OpenSSL::SSL::VERIFY_NONE
http.open_timeout = 30
http.cert = OpenSSL::X509::Certificate.new(File.read(ARGV[2]))
http.key = OpenSSL::PKey::RSA.new(File.read(ARGV[3]))
req = Net::HTTP::Post.new(uri.path, { 'X-Request-ID' => SecureRandom.uuid, 'Content-Type' => 'application/json', 'Content-Encoding' => 'deflate' })
req.body = Zlib::Deflate.deflate(File.read(ARGV[4]))
http.start do |h|
  res = h.request(req)
  puts "status=#{res.code}"
  puts "tls=#{h.instance_variable_get(:@socket).io.ssl_version}"
end
`;
  const r = await runTool('ruby', ['-e', script, `https://${ODS}/OperationalData.svc/PostJsonDataItems`, proxyString, agent.certPath, agent.keyPath, jsonPath]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout.trim().split('\n')).toEqual(['status=200', 'tls=TLSv1.3']);
  expect((await ledgerIds())[`${agent.agentGuid}/LINUX_PERF_BLOB`]).toEqual(expect.arrayContaining(['curl-1', 'curl-2', 'curl-3', ...ids]));
  expect((await connectionsSince(since, 1)).map(verdict)).toEqual([{ ids: [103, 107], target: `${ODS}:443`, version: 'TLSv1.3' }]);
});
