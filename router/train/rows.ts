// Offline evaluation data: JSON lines (plain or gzip) with an id and, per model, pred__<model> and
// correct__<model> (optionally conf__<model>, a real per-query confidence in [0,1]). Parsing is pure
// (parseRow); reading a file is a thin streaming wrapper so that 12k-line files stay cheap.
import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { resolveDataModel } from '../sim/dataset.js';

export interface TierOutcome {
  /** The extracted answer letter, or null when none could be extracted. */
  pred: string | null;
  /** correct__<model> (null counts as wrong). */
  correct: boolean;
  /** conf__<model>: a real verifier confidence for this answer, when the data has one. */
  conf: number | null;
}

export interface EvalRow {
  /** The id as written (question_id or id), used for seeding. */
  key: string;
  /** The id's trailing integer is divisible by 5. */
  test: boolean;
  /** One outcome per evaluated tier, smallest first. */
  tiers: TierOutcome[];
  question?: string;
  options?: string[];
  category?: string;
}

/** Input the user has to fix: the data file, or flags that do not fit it. */
export class DataError extends Error {}

/** Models in a row, from its pred__<model> columns. */
export function modelsOf(row: Record<string, unknown>): string[] {
  return Object.keys(row)
    .filter((k) => k.startsWith('pred__'))
    .map((k) => k.slice('pred__'.length));
}

/** Data model for each requested tier: exact name, else case-insensitive, else the part after the last "/". */
export function resolveTiers(available: readonly string[], requested: readonly string[]): string[] {
  return requested.map((name) => {
    const hit = available.includes(name)
      ? name
      : (available.find((m) => m.toLowerCase() === name.toLowerCase()) ?? resolveDataModel(available, name));
    if (!hit) throw new DataError(`unknown tier "${name}": the data has pred__ columns for ${available.join(', ') || 'no model'}`);
    return hit;
  });
}

/** test split iff the integer at the end of the id is divisible by 5 (only its last digit matters). */
export function splitOfId(id: unknown): { key: string; test: boolean } {
  const key = typeof id === 'number' && Number.isInteger(id) && id >= 0 ? String(id) : typeof id === 'string' ? id : '';
  const m = /(\d+)\s*$/.exec(key);
  if (!m) throw new DataError(`id ${JSON.stringify(id)} does not end in an integer`);
  const last = m[1]!.at(-1)!;
  return { key, test: last === '0' || last === '5' };
}

function correctOf(v: unknown, column: string): boolean {
  if (v === 1 || v === true) return true;
  if (v === 0 || v === false || v === null) return false;
  throw new DataError(`${column} is ${v === undefined ? 'missing' : JSON.stringify(v)}; expected 1, 0 or null`);
}

function confOf(v: unknown, column: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new DataError(`${column} is ${JSON.stringify(v)}; expected a number in [0,1]`);
  return v;
}

/** One data row for the given data models (from resolveTiers). */
export function parseRow(row: Record<string, unknown>, models: readonly string[]): EvalRow {
  const { key, test } = splitOfId(row.question_id ?? row.id);
  const tiers = models.map((m): TierOutcome => {
    const pred = row[`pred__${m}`];
    if (pred !== undefined && pred !== null && typeof pred !== 'string') throw new DataError(`pred__${m} is ${JSON.stringify(pred)}; expected a string or null`);
    return { pred: pred ?? null, correct: correctOf(row[`correct__${m}`], `correct__${m}`), conf: confOf(row[`conf__${m}`], `conf__${m}`) };
  });
  const out: EvalRow = { key, test, tiers };
  if (typeof row.question === 'string') out.question = row.question;
  if (Array.isArray(row.options) && row.options.every((o) => typeof o === 'string')) out.options = row.options as string[];
  if (typeof row.category === 'string') out.category = row.category;
  return out;
}

/** A data folder (with outcomes.jsonl.gz) or a file. */
export function dataFilePath(path: string): string {
  return statSync(path).isDirectory() ? join(path, 'outcomes.jsonl.gz') : path;
}

function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Every JSON line of a plain or gzip file (detected by its magic bytes), streaming. */
export async function forEachJsonLine(path: string, onRow: (row: Record<string, unknown>, line: number) => void): Promise<void> {
  const input = createReadStream(path);
  const lines = createInterface({ input: isGzip(path) ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new DataError(`${path}:${n}: not valid JSON`);
      }
      if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new DataError(`${path}:${n}: not a JSON object`);
      onRow(row as Record<string, unknown>, n);
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

export interface LoadedData {
  /** Data model names of the tiers, smallest first. */
  models: string[];
  rows: EvalRow[];
}

/** Read all rows for the requested tiers; errors name the file and line. */
export async function loadEvalRows(path: string, tierNames: readonly string[]): Promise<LoadedData> {
  let models: string[] | null = null;
  const rows: EvalRow[] = [];
  await forEachJsonLine(path, (raw, line) => {
    try {
      models ??= resolveTiers(modelsOf(raw), tierNames);
      rows.push(parseRow(raw, models));
    } catch (err) {
      if (err instanceof DataError && !err.message.startsWith(path)) throw new DataError(`${path}:${line}: ${err.message}`);
      throw err;
    }
  });
  if (models === null) throw new DataError(`${path}: no rows`);
  return { models, rows };
}
