// Prompts for the client load: MMLU-Pro test-split questions when the data is there (TIERMIX_DATA, the same folder
// the simulated pods read, so they recognise them), otherwise the simulator's generated questions (seed 1, its
// default), in the MMLU-Pro prompt format.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatMmluPrompt, generatedQuestions, loadMmluPro, OUTCOMES_FILE } from '../../router/sim/dataset.js';

/** The MMLU-Pro folder from TIERMIX_DATA, or null when it is not there. */
export function dataDir(): string | null {
  const dir = process.env.TIERMIX_DATA;
  return dir && existsSync(join(dir, OUTCOMES_FILE)) ? dir : null;
}

export async function prompts(n: number, dir: string | null): Promise<string[]> {
  const questions = dir ? await loadMmluPro(dir, { split: 'test', limit: n, models: [] }) : generatedQuestions(n, 1);
  return questions.map(formatMmluPrompt);
}
