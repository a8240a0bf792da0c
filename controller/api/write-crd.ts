// Writes the CRD YAML for the Helm chart: `node dist/controller/api/write-crd.js [file]`
// (default charts/tiermix/crds/modelcascades.tiermix.dev.yaml, relative to the repository root).
// `--check` exits 1 when the file is missing or differs (for CI and the chart's tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdYaml } from './crd.js';
import { CRD_NAME } from './types.js';

/** The repository root, from dist/controller/api/ (compiled) or controller/api/ (sources). */
export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = here.split('/').includes('dist') ? '../../..' : '../..';
  return resolve(here, up);
}

export const CRD_CHART_PATH = join('charts', 'tiermix', 'crds', `${CRD_NAME}.yaml`);

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const file = argv.find((a) => !a.startsWith('--')) ?? join(repoRoot(), CRD_CHART_PATH);
  const text = crdYaml();
  if (check) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      /* missing: differs */
    }
    if (current !== text) {
      console.error(`${file} is out of date; run: node dist/controller/api/write-crd.js`);
      return 1;
    }
    return 0;
  }
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
