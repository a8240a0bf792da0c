// Where the demo's questions come from: --data, else TIERMIX_DATA, else ../shared/data/mmlu-pro beside the
// repository, else the generated set. Pure apart from the injected existence check, so it is testable.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OUTCOMES_FILE } from '../sim/dataset.js';

export type DataOrigin = 'flag' | 'env' | 'default' | 'none';

export interface DataChoice {
  /** The mmlu-pro folder (with outcomes.jsonl.gz), or null for generated questions. */
  dir: string | null;
  origin: DataOrigin;
  /** Why this choice, in words, for the output (e.g. an env var that pointed nowhere). */
  note: string;
}

export class DataDirError extends Error {}

const hasOutcomes = (dir: string, exists: (p: string) => boolean) => exists(join(dir, OUTCOMES_FILE));

/** The mmlu-pro folder at dir, also accepting its parent (../shared/data). */
function mmluFolder(dir: string, exists: (p: string) => boolean): string | null {
  if (hasOutcomes(dir, exists)) return resolve(dir);
  if (hasOutcomes(join(dir, 'mmlu-pro'), exists)) return resolve(dir, 'mmlu-pro');
  return null;
}

export function chooseDataDir(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  repoRoot: string,
  exists: (p: string) => boolean = existsSync,
): DataChoice {
  if (flag !== undefined) {
    if (flag === 'none') return { dir: null, origin: 'none', note: '--data none: generated questions' };
    const dir = mmluFolder(flag, exists);
    if (!dir) {
      throw new DataDirError(
        `--data ${flag}: no ${OUTCOMES_FILE} there; point it at the mmlu-pro folder (outcomes.jsonl.gz and outputs/) or pass --data none`,
      );
    }
    return { dir, origin: 'flag', note: `--data ${dir}` };
  }
  const notes: string[] = [];
  // The Makefile always exports TIERMIX_DATA, also on a clone without the data: an absent folder falls
  // through to the next choice instead of failing.
  if (env.TIERMIX_DATA) {
    const dir = mmluFolder(env.TIERMIX_DATA, exists);
    if (dir) return { dir, origin: 'env', note: `TIERMIX_DATA=${dir}` };
    notes.push(`TIERMIX_DATA=${env.TIERMIX_DATA} has no ${OUTCOMES_FILE}`);
  }
  const beside = join(repoRoot, '..', 'shared', 'data', 'mmlu-pro');
  const dir = mmluFolder(beside, exists);
  if (dir) return { dir, origin: 'default', note: [...notes, `found ${dir}`].join('; ') };
  notes.push(`no ${resolve(beside)}`);
  return { dir: null, origin: 'none', note: `${notes.join('; ')}: generated questions` };
}
