// "Does the live object still say what we want?" Compares only the fields the controller sets (the desired object's
// fields) against the cached live object, so that in steady state nothing is written. Tolerates what the API server
// does to an applied object: added defaults, omitted empty values, canonical quantities ("0.5" -> "500m"), and
// items other field managers added to keyed lists (containers, env, ports, volumes are matched by name).

/** Path of the first field whose live value differs from the desired one, or undefined when all match. */
export function firstDifference(desired: unknown, live: unknown, path = ''): string | undefined {
  if (desired === undefined || desired === null) return undefined;
  if (isEmpty(desired) && (live === undefined || live === null)) return undefined;
  if (Array.isArray(desired)) return arrayDifference(desired, live, path);
  if (typeof desired === 'object') {
    if (typeof live !== 'object' || live === null || Array.isArray(live)) return path || '.';
    for (const [k, v] of Object.entries(desired)) {
      const d = firstDifference(v, (live as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (desired === live) return undefined;
  if (typeof desired === 'string' && typeof live === 'string' && sameQuantity(desired, live)) return undefined;
  return path || '.';
}

function arrayDifference(desired: unknown[], live: unknown, path: string): string | undefined {
  if (!Array.isArray(live)) return path;
  const byName = desired.length > 0 && desired.every(hasName) && live.every(hasName);
  if (byName) {
    const liveByName = new Map((live as { name: string }[]).map((item) => [item.name, item]));
    for (const item of desired as { name: string }[]) {
      const d = firstDifference(item, liveByName.get(item.name), `${path}[name=${item.name}]`);
      if (d !== undefined) return d;
    }
    // Our items must also keep their order relative to each other (args-like semantics for containers, env).
    const liveOrder = (live as { name: string }[]).map((i) => i.name).filter((n) => desired.some((d) => (d as { name: string }).name === n));
    const desiredOrder = (desired as { name: string }[]).map((i) => i.name);
    return liveOrder.join('\u0000') === desiredOrder.join('\u0000') ? undefined : path;
  }
  if (live.length !== desired.length) return path;
  for (let i = 0; i < desired.length; i++) {
    const d = firstDifference(desired[i], live[i], `${path}[${i}]`);
    if (d !== undefined) return d;
  }
  return undefined;
}

const hasName = (x: unknown): x is { name: string } =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && typeof (x as { name?: unknown }).name === 'string';

function isEmpty(v: unknown): boolean {
  if (v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object' && v !== null) return Object.values(v).every((x) => x === undefined || x === null);
  return false;
}

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** The value of a Kubernetes resource quantity ("500m", "1Gi", "2e3"), or undefined when it is not one. */
export function parseQuantity(q: string): number | undefined {
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const scale = SUFFIX[m[2] ?? ''];
  return scale === undefined ? undefined : Number(m[1]) * scale;
}

function sameQuantity(a: string, b: string): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (x === undefined || y === undefined) return false;
  return x === y || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
}
