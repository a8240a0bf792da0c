// Where the real MMLU-Pro data is, for tests that need it: TIERMIX_DATA, else ../shared/data/mmlu-pro
// beside the project. Undefined when absent, so those tests skip.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('../../../../', import.meta.url)); // dist/test/unit/sim -> project

export function realDataDir(): string | undefined {
  const candidates = [process.env.TIERMIX_DATA, `${projectRoot}../shared/data/mmlu-pro`];
  return candidates.find((d): d is string => !!d && existsSync(`${d}/outcomes.jsonl.gz`));
}

export const NO_DATA = 'MMLU-Pro data not found (set TIERMIX_DATA or provide ../shared/data/mmlu-pro)';
