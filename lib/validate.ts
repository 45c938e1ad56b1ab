import { Ajv, type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';

/**
 * One validation style: a JSON Schema checked by ajv, with messages a person can act on — the
 * field (or the flag that sets it), what is allowed, and what was given. Schemas are typed with
 * ajv's JSONSchemaType<T> so the TypeScript type and the schema cannot drift apart.
 */
export interface Problem {
  /** JSON pointer of the field, e.g. /mix/windows ('' for the whole value). */
  path: string;
  message: string;
}

export interface SchemaCheck<T> {
  /** Every problem, one per field, in the order ajv found them; [] when valid. */
  problems(data: unknown): Problem[];
  /** Returns the data typed, or throws `makeError(lines)` listing every problem. */
  assert(data: unknown): T;
}

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true, verbose: true });

export function schemaCheck<T>(
  schema: JSONSchemaType<T> | Record<string, unknown>,
  o: {
    /** How a field is called where the person typed it (a CLI flag, a JSON field); default: its path. */
    name?: (path: string) => string;
    makeError: (message: string, problems: Problem[]) => Error;
  },
): SchemaCheck<T> {
  let compiled: ValidateFunction | undefined;
  const name = o.name ?? ((p: string) => p.replace(/^\//, '').replace(/\//g, '.') || 'value');
  const problems = (data: unknown): Problem[] => {
    compiled ??= ajv.compile(schema);
    if (compiled(data)) return [];
    const seen = new Set<string>();
    const out: Problem[] = [];
    for (const e of compiled.errors ?? []) {
      if (e.keyword === 'if') continue; // its then/else branch reports the real problem
      const path = e.keyword === 'required' ? `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}` : e.instancePath;
      if (seen.has(path)) continue;
      seen.add(path);
      out.push({ path, message: `${name(path)} ${describe(e, schema)}` });
    }
    return out;
  };
  return {
    problems,
    assert(data) {
      const p = problems(data);
      if (p.length) throw o.makeError(p.map((x) => x.message).join('\n'), p);
      return data as T;
    },
  };
}

/** The property's own schema (through `properties`), merged with the branch that failed, for the range of a number. */
function propertySchema(root: Record<string, unknown>, path: string): Record<string, unknown> {
  let s: Record<string, unknown> | undefined = root;
  for (const part of path.split('/').filter(Boolean)) {
    const props = s?.properties as Record<string, Record<string, unknown>> | undefined;
    const items = s?.items as Record<string, unknown> | undefined;
    s = props?.[part] ?? items;
  }
  return s ?? {};
}

function describe(e: ErrorObject, root: object): string {
  const got = e.data === undefined ? '' : `, got ${typeof e.data === 'string' ? JSON.stringify(e.data) : JSON.stringify(e.data)}`;
  const p = { ...propertySchema(root as Record<string, unknown>, e.instancePath), ...(e.parentSchema as Record<string, unknown>) };
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'enum':
    case 'const':
      return `must be one of ${((e.keyword === 'const' ? [p.const] : p.enum) as unknown[]).map((v) => String(v)).join(', ')}${got}`;
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      return `has an unknown field "${(e.params as { additionalProperty: string }).additionalProperty}" (known: ${known.join(', ')})`;
    }
    case 'type':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      if (p.type === 'integer' || p.type === 'number') return `must be ${numberRange(p)}${got}`;
      return `must be ${p.type === 'string' ? 'text' : `a ${String(p.type)}`}${got}`;
    case 'minLength':
      return `must not be empty${got}`;
    default:
      return `${e.message ?? 'is not valid'}${got}`;
  }
}

function numberRange(p: Record<string, unknown>): string {
  const kind = p.type === 'integer' ? 'a whole number' : 'a number';
  const lo = p.exclusiveMinimum !== undefined ? `above ${p.exclusiveMinimum}` : p.minimum !== undefined ? `from ${p.minimum}` : undefined;
  const hi = p.maximum !== undefined ? `${lo ? 'to' : 'up to'} ${p.maximum}` : p.exclusiveMaximum !== undefined ? `below ${p.exclusiveMaximum}` : undefined;
  return [kind, lo, hi].filter(Boolean).join(' ');
}
