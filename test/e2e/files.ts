// Small file helpers for the end-to-end test: atomic writes (what a kubelet's ConfigMap projection amounts to for a
// reader that polls the file) and log tails for error messages.
import { renameSync, writeFileSync } from 'node:fs';

let counter = 0;

/** Writes `text` to a temporary file beside `path` and renames it over `path`: readers see old or new, never half. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}-${++counter}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** The last lines of a log file: the control-plane harness's helper, shared. */
export { readTail } from '../k8s/control-plane.js';
