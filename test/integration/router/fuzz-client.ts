// Sending fuzz cases over raw node:http (exact bytes, headers, methods and paths), judging the answers,
// and running the router under test as a child process (so that its memory is its own).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FuzzCase } from './fuzz-cases.js';

const CLI = fileURLToPath(new URL('../../../router/cli/main.js', import.meta.url));

export interface Outcome {
  status: number | null;
  contentType: string;
  body: Buffer;
  /** Transport failure before any response (reset, refused, ...). */
  error: string | null;
  timedOut: boolean;
  ms: number;
}

export function sendCase(c: FuzzCase, baseUrl: string, agent: http.Agent, timeoutMs: number): Promise<Outcome> {
  const u = new URL(baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Omit<Outcome, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...o, ms: performance.now() - started });
    };
    const headers: Record<string, string | number> = { ...c.headers };
    if (c.body && !c.chunked) headers['content-length'] = c.body.length;
    let req: http.ClientRequest;
    try {
      req = http.request({ host: u.hostname, port: u.port, method: c.method, path: c.path, headers, agent });
    } catch (err) {
      // The client refused to send it (an invalid header or path): a bug in the case, reported as such.
      resolve({ status: null, contentType: '', body: Buffer.alloc(0), error: `client refused: ${(err as Error).message}`, timedOut: false, ms: 0 });
      return;
    }
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: null, contentType: '', body: Buffer.alloc(0), error: null, timedOut: true });
    }, timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      const end = () =>
        done({ status: res.statusCode ?? null, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks), error: null, timedOut: false });
      res.on('end', end);
      // A response cut short still has a status.
      res.on('error', end);
      res.on('aborted', end);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // The server may answer (413, 431) and close while the body is still being written: give the response a moment.
      setTimeout(() => done({ status: null, contentType: '', body: Buffer.alloc(0), error: err.code ?? err.message, timedOut: false }), 200);
    });
    if (!c.body) req.end();
    else if (!c.chunked) req.end(c.body);
    else {
      const third = Math.max(1, Math.floor(c.body.length / 3));
      req.write(c.body.subarray(0, third));
      setImmediate(() => {
        req.write(c.body!.subarray(third, 2 * third));
        setImmediate(() => req.end(c.body!.subarray(2 * third)));
      });
    }
  });
}

/** Run `cases` with at most `concurrency` in flight; results in case order. */
export async function runAll(cases: FuzzCase[], concurrency: number, send: (c: FuzzCase) => Promise<Outcome>): Promise<Outcome[]> {
  const results: Outcome[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      results[i] = await send(cases[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
  return results;
}

export type Problem =
  | 'no response (hang)'
  | 'no response (connection error)'
  | '5xx'
  | 'not a 4xx'
  | 'not the OpenAI error shape'
  | 'unexpected status'
  | 'param does not name the field'
  | 'valid request failed';

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Why the body is not {"error":{"message":string,"type":string,"param":string|null,"code":string|null}}, or null. */
export function shapeProblem(o: Outcome): string | null {
  if (!/application\/json/i.test(o.contentType)) return `content-type ${JSON.stringify(o.contentType)}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(o.body.toString('utf8'));
  } catch {
    return `body is not JSON: ${JSON.stringify(o.body.toString('utf8').slice(0, 80))}`;
  }
  const e = (parsed as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'no "error" object';
  if (typeof e.message !== 'string' || e.message === '') return 'error.message is not a non-empty string';
  if (typeof e.type !== 'string') return 'error.type is not a string';
  if (!(e.param === null || typeof e.param === 'string')) return `error.param is ${JSON.stringify(e.param)}`;
  if (!(e.code === null || typeof e.code === 'string')) return `error.code is ${JSON.stringify(e.code)} (${typeof e.code})`;
  return null;
}

export interface Verdict {
  problem: Problem;
  detail: string;
}

export function judge(c: FuzzCase, o: Outcome): Verdict[] {
  if (o.timedOut) return [{ problem: 'no response (hang)', detail: `no answer within the per-request timeout` }];
  if (o.status === null) return [{ problem: 'no response (connection error)', detail: o.error ?? 'unknown' }];
  const out: Verdict[] = [];
  const text = () => o.body.toString('utf8').slice(0, 240);
  if (o.status >= 500) out.push({ problem: '5xx', detail: `${o.status} ${text()}` });

  if (c.expect === 'ok') {
    if (o.status !== 200) out.push({ problem: 'valid request failed', detail: `${o.status} ${text()}` });
    else if (c.stream) {
      const body = o.body.toString('utf8');
      if (!/text\/event-stream/.test(o.contentType) || !body.includes('data: [DONE]')) out.push({ problem: 'valid request failed', detail: `not a complete SSE stream: ${o.contentType} ${body.slice(0, 160)}` });
    } else {
      let json: Record<string, unknown> | null = null;
      try {
        json = JSON.parse(o.body.toString('utf8')) as Record<string, unknown>;
      } catch {
        // judged below
      }
      const wanted = c.path.endsWith('/completions') ? Array.isArray(json?.choices) : json !== null && json.error === undefined;
      if (!wanted) out.push({ problem: 'valid request failed', detail: `200 but ${o.contentType}: ${text()}` });
    }
    return out;
  }

  if (o.status >= 400) {
    const shape = shapeProblem(o);
    if (shape) out.push({ problem: 'not the OpenAI error shape', detail: `${o.status}: ${shape}; body ${text()}` });
  }
  if (c.expect === 'any') return out;

  if (o.status < 400 || o.status >= 500) {
    if (o.status < 400) out.push({ problem: 'not a 4xx', detail: `${o.status} ${text()}` });
    return out;
  }
  if (c.status && !c.status.includes(o.status)) out.push({ problem: 'unexpected status', detail: `${o.status} instead of ${c.status.join(' or ')}: ${text()}` });
  if (c.param !== undefined && !shapeProblem(o)) {
    const param = (JSON.parse(o.body.toString('utf8')) as ErrorBody).error.param;
    if (!(param === c.param || (param !== null && param.startsWith(`${c.param}.`)))) {
      out.push({ problem: 'param does not name the field', detail: `param ${JSON.stringify(param)} instead of ${c.param}: ${text()}` });
    }
  }
  return out;
}

/** How a case looks in a report: method, path, headers that matter, and the start of the body. */
export function describeCase(c: FuzzCase): string {
  const headers = Object.entries(c.headers)
    .filter(([k]) => k !== 'content-type' || c.headers[k] !== 'application/json')
    .map(([k, v]) => `${k}: ${v.length > 60 ? `${v.slice(0, 60)}... (${v.length} chars)` : v}`);
  const body = c.body ? c.body.toString('utf8') : '';
  const shown = body.length > 160 ? `${body.slice(0, 160)}... (${c.body!.length} bytes)` : body;
  return `#${c.id} ${c.target} ${c.method} ${c.path}${headers.length ? ` [${headers.join('; ')}]` : ''}${c.chunked ? ' [chunked]' : ''} ${JSON.stringify(shown)}`;
}

// ---- the router as a child process

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

export interface RouterChild {
  url: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * A preload for the router child: a full garbage collection on SIGUSR2, so that memory readings compare
 * live data rather than however much garbage happened to be waiting for the next collection. The router
 * itself is started unchanged through its CLI.
 */
const GC_ON_SIGNAL = "process.on('SIGUSR2', () => { globalThis.gc?.(); });\n";

export async function startRouterChild(configYaml: string, env: NodeJS.ProcessEnv = {}): Promise<RouterChild> {
  const dir = mkdtempSync(join(tmpdir(), 'tiermix-fuzz-'));
  const configFile = join(dir, 'router.yaml');
  writeFileSync(configFile, configYaml);
  const preload = join(dir, 'gc-on-signal.mjs');
  writeFileSync(preload, GC_ON_SIGNAL);
  const port = await freePort();
  const args = ['--expose-gc', '--import', pathToFileURL(preload).href, CLI, 'router', '--config', configFile, '--log-level', 'warn', '--host', '127.0.0.1', '--port', String(port)];
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-256 * 1024);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (let attempt = 0; attempt < 400; attempt++) {
    if (proc.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return { url, proc, output: () => out, stop };
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`router did not become ready:\n${out}`);
}

export interface Memory {
  rssBytes: number;
  heapUsedBytes: number;
  /** VmRSS from /proc, as a cross-check of the router's own metric. */
  procRssBytes: number;
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

/** The router's memory after a full collection: the lowest of a few readings a moment apart. */
export async function readMemory(router: RouterChild, samples = 3): Promise<Memory> {
  let best: Memory = { rssBytes: Infinity, heapUsedBytes: Infinity, procRssBytes: Infinity };
  for (let i = 0; i < samples; i++) {
    router.proc.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 250));
    const text = await (await fetch(`${router.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    let procRss = Number.NaN;
    try {
      const status = readFileSync(`/proc/${router.proc.pid}/status`, 'utf8');
      procRss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
    } catch {
      // not Linux
    }
    best = {
      rssBytes: Math.min(best.rssBytes, metric(text, 'tiermix_router_process_resident_memory_bytes')),
      heapUsedBytes: Math.min(best.heapUsedBytes, metric(text, 'tiermix_router_nodejs_heap_size_used_bytes')),
      procRssBytes: Math.min(best.procRssBytes, procRss),
    };
  }
  return best;
}
