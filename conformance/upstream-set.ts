import { randomBytes } from 'node:crypto';
import { createFakeCloud, type FakeCloud } from '../fake-oms-endpoints/index.js';
import { selfSigned } from './certs.js';
import { ALLOWED_CLIENT_SUBJECT, DEFAULT_WORKSPACE_KEY, INTRUDER_CLIENT_SUBJECT, SUFFIX } from './hosts.js';
import type { KeyCert } from './types.js';
import { EchoUpstream, RelayUpstream } from './upstreams.js';

export interface UpstreamSetOptions {
  cloudPort: number;
  echoPort: number;
  relayPort: number;
  relayAuth?: string;
  workspaceId: string;
  /** Folder for the fake cloud's lab CA. */
  stateDir: string;
}

/** The suite's own upstreams: fake cloud, echo upstream, relay; plus the client certificates of the TLS cases. */
export interface UpstreamSet {
  cloud: FakeCloud;
  echo: EchoUpstream;
  relay: RelayUpstream;
  certs: { allowed: KeyCert; intruder: KeyCert };
  ports: { cloudPort: number; echoPort: number; relayPort: number };
  close(): Promise<void>;
}

/** Starts the three upstreams on 127.0.0.1 (a port of 0 = any free port); on failure closes what started. */
export async function startUpstreams(o: UpstreamSetOptions): Promise<UpstreamSet> {
  const [echoCert, allowed, intruder] = await Promise.all([
    selfSigned(`CN=echo.${SUFFIX}`, [`*.${SUFFIX}`]),
    selfSigned(ALLOWED_CLIENT_SUBJECT),
    selfSigned(INTRUDER_CLIENT_SUBJECT),
  ]);
  const cloud = createFakeCloud({ stateDir: o.stateDir, workspaces: [{ id: o.workspaceId, key: DEFAULT_WORKSPACE_KEY }], port: o.cloudPort });
  const echo = new EchoUpstream(o.echoPort, echoCert);
  let relay: RelayUpstream | undefined;
  const close = async (): Promise<void> => {
    await Promise.allSettled([cloud.close(), echo.close(), relay?.close()]);
  };
  try {
    await cloud.start();
    await echo.start();
    relay = new RelayUpstream(o.relayPort, { cloudPort: cloud.port, echoPort: echo.port }, o.relayAuth);
    await relay.start();
  } catch (err) {
    await close();
    throw err;
  }
  return { cloud, echo, relay, certs: { allowed, intruder }, ports: { cloudPort: cloud.port, echoPort: echo.port, relayPort: relay.port }, close };
}

/** A loopback /24 no other run is likely to use, so Connected Client moves by exactly one per section. */
export function sourceNet(): string {
  const b = randomBytes(2);
  return `127.${100 + (b[0] % 150)}.${b[1]}`;
}
