// Number formats and Markdown tables shared by the report and its analysis.
import type { BenchRun } from './report.js';

export const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
export const int = (x: number) => Math.round(x).toLocaleString('en-US');
export const pct = (x: number, d = 1) => `${f(100 * x, d)}%`;
export const signed = (x: number) => `${x >= 0 ? '+' : ''}${f(100 * x)}%`;

export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export const find = (runs: readonly BenchRun[], policy: string): BenchRun => {
  const r = runs.find((x) => x.policy === policy);
  if (!r) throw new Error(`no ${policy} run`);
  return r;
};
