// Reading what the system shows from outside: Prometheus text from /metrics, the router configuration file's tiers,
// and a record of the timings the end-to-end test measures.
import { parse } from 'yaml';
import { parsePrometheusText, type PromSample } from '../../controller/signals/index.js';

export async function scrape(url: string): Promise<PromSample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return parsePrometheusText(await res.text());
}

/** Sum of a metric's samples whose labels include `match`. */
export function total(samples: readonly PromSample[], name: string, match: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Tier name -> endpoints, from the router configuration YAML (what the controller wrote, as the router reads it). */
export function routerEndpoints(yamlText: string | undefined, cascade: string): Map<string, string[]> {
  if (!yamlText) return new Map();
  const cfg = parse(yamlText) as { cascades?: { name: string; tiers: { name: string; endpoints?: string[] }[] }[] };
  const c = cfg.cascades?.find((x) => x.name === cascade);
  return new Map((c?.tiers ?? []).map((t) => [t.name, t.endpoints ?? []]));
}

/** Named durations, printed as a table at the end. */
export class Timings {
  readonly rows: { what: string; ms: number }[] = [];

  add(what: string, ms: number): number {
    this.rows.push({ what, ms });
    return ms;
  }

  table(): string {
    const width = Math.max(...this.rows.map((r) => r.what.length), 4);
    return this.rows.map((r) => `${r.what.padEnd(width)}  ${(r.ms / 1000).toFixed(2).padStart(7)} s`).join('\n');
  }
}
