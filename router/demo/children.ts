// The demo's child processes (simulators and router, run through the project's own CLI): start one and
// wait for the URL it logs, keep the tail of its output for error messages, and stop them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** dist/router/cli/main.js, next to this module's dist/router/demo/. */
export const CLI_PATH = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const GUARD_URL = new URL('./child-guard.js', import.meta.url).href;
const TAIL_LINES = 30;

export interface ManagedChild {
  name: string;
  pid: number;
  url: string;
  /** Last lines of its stdout and stderr, for error messages. */
  tail(): string;
}

interface Entry {
  name: string;
  proc: ChildProcess;
  lines: string[];
  exited: Promise<void>;
  expectExit: boolean;
}

export class ChildProcesses {
  private readonly entries: Entry[] = [];

  /** Called when a child exits while the demo still needs it (not during stopAll). */
  onUnexpectedExit: (name: string, detail: string) => void = () => {};

  /** Start `tiermix <args>` and resolve with the first URL matching `urlPattern` in its output. */
  start(name: string, args: readonly string[], urlPattern: RegExp, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<ManagedChild> {
    const proc = spawn(process.execPath, ['--import', GUARD_URL, CLI_PATH, ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      ...(env ? { env } : {}),
      // Own process group: Ctrl-C reaches only the demo, which then stops the children in order.
      detached: true,
    });
    let resolveExit!: () => void;
    const entry: Entry = { name, proc, lines: [], exited: new Promise<void>((r) => (resolveExit = r)), expectExit: false };
    this.entries.push(entry);
    const tail = () => entry.lines.join('\n');
    return new Promise<ManagedChild>((resolve, reject) => {
      let url: string | null = null;
      let partial = '';
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs / 1000} s; its last output:\n${indent(tail())}`)), timeoutMs);
      // Both streams are always read, also after start-up: a full pipe would block the child.
      const onData = (chunk: Buffer) => {
        const parts = (partial + chunk.toString()).split('\n');
        partial = parts.pop() ?? '';
        for (const l of parts) {
          entry.lines.push(l);
          if (entry.lines.length > TAIL_LINES) entry.lines.shift();
          const m = url === null ? urlPattern.exec(l) : null;
          if (m) {
            url = m[1]!;
            clearTimeout(timer);
            resolve({ name, pid: proc.pid!, url, tail });
          }
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`${name}: could not start ${process.execPath}: ${err.message}`));
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolveExit();
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        if (partial) entry.lines.push(partial);
        const detail = `${name} ${how}; its last output:\n${indent(tail())}`;
        if (url === null) reject(new Error(detail));
        else if (!entry.expectExit) this.onUnexpectedExit(name, detail);
      });
    });
  }

  get pids(): { name: string; pid: number }[] {
    return this.entries.filter((e) => e.proc.pid !== undefined).map((e) => ({ name: e.name, pid: e.proc.pid! }));
  }

  /** SIGTERM every child (they shut down gracefully), SIGKILL those still running after graceMs. */
  async stopAll(graceMs = 5000): Promise<void> {
    const running = this.entries.filter((e) => e.proc.exitCode === null && e.proc.signalCode === null);
    for (const e of this.entries) e.expectExit = true;
    for (const e of running) e.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.killAllNow(), graceMs);
    await Promise.all(running.map((e) => e.exited));
    clearTimeout(timer);
  }

  /** Last resort, synchronous (usable in a process 'exit' handler). */
  killAllNow(): void {
    for (const e of this.entries) {
      e.expectExit = true;
      if (e.proc.exitCode === null && e.proc.signalCode === null) e.proc.kill('SIGKILL');
    }
  }
}

export const indent = (text: string) => (text.trim() === '' ? '    (no output)' : text.split('\n').map((l) => `    ${l}`).join('\n'));

/** Poll url until it answers 200, or fail after timeoutMs with the child's output in the message. */
export async function waitForOk(url: string, child: ManagedChild, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} (${child.url}) not ready: ${url} gave ${last} for ${timeoutMs / 1000} s; its last output:\n${indent(child.tail())}`);
}
