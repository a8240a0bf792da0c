// Closed-loop load with wrk (Debian's `wrk` package, a C load generator) instead of autocannon.
//
// Why: at a few thousand requests per second autocannon, running in the benchmark's Node process, takes
// about 0.1 ms of CPU per request (0.3 cores at 3,000 req/s) from the same two cores the router and the
// simulators need; wrk needs a fraction of that, so more of the machine measures what it is meant to. The
// result has autocannon's shape (CannonSummary), with wrk's finer latency (microseconds, shown in ms).
//
// The requests cycle in order over `requests`, one Lua script per run; wrk's own `done` hook prints the
// summary as one JSON line. wrk counts any status outside 2xx/3xx in errors.status; our requests never
// get a 3xx, so non2xx = errors.status.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CannonOptions, CannonSummary } from './load.js';

/** True when a `wrk` binary runs here (`make bench` installs Debian's package when it is missing). */
export function wrkAvailable(): boolean {
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return r.error === undefined && /wrk/.test(`${r.stdout}${r.stderr}`);
}

const lua = (s: string) => JSON.stringify(s); // a JSON string literal is a valid Lua string literal for our ASCII bodies

/** The Lua script: the requests in a fixed cycle, and a JSON summary from `done`. */
export function wrkScript(requests: CannonOptions['requests']): string {
  const formatted = requests.map((r) => {
    const headers = Object.entries(r.headers ?? {}).map(([k, v]) => `[${lua(k)}]=${lua(v)}`).join(',');
    const body = r.body === undefined ? 'nil' : lua(String(r.body));
    return `wrk.format(${lua(r.method ?? 'GET')}, ${lua(r.path ?? '/')}, {${headers}}, ${body})`;
  });
  return [
    'local requests = {}',
    'init = function(args)',
    ...formatted.map((f, i) => `  requests[${i + 1}] = ${f}`),
    'end',
    'local i = 0',
    'request = function()',
    '  i = i % #requests + 1',
    '  return requests[i]',
    'end',
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'WRK_JSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' +
      '"p50":%d,"p99":%d,"mean":%f,"max":%d}\\n\', summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,' +
      ' latency:percentile(50), latency:percentile(99), latency.mean, latency.max))',
    'end',
  ].join('\n');
}

interface WrkJson {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/** Parse the summary line the script prints; throws with wrk's output when it is missing. */
export function parseWrkOutput(output: string, connections: number): CannonSummary {
  const line = output.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${output.slice(-2000)}`);
  const w = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
  const seconds = w.durationUs / 1e6;
  const ms = (us: number) => Math.round(us) / 1000;
  const errors = w.connect + w.read + w.write;
  return {
    connections,
    durationSeconds: seconds,
    reqPerSec: seconds > 0 ? w.requests / seconds : 0,
    total2xx: w.requests - w.status,
    non2xx: w.status,
    errors,
    timeouts: w.timeout,
    latencyMs: { p50: ms(w.p50), p99: ms(w.p99), mean: ms(w.mean), max: ms(w.max) },
    statusCodes: {},
  };
}

/** Closed-loop load with wrk: one thread, `connections` keep-alive connections, for `durationSeconds`. */
export function wrkLoad(opts: CannonOptions): Promise<CannonSummary> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tiermix-wrk-'));
  const script = path.join(dir, 'requests.lua');
  writeFileSync(script, wrkScript(opts.requests));
  const args = ['-t1', `-c${opts.connections}`, `-d${opts.durationSeconds}s`, `--timeout`, `${opts.timeoutSeconds ?? 10}s`, '-s', script, opts.url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => {
      rmSync(dir, { recursive: true, force: true });
      reject(err);
    });
    child.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`wrk exited with ${code}:\n${output.slice(-2000)}`));
      try {
        resolve(parseWrkOutput(output, opts.connections));
      } catch (err) {
        reject(err);
      }
    });
  });
}
