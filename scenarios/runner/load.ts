import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { InputError } from '../../lib/errors.js';
import type { LoadedScenario, ScenarioDef } from './definitions.js';
import { STEP_NAMES, scenarioSchema, stepSchemas } from './schema.js';
import { durationMs } from './duration.js';
import { referenceProblems } from './references.js';
import { DEFAULT_GATEWAY } from './gateway-names.js';

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, discriminator: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true, verbose: true }).compile(scenarioSchema);
  return compiled;
}

/** One problem in a scenario file, located for a person to fix. */
export interface ScenarioProblem {
  file: string;
  line: number;
  column: number;
  /** Where in the document, e.g. steps[3].count */
  field: string;
  message: string;
}

export class ScenarioFileError extends InputError {
  constructor(readonly problems: ScenarioProblem[]) {
    super(problems.map(formatProblem).join('\n'), { problems });
  }
}

export function formatProblem(p: ScenarioProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

function displayName(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** Reads and validates a scenario file; throws ScenarioFileError listing every problem found. */
export function loadScenarioFile(file: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read scenario file ${file}: ${(err as Error).message}`);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file: string): LoadedScenario {
  const name = displayName(file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ScenarioFileError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file: name, line: pos.line, column: pos.col, field: '', message: `YAML syntax: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const data = doc.toJS() as unknown;
  // One pass: the schema's problems, the rules it cannot say, and names referred to before they
  // exist, all at once (semantic rules read a file the schema refused only as far as they can).
  const validate = validator();
  const problems: ScenarioProblem[] = validate(data) ? [] : dedupe(validate.errors ?? [], (e) => toProblem(e, doc, lineCounter, name));
  const def = data as unknown as ScenarioDef;
  let rules: { path: (string | number)[]; message: string }[] = [];
  try {
    rules = semanticProblems(def);
  } catch {
    // a shape the schema already reported
  }
  rules.push(...referenceProblems(def));
  problems.push(...rules.map(({ path, message }) => ({ ...locate(doc, lineCounter, path), file: name, field: fieldName(path), message })));
  if (problems.length > 0) throw new ScenarioFileError(problems.sort((a, b) => a.line - b.line));
  const stepsNode = doc.get('steps', true);
  const stepLines = def.steps.map((_, i) => {
    const node = isSeq(stepsNode) ? (stepsNode.items[i] as Node | undefined) : undefined;
    return node?.range ? lineCounter.linePos(node.range[0]).line : 0;
  });
  return { def, file, stepLines };
}

/** Rules the schema cannot say: references between parts of the file. */
function semanticProblems(def: ScenarioDef): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const workspaceIds = new Set(def.workspaces.map((w) => w.id));
  // Names of gateways and balancer backends, so a step naming one that is never started is caught before running.
  const gateways = new Set(def.steps.flatMap((s) => (s.do === 'gateway.start' ? [s.name ?? DEFAULT_GATEWAY] : [])));
  const backends = new Set(def.steps.flatMap((s) => (s.do === 'balancer.start' ? s.backends : [])));
  const hasBalancer = def.steps.some((s) => s.do === 'balancer.start');
  const declared = () => [...gateways].join(', ') || 'none';
  const checkGateway = (name: string | undefined, path: (string | number)[]) => {
    if (name !== undefined && !gateways.has(name)) out.push({ path, message: `unknown gateway "${name}"; started by gateway.start: ${declared()}` });
  };
  // The schema checks the shape of the time only; a month 13 or hour 25 would start the lab clock at NaN.
  if (def.clock?.start !== undefined && !Number.isFinite(Date.parse(def.clock.start))) {
    out.push({ path: ['clock', 'start'], message: `${JSON.stringify(def.clock.start)} is not a real date and time; use e.g. 2016-03-01T09:00:00Z` });
  }
  for (const [i, step] of def.steps.entries()) {
    if (step.do === 'expect.agents') for (const k of ['queued', 'delivered', 'dropped'] as const) checkRange(step[k], ['steps', i, k], out);
    if (step.do === 'expect.counters') for (const [name, r] of Object.entries(step.counters)) checkRange(r, ['steps', i, 'counters', name], out);
    if (step.do === 'expect.ledger') (step.records ?? []).forEach((r, j) => checkRange(r.count, ['steps', i, 'records', j, 'count'], out));
  }
  def.steps.forEach((step, i) => {
    if (step.do === 'gateway.stop' || step.do === 'gateway.kill' || step.do === 'gateway.restart' || step.do === 'gateway.reload') checkGateway(step.name, ['steps', i, 'name']);
    if (step.do === 'expect.events' || step.do === 'expect.counters') checkGateway(step.gateway, ['steps', i, 'gateway']);
    if (step.do === 'balancer.start') step.backends.forEach((b, j) => checkGateway(b, ['steps', i, 'backends', j]));
    if (step.do === 'balancer.wait' && !backends.has(step.backend)) {
      out.push({ path: ['steps', i, 'backend'], message: `"${step.backend}" is not a backend of any balancer.start; backends: ${[...backends].join(', ') || 'none'}` });
    }
    if (step.do === 'agents.start' && step.via !== undefined) {
      if (step.via === 'balancer') {
        if (!hasBalancer) out.push({ path: ['steps', i, 'via'], message: 'via: balancer needs a balancer.start step' });
      } else checkGateway(step.via, ['steps', i, 'via']);
    }
    if (step.do === 'expect.ledger' && !step.createdEqualsIngested && !step.ingestedOnceOrQueued && !step.records) {
      out.push({ path: ['steps', i], message: 'expect.ledger needs createdEqualsIngested, ingestedOnceOrQueued or records' });
    }
    if (step.do === 'expect.ledger' && step.allowResentDuplicates && !step.ingestedOnceOrQueued) {
      out.push({ path: ['steps', i, 'allowResentDuplicates'], message: 'allowResentDuplicates qualifies ingestedOnceOrQueued: add ingestedOnceOrQueued: true' });
    }
    if (step.do === 'agents.start' && step.workspace && !workspaceIds.has(step.workspace)) {
      out.push({ path: ['steps', i, 'workspace'], message: `unknown workspace "${step.workspace}"; declared: ${[...workspaceIds].join(', ')}` });
    }
    if (step.do === 'expect.events' && !step.sequence && !step.absent) {
      out.push({ path: ['steps', i], message: 'expect.events needs a sequence, an absent list, or both' });
    }
    if (step.do === 'allowlist.edit-file' && !step.add && !step.remove) {
      out.push({ path: ['steps', i], message: 'allowlist.edit-file needs add, remove, or both' });
    }
    if (step.do === 'agents.wait' && step.onboarded === undefined && step.delivered === undefined && !step.attempted && !step.drained) {
      out.push({ path: ['steps', i], message: 'agents.wait needs onboarded, delivered, drained or attempted' });
    }
    if (step.do === 'clock.advance' && durationMs(step.by) <= 0) {
      out.push({ path: ['steps', i, 'by'], message: 'must be more than 0' });
    }
  });
  return out;
}

/** A range whose min is above its max can never be met: say so before running rather than fail later. */
function checkRange(range: unknown, path: (string | number)[], out: { path: (string | number)[]; message: string }[]): void {
  if (!range || typeof range !== 'object') return;
  const { min, max } = range as { min?: unknown; max?: unknown };
  if (typeof min === 'number' && typeof max === 'number' && min > max) out.push({ path, message: `min ${min} is above max ${max}` });
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function fieldName(path: (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function locate(doc: Document, lc: LineCounter, path: (string | number)[], key?: string): { line: number; column: number } {
  // Walk down as far as the document goes, so a missing field points at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth);
    const node = (sub.length === 0 ? doc.contents : doc.getIn(sub, true)) as Node | null | undefined;
    if (!node) continue;
    if (key && depth === path.length && isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      const keyNode = pair?.key as Node | undefined;
      if (keyNode?.range) {
        const pos = lc.linePos(keyNode.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    if (node.range) {
      const pos = lc.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return { line: 1, column: 1 };
}

function describeAllowed(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'enum':
      return `must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'required':
      return `missing required field "${p.missingProperty}"`;
    case 'type':
      return `must be ${p.type}`;
    case 'pattern':
      return `${e.parentSchema?.description ? `must be ${e.parentSchema.description}` : `must match ${p.pattern}`}`;
    case 'anyOf':
    case 'oneOf':
      return e.parentSchema?.description ? `must be ${e.parentSchema.description}` : (e.message ?? 'invalid value');
    default:
      return e.message ?? 'invalid value';
  }
}

function toProblem(e: ErrorObject, doc: Document, lc: LineCounter, file: string): ScenarioProblem {
  const path = pointerToPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    const key = String(p.additionalProperty);
    const allowed = Object.keys((e.parentSchema?.properties as Record<string, unknown>) ?? {});
    return { file, ...locate(doc, lc, path, key), field: fieldName([...path, key]), message: `unknown field "${key}"; allowed here: ${allowed.join(', ')}` };
  }
  if (e.keyword === 'discriminator') {
    const value = doc.getIn([...path, 'do']);
    const message =
      p.error === 'tag'
        ? `"do" must name a step: ${STEP_NAMES.join(', ')}`
        : `unknown step "${String(value)}"; allowed steps: ${STEP_NAMES.join(', ')}`;
    return { file, ...locate(doc, lc, [...path, 'do']), field: fieldName([...path, 'do']), message };
  }
  const got = doc.getIn(path);
  const shown = got === undefined || typeof got === 'object' ? '' : ` (got ${JSON.stringify(got)})`;
  return { file, ...locate(doc, lc, path), field: fieldName(path), message: `${describeAllowed(e)}${shown}` };
}

/** anyOf branches each report their own error: where a field has an anyOf summary, keep only that. */
function dedupe(errors: ErrorObject[], toP: (e: ErrorObject) => ScenarioProblem): ScenarioProblem[] {
  const summarised = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  const out: ScenarioProblem[] = [];
  for (const e of errors) {
    if (summarised.has(e.instancePath) && e.keyword !== 'anyOf') continue;
    const p = toP(e);
    const key = `${p.line}:${p.field}:${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}

export { stepSchemas };
