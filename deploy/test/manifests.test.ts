/**
 * The deployment files, checked offline: every Kubernetes object against its OpenAPI schema
 * (kubernetes-models, generated from the Kubernetes API's own schemas), every omsgw flag they use
 * against the real CLI, and every metric the Grafana dashboard plots against a live gateway.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { packageRoot, cliPath } from '../../lib/paths.js';
import { createGateway } from '../../gateway/index.js';

type K8sObject = { apiVersion: string; kind: string; metadata?: { name?: string; annotations?: Record<string, string> }; spec?: any };

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
};

const K8S_DIR = join(packageRoot(), 'deploy', 'kubernetes');
const manifestFiles = readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');

function loadObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJSON() as K8sObject;
  });
}

/** Throws the schema's own message when the object does not match its kind's schema. */
function validateObject(obj: K8sObject): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) throw new Error(`no schema registered for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}

const allObjects = manifestFiles.flatMap((file) => loadObjects(file).map((obj) => ({ file, obj })));
const podSpecs = allObjects.flatMap(({ file, obj }) => (obj.spec?.template?.spec ? [{ file, obj, pod: obj.spec.template.spec }] : []));

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  test('there are manifests, and they hold the parts the issue asks for', () => {
    const kinds = allObjects.map(({ obj }) => `${obj.kind}/${obj.metadata?.name}`);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment/omsgw-cloud', 'Service/omsgw-cloud', 'Deployment/omsgw-gateway', 'Service/omsgw-gateway', 'Job/omsgw-agents', 'Job/omsgw-merge']));
    const agents = allObjects.find(({ obj }) => obj.metadata?.name === 'omsgw-agents')!.obj;
    expect(agents.spec.completionMode).toBe('Indexed');
  });

  test.each(allObjects.map(({ file, obj }) => [`${file}: ${obj.kind}/${obj.metadata?.name}`, obj] as const))('%s matches its Kubernetes schema', (_name, obj) => {
    expect(() => validateObject(obj)).not.toThrow();
  });

  test('positive control: the validator rejects broken objects with the schema path', () => {
    const gateway = structuredClone(allObjects.find(({ obj }) => obj.kind === 'Deployment')!.obj);
    gateway.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    expect(() => validateObject(gateway)).toThrow(/containerPort must be integer/);
    const noSelector = structuredClone(gateway);
    delete noSelector.spec.selector;
    expect(() => validateObject(noSelector)).toThrow(/must have required property 'selector'|must have required property selector/);
    expect(() => validateObject({ apiVersion: 'apps/v1', kind: 'StatefulSet' })).toThrow(/no schema registered for apps\/v1 StatefulSet/);
  });

  test('kustomization lists every manifest but the merge Job (run after the agents finish)', () => {
    const kustomization = parseAllDocuments(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8'))[0].toJSON() as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(manifestFiles.filter((f) => f !== 'merge-job.yaml').sort());
  });

  test('every pod runs as non-root, drops capabilities and uses the image of this version', () => {
    const version = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version as string;
    expect(podSpecs.length).toBeGreaterThanOrEqual(4);
    for (const { pod } of podSpecs) {
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      for (const c of pod.containers) {
        expect(c.image).toBe(`omsgw:${version}`);
        expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
        expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
        expect(c.resources.requests.cpu).toBeDefined();
      }
    }
  });

  test('Prometheus scrape annotations point at the gateway container port that serves /metrics', () => {
    const gateway = allObjects.find(({ obj }) => obj.kind === 'Deployment' && obj.metadata?.name === 'omsgw-gateway')!.obj;
    const annotations = gateway.spec.template.metadata.annotations;
    const container = gateway.spec.template.spec.containers[0];
    const adminPort = container.ports.find((p: { name: string }) => p.name === 'admin').containerPort;
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(Number(annotations['prometheus.io/port'])).toBe(adminPort);
    expect(container.args).toContain(`--admin-port=${adminPort}`);
    expect(annotations['prometheus.io/path']).toBe('/metrics');
  });
});

/** `omsgw <command words> --flag ...` as written in a container's command/args. */
function omsgwInvocations(): Array<{ where: string; words: string[]; flags: string[] }> {
  const out: Array<{ where: string; words: string[]; flags: string[] }> = [];
  for (const { file, obj, pod } of podSpecs) {
    for (const c of pod.containers) {
      const argv: string[] = c.command?.[0] === '/bin/sh'
        ? (c.args[0] as string).split(/\s+/).slice((c.args[0] as string).split(/\s+/).indexOf('/opt/omsgw/dist/cli/omsgw.js') + 1)
        : c.args;
      const words = argv.filter((a, i) => !a.startsWith('-') && (i === 0 || (!argv[i - 1].startsWith('--') || argv[i - 1].includes('=')))).slice(0, 2).filter((w) => /^[a-z]+$/.test(w));
      const flags = argv.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]);
      out.push({ where: `${file} ${obj.metadata?.name}/${c.name}`, words, flags });
    }
  }
  return out;
}

describe('the manifests only use flags the omsgw CLI has', () => {
  const invocations = omsgwInvocations();
  test('each container runs an omsgw command', () => {
    expect(invocations.map((i) => i.words[0]).sort()).toEqual(['cloud', 'gateway', 'load', 'load']);
  });
  test.each(invocations.map((i) => [i.where, i] as const))('%s', (_where, inv) => {
    const help = execFileSync(process.execPath, [cliPath(), ...inv.words, '--help'], { encoding: 'utf8' });
    const missing = inv.flags.filter((f) => !new RegExp(`(^|[\\s,])${f}([\\s,<\\[=]|$)`, 'm').test(help));
    expect(missing).toEqual([]);
  });
});

describe('Grafana dashboard (deploy/grafana)', () => {
  test('every metric it plots is exposed by a running gateway', async () => {
    const dashboard = JSON.parse(readFileSync(join(packageRoot(), 'deploy', 'grafana', 'omsgw-gateway-dashboard.json'), 'utf8'));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr));
    const used = new Set(exprs.flatMap((e) => e.match(/oms_gateway_[a-z_]+/g) ?? []));
    expect(used.size).toBeGreaterThanOrEqual(8);
    const gw = createGateway({ listenPort: 0, adminPort: 0, allowlist: ["example.test"] });
    await gw.start();
    try {
      const text = await (await fetch(`http://127.0.0.1:${gw.adminAddress!.port}/metrics`)).text();
      const exposed = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name])));
      expect([...used].filter((m) => !exposed.has(m))).toEqual([]);
    } finally {
      await gw.close();
    }
  });
});
