// The local runtime's thin process adapter: start a replica on a free port, watch its /health, stop it by PID
// (its own process group, so vLLM's worker processes go with it), and remember exits for a crash-loop back-off.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { RunningProcess } from './observe.js';
import { PORT_PLACEHOLDER, type ProcessGroup } from './process-plan.js';

export interface ProcessRunnerOptions {
  /** Write each process's stdout and stderr to <logDir>/<id>.log; default: discarded. */
  logDir?: string;
  /** /health polling period. Default 500 ms. */
  healthIntervalMs?: number;
  /** SIGTERM, then SIGKILL after this long. Default 5000 ms. */
  stopGraceMs?: number;
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

/** Output kept in memory per process, to explain a crash. */
const TAIL_CHARS = 2000;

interface Entry extends RunningProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal); // the process group we created with detached: true
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export class ProcessRunner {
  private readonly entries = new Map<string, Entry>();
  private readonly exits = new Map<string, number[]>();
  private readonly crashes = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private seq = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly exitHook = () => {
    for (const e of this.entries.values()) signalGroup(e.child.pid, 'SIGKILL');
  };

  constructor(private readonly opts: ProcessRunnerOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => void this.checkHealth(), opts.healthIntervalMs ?? 500);
    this.timer.unref();
    process.once('exit', this.exitHook);
  }

  /** Called after readiness changes and exits. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): RunningProcess[] {
    return [...this.entries.values()].map(({ child: _c, exited: _e, ...p }) => ({ ...p }));
  }

  pid(id: string): number | undefined {
    return this.entries.get(id)?.child.pid;
  }

  /** No starts of a group before this time: 1 s after an unexpected exit, doubling per recent exit, at most 30 s. */
  holdUntil(): Record<string, number> {
    const out: Record<string, number> = {};
    const now = this.now();
    for (const [group, times] of this.exits) {
      const recent = times.filter((t) => now - t < 300_000);
      if (recent.length > 0) out[group] = recent[recent.length - 1]! + Math.min(30_000, 1000 * 2 ** (recent.length - 1));
    }
    return out;
  }

  async start(group: ProcessGroup): Promise<RunningProcess> {
    const port = await freePort();
    const id = `${group.key.split('/')[1]}-${++this.seq}`;
    const args = group.launch.args.map((a) => (a === PORT_PLACEHOLDER ? String(port) : a));
    let log: WriteStream | undefined;
    if (this.opts.logDir) {
      mkdirSync(this.opts.logDir, { recursive: true });
      log = createWriteStream(join(this.opts.logDir, `${id}.log`), { flags: 'a' });
    }
    const child = spawn(group.launch.command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: this.opts.env ?? process.env });
    // Output goes to the log file (if any); its tail explains an unexpected exit in the status.
    let tail = '';
    const take = (chunk: Buffer) => {
      log?.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    let how = '';
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        how = signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolve();
      });
      child.once('error', (err) => {
        how = `could not start: ${err.message}`;
        resolve();
      });
    });
    const entry: Entry = { id, group: group.key, hash: group.hash, port, ready: false, startedAtMs: this.now(), child, exited };
    this.entries.set(id, entry);
    void exited.then(() => {
      log?.end();
      if (this.entries.get(id) !== entry) return;
      this.entries.delete(id);
      if (!entry.stopping) {
        const now = this.now();
        this.exits.set(group.key, [...(this.exits.get(group.key) ?? []), now].slice(-10));
        const last = tail.trim().split('\n').filter((l) => l.trim()).slice(-2).join(' / ').slice(-400);
        this.crashes.set(group.key, `${id} ${how}${last ? `: ${last}` : ''}`);
      }
      this.emit();
    });
    return { ...entry };
  }

  /** Groups in crash-loop back-off now, with what the last crash said (for the status, as CrashLoopBackOff). */
  crashLooping(): Record<string, string> {
    const now = this.now();
    const out: Record<string, string> = {};
    for (const [group, until] of Object.entries(this.holdUntil())) {
      const why = this.crashes.get(group);
      if (until > now && why) out[group] = why;
    }
    return out;
  }

  async stop(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (!e) return;
    e.stopping = true;
    e.stoppingSinceMs = this.now();
    e.ready = false;
    signalGroup(e.child.pid, 'SIGTERM');
    const kill = setTimeout(() => signalGroup(e.child.pid, 'SIGKILL'), this.opts.stopGraceMs ?? 5000);
    await e.exited;
    clearTimeout(kill);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.entries.keys()].map((id) => this.stop(id)));
    process.removeListener('exit', this.exitHook);
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  private async checkHealth(): Promise<void> {
    let changed = false;
    await Promise.all(
      [...this.entries.values()].map(async (e) => {
        if (e.stopping) return;
        let ok = false;
        try {
          const res = await fetch(`http://127.0.0.1:${e.port}/health`, { signal: AbortSignal.timeout(1000) });
          ok = res.status === 200;
          await res.body?.cancel();
        } catch {
          ok = false;
        }
        if (ok !== e.ready && !e.stopping && this.entries.get(e.id) === e) {
          e.ready = ok;
          e.readyChangedAtMs = this.now();
          changed = true;
        }
      }),
    );
    if (changed) this.emit();
  }
}
