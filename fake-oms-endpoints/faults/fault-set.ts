import { randomUUID } from 'node:crypto';
import { schemaCheck } from '../../lib/validate.js';
import { FAULT_KINDS, FAULT_TYPES, faultKind } from './registry.js';
import type { Fault, FaultedRequest, FaultSpec } from './kind.js';

/** What every fault has, whatever its kind; a kind's own fields are added from the registry. */
const COMMON_FIELDS: Record<string, Record<string, unknown>> = {
  id: { type: 'string', minLength: 1 },
  type: { type: 'string' },
  host: { type: 'string', minLength: 1 },
  path: { type: 'string', minLength: 1 },
  probability: { type: 'number', minimum: 0, maximum: 1 },
  count: { type: 'integer', minimum: 1 },
};

let checks: { common: ReturnType<typeof schemaCheck<FaultSpec>>; own: Map<string, ReturnType<typeof schemaCheck<FaultSpec>>> } | undefined;
function faultChecks(): NonNullable<typeof checks> {
  if (checks) return checks;
  const fail = (m: string) => new Error(m);
  const allFields = Object.assign({}, COMMON_FIELDS, ...FAULT_KINDS.map((k) => k.fields));
  const common = schemaCheck<FaultSpec>(
    { type: 'object', required: ['type'], additionalProperties: false, properties: { ...allFields, type: { enum: [...FAULT_TYPES] } } },
    { name: (p) => (p ? `fault ${p.slice(1)}` : 'fault'), makeError: fail },
  );
  const own = new Map(
    FAULT_KINDS.map((k) => [k.type, schemaCheck<FaultSpec>({ type: 'object', required: k.required ?? [], properties: k.fields }, { name: (p) => `${p.slice(1)} (${k.type} fault)`, makeError: fail })]),
  );
  checks = { common, own };
  return checks;
}

/** Throws an Error whose message says what to fix: the field, what it allows, what it got. */
export function validateFaultSpec(spec: unknown): FaultSpec {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new Error('a fault must be a JSON object with a "type"');
  const s = faultChecks().common.assert(spec);
  const kind = faultKind(s.type)!;
  // A field another fault type uses would be silently ignored here: say so instead.
  for (const field of Object.keys(s)) {
    if (field in COMMON_FIELDS && !(field === 'path' && kind.stage === 'handshake')) continue;
    if (field in kind.fields) continue;
    const users = FAULT_KINDS.filter((k) => field in k.fields || (field === 'path' && k.stage === 'request')).map((k) => k.type);
    throw new Error(`fault field "${field}" applies only to ${users.join(', ')} faults, not ${s.type}`);
  }
  return faultChecks().own.get(s.type)!.assert(s);
}

/** The faults added to the fake cloud; `fire` picks those that act now. */
export class FaultSet {
  private faults = new Map<string, Fault>();

  constructor(private readonly random: () => number = Math.random) {}

  add(spec: FaultSpec): Fault {
    return this.addAll([spec])[0]!;
  }

  /** Adds every fault or, when one is invalid or its id is taken, none of them. */
  addAll(specs: readonly unknown[]): Fault[] {
    const valid = specs.map((spec, i) => {
      try {
        return validateFaultSpec(spec);
      } catch (err) {
        throw new Error(specs.length > 1 ? `fault ${i + 1} of ${specs.length}: ${(err as Error).message}` : (err as Error).message);
      }
    });
    const ids = new Set<string>();
    for (const s of valid) {
      if (s.id === undefined) continue;
      if (this.faults.has(s.id) || ids.has(s.id)) throw new Error(`a fault with id ${s.id} already exists`);
      ids.add(s.id);
    }
    return valid.map((s) => this.insert(s));
  }

  private insert(s: FaultSpec): Fault {
    const id = s.id ?? randomUUID();
    const { id: _id, type, host, path, probability, count, ...own } = s;
    const f: Fault = { id, type, host: host ?? '*', path: path ?? '*', probability: probability ?? 1, count, remaining: count, hits: 0, ...own, ...faultKind(type)!.defaults?.(s) };
    this.faults.set(id, f);
    return { ...f };
  }

  remove(id: string): boolean {
    return this.faults.delete(id);
  }

  clear(): void {
    this.faults.clear();
  }

  list(): Fault[] {
    return [...this.faults.values()].map((f) => ({ ...f }));
  }

  /**
   * Faults of this stage that fire now for this host/path, in the registry's order, at most one per
   * type. Firing consumes a count and is recorded in `hits`.
   */
  fire(stage: 'request' | 'handshake', at: { host: string; path?: string }): Fault[] {
    const fired: Fault[] = [];
    for (const kind of FAULT_KINDS) {
      if (kind.stage !== stage) continue;
      for (const f of this.faults.values()) {
        if (f.type !== kind.type || f.remaining === 0 || !kind.matches(f, at)) continue;
        if (f.probability < 1 && this.random() >= f.probability) continue;
        f.hits += 1;
        if (f.remaining !== undefined) f.remaining -= 1;
        fired.push({ ...f });
        break;
      }
    }
    return fired;
  }
}

/**
 * Applies the request faults that fired, in order: those before the body, then (once `readBody`
 * says the body was read) those after it. 'handled' when a fault answered or dropped the request.
 */
export async function applyRequestFaults(fired: readonly Fault[], request: FaultedRequest, readBody: () => Promise<boolean>): Promise<'handled' | 'continue'> {
  for (const f of fired.filter((x) => !faultKind(x.type)!.afterBody)) {
    if ((await faultKind(f.type)!.apply(f, request)) === 'handled') return 'handled';
  }
  if (!(await readBody())) return 'handled';
  for (const f of fired.filter((x) => faultKind(x.type)!.afterBody)) {
    if ((await faultKind(f.type)!.apply(f, request)) === 'handled') return 'handled';
  }
  return 'continue';
}
