// Dead man's switch for the control-plane processes (started by control-plane.ts with an IPC channel).
//
// The test process tells it which PIDs it started ({ watch }), which ones it has reaped itself ({ release }, so a
// recycled PID is never signalled) and which run directory to remove ({ runDir }). When the IPC channel closes
// without a { done } first (the test process exited, crashed or was SIGKILLed), it stops every watched PID:
// SIGTERM, then SIGKILL after a grace period, and removes the run directory. Always by PID, never by name.
import { rmSync } from 'node:fs';
import { isAlive } from '../helpers/processes.js';

type GuardMessage = { watch: number } | { release: number } | { runDir: string } | { done: true };

const GRACE_MS = 4000;

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function main(): void {
  // Not started by control-plane.ts (e.g. picked up by a test runner's file glob): nothing to guard.
  if (!process.send) return;
  const pids = new Set<number>();
  let runDir: string | undefined;
  let done = false;
  // Ctrl-C in a terminal reaches the whole process group; stay alive to clean up after the test process.
  process.on('SIGINT', () => undefined);
  process.on('message', (raw: unknown) => {
    const msg = raw as GuardMessage;
    if ('watch' in msg) pids.add(msg.watch);
    else if ('release' in msg) pids.delete(msg.release);
    else if ('runDir' in msg) runDir = msg.runDir;
    else if ('done' in msg) done = true;
  });
  process.once('disconnect', () => {
    if (done) process.exit(0);
    for (const pid of pids) signal(pid, 'SIGTERM');
    const deadline = Date.now() + GRACE_MS;
    const tick = setInterval(() => {
      const left = [...pids].filter(isAlive);
      if (left.length > 0 && Date.now() < deadline) return;
      for (const pid of left) signal(pid, 'SIGKILL');
      clearInterval(tick);
      if (runDir) {
        try {
          rmSync(runDir, { recursive: true, force: true });
        } catch {
          // best effort
        }
      }
      process.exit(0);
    }, 100);
  });
}

main();
