// Child processes a test starts (simulated pods, the controller, the router) must not outlive a crashed or killed test
// process. This reuses guard.ts, the control plane's dead man's switch: a small Node process connected over IPC that
// SIGTERMs (then SIGKILLs) the PIDs it was told about when the channel closes without a "done" first. An exit hook
// covers the ordinary case (the test process exits without stopping them). Always by PID, never by name.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const GUARD_PATH = fileURLToPath(new URL('./guard.js', import.meta.url));

export class ProcessGuard {
  private readonly guard: ChildProcess;
  private readonly pids = new Set<number>();
  private closed = false;
  private readonly onExit = (): void => {
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  constructor() {
    this.guard = spawn(process.execPath, [GUARD_PATH], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.guard.on('error', () => undefined);
    this.guard.unref();
    this.guard.channel?.unref();
    process.on('exit', this.onExit);
  }

  /** Stop this PID if the test process dies. */
  watch(pid: number): void {
    this.pids.add(pid);
    this.send({ watch: pid });
  }

  /** The process was reaped: never signal this PID again (it may be recycled). */
  release(pid: number): void {
    this.pids.delete(pid);
    this.send({ release: pid });
  }

  /** Every watched process has been stopped by its owner: let the guard exit. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.off('exit', this.onExit);
    this.send({ done: true });
    if (this.guard.connected) this.guard.disconnect();
  }

  private send(msg: object): void {
    try {
      if (this.guard.connected) this.guard.send(msg);
    } catch {
      // the guard is gone; the exit hook still works
    }
  }
}
