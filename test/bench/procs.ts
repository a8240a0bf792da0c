// Child processes of the benchmark (simulators, the router, baseline servers): start them through the
// project's CLI, wait until they answer (bounded), read their CPU time from /proc, and stop them all at the
// end, also when the benchmark fails or is interrupted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/router/cli/main.js, next to this compiled file's dist/test/bench/. */
export const CLI = fileURLToPath(new URL('../../router/cli/main.js', import.meta.url));

/** Linux reports process CPU time in USER_HZ ticks, 100 per second on every mainstream kernel. */
const TICKS_PER_SECOND = 100;
const OUTPUT_KEEP = 64 * 1024;

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The last 64 KiB of stdout and stderr, for error messages. */
  output(): string;
  exited: Promise<number | null>;
}

const live = new Set<Child>();
const tempDirs = new Set<string>();

export function spawnNode(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > OUTPUT_KEEP) out = out.slice(-OUTPUT_KEEP);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${process.execPath}`);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const child: Child = { name, proc, pid: proc.pid, output: () => out, exited };
  live.add(child);
  void exited.then(() => live.delete(child));
  return child;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wait until the child prints a line matching `pattern` (bounded), or fail with its output. */
export function waitForOutput(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${child.name}: no ${pattern} within ${timeoutMs} ms:\n${child.output()}`)), timeoutMs);
    const check = () => {
      const m = pattern.exec(child.output());
      if (m) finish(null, m);
    };
    const onExit = (code: number | null) => finish(new Error(`${child.name} exited (${code}) before ${pattern}:\n${child.output()}`));
    function finish(err: Error | null, m?: RegExpExecArray) {
      clearTimeout(timer);
      child.proc.stdout!.off('data', check);
      child.proc.stderr!.off('data', check);
      child.proc.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    }
    child.proc.stdout!.on('data', check);
    child.proc.stderr!.on('data', check);
    child.proc.once('exit', onExit);
    check();
  });
}

/** Poll `url` until it answers 200 (bounded in time and attempts). */
export async function waitForHttp(child: Child, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited (${child.proc.exitCode}):\n${child.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name}: ${url} did not answer 200 within ${timeoutMs} ms:\n${child.output()}`);
}

/** SIGTERM, then SIGKILL after graceMs. */
export async function stopChild(child: Child, graceMs = 5000): Promise<number | null> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return child.proc.exitCode;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let handlersInstalled = false;
/** Make sure no child outlives the benchmark, whatever way it ends. */
export function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.proc.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}, stopping child processes`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

// ---- simulators and the router

export interface Sim {
  child: Child;
  url: string;
  model: string;
}

/** `tiermix sim` with zero latency and generated questions; its URL is read from its startup log. */
export async function startSim(model: string, extraArgs: string[] = []): Promise<Sim> {
  const child = spawnNode(`sim ${model}`, [
    CLI, 'sim', '--model', model, '--data', 'none', '--profile', 'zero', '--time-scale', '0',
    '--host', '127.0.0.1', '--port', '0', ...extraArgs,
  ]);
  const m = await waitForOutput(child, /listening on (http:\/\/[0-9.:]+)/, 20_000);
  const url = m[1]!;
  await waitForHttp(child, `${url}/health`, 10_000);
  return { child, url, model };
}

// ---- yardstick servers: small ES modules run with `node --input-type=module -e <source> <port> [args]`

/** A fixed completion-sized answer, what a zero-latency upstream sends back. */
export const COMPLETION_JSON = JSON.stringify({ id: 'cmpl-0', object: 'text_completion', created: 0, model: 'bare', choices: [{ index: 0, text: ' We start from what the question gives', logprobs: null, finish_reason: 'length', stop_reason: null }], usage: { prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 } });

/** A node:http server answering COMPLETION_JSON (no framework): the floor the comparisons start from. */
export const BARE_SERVER = `
import http from 'node:http';
const body = ${JSON.stringify(COMPLETION_JSON)};
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString() || '{}');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 65000;
server.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
`;

export interface ScriptProc {
  child: Child;
  port: number;
  url: string;
}

/** Run `source` (which listens on process.argv[1] and prints "ready") on a free loopback port. */
export async function startScript(name: string, source: string, args: string[] = [], nodeArgs: string[] = []): Promise<ScriptProc> {
  const port = await freePort();
  const child = spawnNode(name, [...nodeArgs, '--input-type=module', '-e', source, String(port), ...args]);
  await waitForOutput(child, /ready/, 10_000);
  return { child, port, url: `http://127.0.0.1:${port}` };
}

export interface RouterProc {
  child: Child;
  url: string;
  configFile: string;
}

/** `tiermix router --config <file> --log-level warn` on a free loopback port; ready when /readyz is 200. */
export async function startRouter(configYaml: string, nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}, routerArgs: string[] = []): Promise<RouterProc> {
  const dir = tempDir('tiermix-bench-');
  const configFile = join(dir, 'router.yaml');
  writeFileSync(configFile, configYaml);
  const port = await freePort();
  const extra = (process.env.BENCH_ROUTER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawnNode('router', [...extra, ...nodeArgs, CLI, 'router', '--config', configFile, '--log-level', 'warn', '--host', '127.0.0.1', '--port', String(port), ...routerArgs], env);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${url}/readyz`, 20_000);
  return { child, url, configFile };
}

// ---- CPU accounting

/** The fields of /proc/<pid>/stat after the command name (which may contain spaces), or null when unreadable. */
function statFields(pid: number | 'self'): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

// Indexes into statFields(): parent pid, user and system time, and those of waited-for children.
const PPID = 1;
const UTIME = 11;
const STIME = 12;
const CUTIME = 13;
const CSTIME = 14;
const ticks = (f: string[], a: number, b: number) => (Number(f[a]) + Number(f[b])) / TICKS_PER_SECOND;

/** User + system CPU seconds of a process so far (from /proc/<pid>/stat), or NaN if unreadable. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return f ? ticks(f, UTIME, STIME) : Number.NaN;
}

/**
 * CPU seconds of each process together with its direct children (a `tiermix router --workers N` primary and its
 * workers), in one pass over /proc; NaN for a process that is gone.
 */
export function treeCpuSeconds(pids: readonly number[]): Map<number, number> {
  const totals = new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    const parent = f ? Number(f[PPID]) : -1;
    const total = totals.get(parent);
    if (f && total !== undefined) totals.set(parent, total + ticks(f, UTIME, STIME));
  }
  return totals;
}

/** Machine-wide busy and total CPU seconds (all cores) from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy: busy / TICKS_PER_SECOND, total: (busy + idle + iowait) / TICKS_PER_SECOND };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** Bench-process CPU seconds (user + system). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6 + reapedChildrenCpuSeconds();
}

/**
 * CPU of this process's children that have exited and been waited for (cutime + cstime of /proc/self/stat):
 * a wrk run counts for the benchmark's side once it ends. The router and simulators are still running
 * while a phase is measured, so they never count here.
 */
function reapedChildrenCpuSeconds(): number {
  const f = statFields('self');
  return f ? ticks(f, CUTIME, CSTIME) : 0;
}
