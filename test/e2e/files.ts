// Small file helpers for the end-to-end test: atomic writes (what a kubelet's ConfigMap projection amounts to for a
// reader that polls the file) and log tails for error messages.
import { closeSync, existsSync, fstatSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';

let counter = 0;

/** Writes `text` to a temporary file beside `path` and renames it over `path`: readers see old or new, never half. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}-${++counter}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** The last `lines` lines of a file (at most its last 64 KiB). */
export function readTail(path: string, lines: number): string {
  if (!existsSync(path)) return '(no log file)';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const all = buf.toString('utf8').split('\n');
    if (all[all.length - 1] === '') all.pop();
    return all.slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}
