// A small checker for the subset of OpenAPI v3 the CRD uses (type, properties, items, required, enum, pattern,
// minimum/maximum with exclusiveMinimum, min/max length and items, oneOf of required-sets), plus defaulting as the
// API server does it. For unit tests: the real API server is the final judge (the Kubernetes runtime's integration
// tests install the CRD there).
export type Schema = { [key: string]: unknown };

const props = (s: Schema) => (s.properties ?? {}) as Record<string, Schema>;

export function checkSchema(value: unknown, schema: Schema, path = ''): string[] {
  const errors: string[] = [];
  const at = path || '(root)';
  const type = schema.type as string | undefined;
  if (value === undefined) return errors;
  const typeOk =
    type === undefined ||
    (type === 'object' && value !== null && typeof value === 'object' && !Array.isArray(value)) ||
    (type === 'array' && Array.isArray(value)) ||
    (type === 'string' && typeof value === 'string') ||
    (type === 'integer' && Number.isInteger(value)) ||
    (type === 'number' && typeof value === 'number') ||
    (type === 'boolean' && typeof value === 'boolean');
  if (!typeOk) return [`${at}: expected ${type}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${at}: not one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) errors.push(`${at}: does not match ${schema.pattern}`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) errors.push(`${at}: below minimum`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${at}: above maximum`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errors.push(`${at}: more than ${schema.maxItems} items`);
    value.forEach((v, i) => errors.push(...checkSchema(v, schema.items as Schema, `${path}[${i}]`)));
  } else if (type === 'object' && value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of (schema.required as string[] | undefined) ?? []) if (obj[r] === undefined) errors.push(`${at}: ${r} is required`);
    if (Array.isArray(schema.oneOf)) {
      const matching = (schema.oneOf as Schema[]).filter((alt) => ((alt.required as string[]) ?? []).every((r) => obj[r] !== undefined)).length;
      if (matching !== 1) errors.push(`${at}: must match exactly one of oneOf (matched ${matching})`);
    }
    for (const [k, v] of Object.entries(obj)) {
      const sub = props(schema)[k];
      if (sub) errors.push(...checkSchema(v, sub, path ? `${path}.${k}` : k));
      else if (schema.properties && !schema['x-kubernetes-preserve-unknown-fields']) errors.push(`${path ? `${path}.${k}` : k}: unknown field (the API server would prune it)`);
    }
  }
  return errors;
}

/** Apply `default`s as the API server does: a missing field with a default gets it, then recurse. */
export function applyDefaults(value: unknown, schema: Schema): unknown {
  if (Array.isArray(value)) return value.map((v) => applyDefaults(v, schema.items as Schema));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [k, sub] of Object.entries(props(schema))) {
    if (out[k] === undefined && sub.default !== undefined) out[k] = structuredClone(sub.default);
    if (out[k] !== undefined) out[k] = applyDefaults(out[k], sub);
  }
  return out;
}

/** Every property path of a schema (arrays as []), e.g. spec.tiers[].vllm.args; opaque nodes end the walk. */
export function schemaPaths(schema: Schema, path = ''): string[] {
  if (schema.type === 'array') return schemaPaths(schema.items as Schema, `${path}[]`);
  const out: string[] = [];
  for (const [k, sub] of Object.entries(props(schema))) {
    const p = path ? `${path}.${k}` : k;
    out.push(p, ...schemaPaths(sub, p));
  }
  return out;
}

/** Every key path of a value, in the same notation (all array items merged). */
export function valuePaths(value: unknown, path = '', stopAt: readonly string[] = []): string[] {
  if (stopAt.includes(path)) return [];
  if (Array.isArray(value)) return [...new Set(value.flatMap((v) => valuePaths(v, `${path}[]`, stopAt)))];
  if (value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    out.push(p, ...valuePaths(v, p, stopAt));
  }
  return out;
}
