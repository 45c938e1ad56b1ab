import { createHash } from 'node:crypto';
import { Faker, base, en } from '@faker-js/faker';

export type AgentOs = 'linux' | 'windows';

/** Who a simulated agent claims to be; reproducible from (seed, index). */
export interface AgentIdentity {
  os: AgentOs;
  agentGuid: string;
  /** Short host name (the `Computer` column). */
  hostname: string;
  /** `hostname -f`, sent as FullyQualfiedDomainName. */
  fqdn: string;
  osName: string;
  osManufacturer: string;
  osVersion: string;
  processorArchitecture: 'x64';
  agentVersion: string;
  /** Private IPs the heartbeat reports (ComputerPrivateIps); lab-only documentation ranges. */
  privateIps: string[];
}

export type Seed = number | string;

/** Turns any seed (number or text) into the number faker wants, stably across runs and machines. */
export function seedNumber(seed: Seed): number {
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) return seed;
  return createHash('sha256').update(String(seed)).digest().readUInt32BE(0);
}

/** A new Faker seeded with (seed, index). */
export function seededFaker(seed: Seed, index = 0): Faker {
  const faker = new Faker({ locale: [en, base] });
  faker.seed([seedNumber(seed), index]);
  return faker;
}

// Building a Faker costs ~0.5 ms, too much for fleets of thousands. Instead, one instance is reseeded
// before every (synchronous) use, so no random state ever carries over from one agent, or one use,
// to the next: the outcome depends only on the seed tuple.
let shared: Faker | undefined;

/** The shared Faker, freshly seeded with `parts`; use it synchronously, before any await. */
export function fakerFor(...parts: number[]): Faker {
  shared ??= new Faker({ locale: [en, base] });
  shared.seed(parts);
  return shared;
}

/**
 * An agent's own stream of seeded Fakers: each `next()` reseeds from (seed, index, stream, n), so
 * a run is reproducible and agents never share random state.
 */
export class SeededStream {
  private n = 0;
  private readonly base: number;
  constructor(seed: Seed, private readonly index: number, private readonly stream: number) {
    this.base = seedNumber(seed);
  }
  next(): Faker {
    return fakerFor(this.base, this.index, this.stream, ++this.n);
  }
}

/** A small seeded PRNG (mulberry32) for backoff jitter: [0, 1). */
export function seededRandom(seed: Seed, index: number): () => number {
  let a = (seedNumber(seed) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LINUX_DISTROS = [
  { name: 'Ubuntu', manufacturer: 'Canonical Group Limited', versions: ['14.04', '16.04'] },
  { name: 'CentOS Linux', manufacturer: 'Central Logistics GmbH', versions: ['6.7', '7.2'] },
  { name: 'Red Hat Enterprise Linux Server', manufacturer: 'Red Hat, Inc.', versions: ['6.8', '7.2'] },
  { name: 'SUSE Linux Enterprise Server', manufacturer: 'SUSE GmbH', versions: ['11.4', '12.1'] },
  { name: 'Debian GNU/Linux', manufacturer: 'Software in the Public Interest, Inc.', versions: ['7', '8'] },
];

const WINDOWS_VERSIONS = [
  { name: 'Microsoft Windows Server 2012 R2 Datacenter', version: '6.3.9600' },
  { name: 'Microsoft Windows Server 2012 R2 Standard', version: '6.3.9600' },
  { name: 'Microsoft Windows Server 2008 R2 Enterprise', version: '6.1.7601' },
  { name: 'Microsoft Windows Server 2016 Datacenter', version: '10.0.14393' },
];

/** Agent versions of the 2016 era (omsagent 1.1.0-x; MMA 8.0.10xxx). */
const LINUX_AGENT_VERSIONS = ['1.1.0-28', '1.1.0-124', '1.1.0-217', '1.2.0-75'];
const WINDOWS_AGENT_VERSIONS = ['8.0.10879.0', '8.0.10918.0', '8.0.11030.0'];

export function createIdentity(os: AgentOs, seed: Seed, index = 0): AgentIdentity {
  const faker = fakerFor(seedNumber(seed), index);
  const agentGuid = faker.string.uuid();
  const word = faker.internet.domainWord().replace(/[^a-z0-9-]/gi, '').slice(0, 40) || 'host';
  const domain = `${faker.internet.domainWord().replace(/[^a-z0-9-]/gi, '') || 'corp'}.contoso.local`;
  const ips = [`10.${faker.number.int({ min: 0, max: 255 })}.${faker.number.int({ min: 0, max: 255 })}.${faker.number.int({ min: 1, max: 254 })}`];
  if (os === 'linux') {
    const distro = faker.helpers.arrayElement(LINUX_DISTROS);
    const hostname = `${word}-${faker.number.int({ min: 1, max: 99 }).toString().padStart(2, '0')}`.toLowerCase();
    return {
      os,
      agentGuid,
      hostname,
      fqdn: `${hostname}.${domain}`,
      osName: distro.name,
      osManufacturer: distro.manufacturer,
      osVersion: faker.helpers.arrayElement(distro.versions),
      processorArchitecture: 'x64',
      agentVersion: faker.helpers.arrayElement(LINUX_AGENT_VERSIONS),
      privateIps: ips,
    };
  }
  const win = faker.helpers.arrayElement(WINDOWS_VERSIONS);
  // NetBIOS names: upper case, at most 15 characters.
  const hostname = `${word.toUpperCase().slice(0, 11)}${faker.number.int({ min: 1, max: 999 }).toString().padStart(3, '0')}`.slice(0, 15);
  return {
    os,
    agentGuid,
    hostname,
    fqdn: `${hostname}.${domain}`.toLowerCase(),
    osName: win.name,
    osManufacturer: 'Microsoft Corporation',
    osVersion: win.version,
    processorArchitecture: 'x64',
    agentVersion: faker.helpers.arrayElement(WINDOWS_AGENT_VERSIONS),
    privateIps: ips,
  };
}
