// The tiermix commands the end-to-end test runs as local processes (`tiermix controller`, `tiermix router`): spawned
// from the built CLI, output to a log file, stopped by PID (SIGTERM, then SIGKILL), and guarded so a crashed test
// leaves nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProcessGuard } from '../k8s/process-guard.js';
import { waitFor } from '../k8s/wait.js';
import { readTail } from './files.js';

/** dist/test/e2e/ -> dist/router/cli/main.js */
export const CLI = fileURLToPath(new URL('../../router/cli/main.js', import.meta.url));

export interface LocalProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Rejects when the process exits before stop() (use as a waitFor abort). */
  readonly died: Promise<never>;
  logTail(lines?: number): string;
  /** SIGTERM, SIGKILL after graceMs; resolves with the exit code. Idempotent. */
  stop(graceMs?: number): Promise<number | null>;
}

export function startTiermix(name: string, args: string[], logPath: string, guard: ProcessGuard, env: NodeJS.ProcessEnv = process.env): LocalProcess {
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  guard.watch(pid);
  let stopping = false;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      guard.release(pid);
      resolve(code);
    }),
  );
  const died = exit.then((code) => {
    if (stopping) return new Promise<never>(() => undefined);
    throw new Error(`${name} exited with code ${code}. Last lines of ${logPath}:\n${readTail(logPath, 30)}`);
  });
  died.catch(() => undefined);
  let stopped: Promise<number | null> | undefined;
  return {
    name,
    pid,
    logPath,
    died,
    logTail: (lines = 30) => readTail(logPath, lines),
    stop(graceMs = 10_000) {
      stopped ??= (async () => {
        stopping = true;
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exit;
        clearTimeout(timer);
        return code;
      })();
      return stopped;
    },
  };
}

/** Waits until GET url answers 200, or the process dies (its log tail in the error). */
export async function waitHttpOk(proc: LocalProcess, url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${proc.name}: GET ${url} -> 200`,
    async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200,
    { timeoutMs, intervalMs: 100, abort: proc.died },
  );
}
