import { InputError } from '../../lib/errors.js';
import type { LedgerEntry } from '../../fake-oms-endpoints/ledger.js';
import { LAB_SERVICE } from '../../fake-oms-endpoints/admin-api.js';

/** What `GET /_lab/info` of an omsgw cloud says about itself (the parts a shard uses). */
export interface LabInfo {
  service: string;
  port: number;
  workspaces: string[];
  hostMapEntries: string[];
}

/** A running `omsgw cloud` reached through its lab API (--cloud / --publish / load merge --from). */
export interface RemoteLab {
  url: string;
  info: LabInfo;
}

const TIMEOUT_MS = 15_000;

function labUrl(text: string, flag: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new InputError(`${flag} must be the lab API URL of an omsgw cloud, like http://127.0.0.1:9444, got "${text}"`);
  }
  if (u.protocol !== 'http:') throw new InputError(`${flag} must be an http:// URL (the cloud's plain-HTTP lab API, its --admin-port), got "${text}"`);
  return u.origin;
}

async function get(url: string, flag: string, what: string): Promise<Response> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new InputError(`${flag}: cannot ${what} at ${url} (${cause}); give the lab API URL (--admin-port) of a running omsgw cloud`);
  }
}

/** Checks that `text` is an omsgw cloud's lab API (exit 2 naming the flag when it is not). */
export async function openLab(text: string, flag: string): Promise<RemoteLab> {
  const url = labUrl(text, flag);
  const res = await get(`${url}/_lab/info`, flag, 'read GET /_lab/info');
  const body = (await res.json().catch(() => undefined)) as Partial<LabInfo> | undefined;
  if (!res.ok || !body || body.service !== LAB_SERVICE || !Array.isArray(body.workspaces)) {
    throw new InputError(`${flag} ${url} is not an omsgw cloud's lab API (GET /_lab/info answered ${res.status}${body ? ' without service "omsgw-cloud"' : ', not JSON'}); give the URL of omsgw cloud --admin-port`);
  }
  return { url, info: body as LabInfo };
}

export async function labCaPem(lab: RemoteLab, flag: string): Promise<string> {
  const res = await get(`${lab.url}/_lab/ca.pem`, flag, 'read GET /_lab/ca.pem');
  const text = await res.text();
  if (!res.ok || !text.includes('BEGIN CERTIFICATE')) throw new InputError(`${flag} ${lab.url}: GET /_lab/ca.pem answered ${res.status} without a certificate; is it an omsgw cloud of this version?`);
  return text;
}

/** The cloud's ledger for one workspace (every shard's agents; callers pick their own). */
export async function labLedger(lab: RemoteLab, workspaceId: string): Promise<LedgerEntry[]> {
  const res = await fetch(`${lab.url}/_lab/ingested?workspace=${encodeURIComponent(workspaceId)}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET ${lab.url}/_lab/ingested answered ${res.status}`);
  return ((await res.json()) as { entries: LedgerEntry[] }).entries;
}

export async function publishResult(lab: RemoteLab, runId: string, shard: number, result: unknown): Promise<void> {
  const url = `${lab.url}/_lab/load-results/${encodeURIComponent(runId)}/${shard}`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(result), signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${(await res.text()).trim()}`);
}

export async function fetchResults(lab: RemoteLab, runId: string): Promise<Array<{ shard: number; result: unknown }>> {
  const res = await get(`${lab.url}/_lab/load-results/${encodeURIComponent(runId)}`, '--from', 'list the load results');
  if (!res.ok) throw new InputError(`--from ${lab.url}: GET /_lab/load-results/${runId} answered ${res.status}`);
  return ((await res.json()) as { results: Array<{ shard: number; result: unknown }> }).results;
}
