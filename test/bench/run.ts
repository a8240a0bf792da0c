// `make bench`: the router's pass-through overhead and routed throughput against zero-latency simulators.
// Simulators and the router run as separate child processes through the project's CLI; the load comes
// from this process. Everything is on loopback; every phase is bounded in time; every child is stopped at
// the end, also on errors. Results go to docs/benchmarks/router-YYYY-MM-DD.{md,json} and to stdout.
//
//   node dist/test/bench/run.js [--quick] [--no-profile] [--no-context] [--wait-quiet <s>] [--out <dir>]
//
// BENCH_ROUTER_NODE_ARGS (space separated) adds node flags to the router process, for experiments such as
// BENCH_ROUTER_NODE_ARGS=--max-semi-space-size=64.
//
// `node --test dist/test/` (make test) also loads this file, since it sits under a test/ folder; under
// the test runner it does nothing.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildVerificationPrompt, VERIFY_STOP } from '../../router/verify/prompt.js';
import { summarizeProfile, type ProfileSummary } from './cpuprofile.js';
import { cannon, pacedLoad, summarize, type CannonOptions, type CannonSummary, type LatencySummary, type PacedResult } from './load.js';
import { wrkAvailable, wrkLoad } from './wrk.js';
import { describeMachine, machineInfo, type MachineInfo } from './machine.js';
import {
  BARE_SERVER, CLI, cpuSeconds, installExitHandlers, treeCpuSeconds, machineCpuSeconds, selfCpuSeconds, startRouter, startScript, startSim,
  stopAll, stopChild, tempDir, type RouterProc, type Sim,
} from './procs.js';
import { renderMarkdown } from './report.js';
import { runPinnedDecisionBench } from './decision-latency.js';

export const TARGETS = { p50OverheadMs: 1, p99OverheadMs: 5, routedReqPerSec: 3000, rate: 500 } as const;

interface Settings {
  quick: boolean;
  /** Measure the simulator alone and the bare node:http yardsticks (default on). */
  context: boolean;
  /** Longest wait for the machine to be idle before starting (s). */
  waitQuietSeconds: number;
  profile: boolean;
  outDir: string;
  /** Fixed-rate measurement per segment (s). */
  passSeconds: number;
  passWarmupSeconds: number;
  rounds: number;
  /** Closed-loop runs (s). */
  cannonSeconds: number;
  contextSeconds: number;
  connections: number[];
  /** Closed-loop load generator: wrk (C, light on CPU) when installed, else autocannon (in this process). */
  loadGenerator: 'wrk' | 'autocannon';
  /** Part B runs once per router worker count (tiermix router --workers). */
  routerWorkers: number[];
}

function parseArgs(argv: string[]): Settings {
  const quick = argv.includes('--quick');
  const outAt = argv.indexOf('--out');
  const outDir = outAt >= 0 && argv[outAt + 1] ? argv[outAt + 1]! : fileURLToPath(new URL('../../../docs/benchmarks/', import.meta.url));
  const waitAt = argv.indexOf('--wait-quiet');
  return {
    quick,
    context: !argv.includes('--no-context'),
    waitQuietSeconds: waitAt >= 0 ? Number(argv[waitAt + 1] ?? 0) : quick ? 0 : 120,
    profile: !argv.includes('--no-profile'),
    outDir,
    passSeconds: quick ? 4 : 12,
    passWarmupSeconds: quick ? 1 : 2,
    rounds: 2,
    cannonSeconds: quick ? 4 : 10,
    contextSeconds: quick ? 3 : 6,
    connections: [16, 64, 128],
    loadGenerator: loadGeneratorArg(argv),
    routerWorkers: routerWorkersArg(argv),
  };
}

function routerWorkersArg(argv: string[]): number[] {
  const at = argv.indexOf('--router-workers');
  if (at < 0) return [1, 2];
  const list = (argv[at + 1] ?? '').split(',').map(Number);
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
    throw new Error(`--router-workers takes worker counts from 1 to 64 separated by commas (e.g. 1,2), not ${argv[at + 1] ?? 'nothing'}`);
  }
  return list;
}

function loadGeneratorArg(argv: string[]): Settings['loadGenerator'] {
  const at = argv.indexOf('--load-generator');
  const asked = at >= 0 ? argv[at + 1] : undefined;
  if (asked !== undefined && asked !== 'wrk' && asked !== 'autocannon') {
    throw new Error(`--load-generator must be wrk or autocannon, not ${asked}`);
  }
  if (asked === 'wrk' && !wrkAvailable()) throw new Error('--load-generator wrk: no wrk binary here (apt-get install wrk)');
  return asked ?? (wrkAvailable() ? 'wrk' : 'autocannon');
}

/** The closed-loop load of the settings' generator. */
const closedLoop = (s: Settings, opts: CannonOptions): Promise<CannonSummary> => (s.loadGenerator === 'wrk' ? wrkLoad(opts) : cannon(opts));

// ---- CPU accounting around a phase

interface CpuSnap {
  at: number;
  pids: Record<string, number>;
  bench: number;
  machine: { busy: number; total: number };
}

export interface CpuUse {
  wallSeconds: number;
  /** CPU seconds per wall second (1 = one core busy), per process role. */
  cores: Record<string, number>;
  bench: number;
  machineBusy: number;
  /** Busy cores not accounted to our processes: other tenants, kernel softirq work. */
  other: number;
}

/** CPU seconds per role; a router with --workers is a primary and its workers, whose CPU counts together. */
function treeCpuOf(procs: Record<string, number>): Record<string, number> {
  const totals = treeCpuSeconds(Object.values(procs));
  return Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, totals.get(pid)!]));
}

function snap(procs: Record<string, number>): CpuSnap {
  return {
    at: performance.now(),
    pids: treeCpuOf(procs),
    bench: selfCpuSeconds(),
    machine: machineCpuSeconds(),
  };
}

function cpuUse(a: CpuSnap, b: CpuSnap): CpuUse {
  const wall = (b.at - a.at) / 1000;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const cores = Object.fromEntries(Object.keys(a.pids).map((k) => [k, r2((b.pids[k]! - a.pids[k]!) / wall)]));
  const bench = r2((b.bench - a.bench) / wall);
  const machineBusy = r2((b.machine.busy - a.machine.busy) / wall);
  const ours = Object.values(cores).reduce((s, x) => s + x, 0) + bench;
  return { wallSeconds: r2(wall), cores, bench, machineBusy, other: r2(Math.max(0, machineBusy - ours)) };
}

async function measured<T>(procs: Record<string, number>, run: () => Promise<T>): Promise<{ result: T; cpu: CpuUse; cpuSeconds: Record<string, number> }> {
  const a = snap(procs);
  const result = await run();
  const b = snap(procs);
  const cpu = cpuUse(a, b);
  const cpuSecondsUsed = Object.fromEntries(Object.keys(a.pids).map((k) => [k, b.pids[k]! - a.pids[k]!]));
  return { result, cpu, cpuSeconds: cpuSecondsUsed };
}

// ---- router metrics

async function metricsText(router: RouterProc): Promise<string> {
  const res = await fetch(`${router.url}/metrics`, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

export function metricSum(text: string, name: string, filter: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!rest.startsWith('{') && !rest.startsWith(' ')) continue;
    if (!Object.entries(filter).every(([k, v]) => rest.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Garbage collection and event-loop delay of the router over a window, from prom-client's default metrics. */
export interface RuntimeStats {
  gcCount: number;
  gcMs: number;
  /** Collections and pause time by kind (minor = scavenge, major = mark-compact, ...). */
  gcByKind: Record<string, { count: number; ms: number }>;
  /** Event-loop delay beyond prom-client's 10 ms sampling timer, p99 and max over the window (ms). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

function runtimeStats(before: string, after: string): RuntimeStats {
  const kinds = ['minor', 'major', 'incremental', 'weakcb'];
  const gcByKind: Record<string, { count: number; ms: number }> = {};
  for (const kind of kinds) {
    const count = metricSum(after, 'tiermix_router_nodejs_gc_duration_seconds_count', { kind }) - metricSum(before, 'tiermix_router_nodejs_gc_duration_seconds_count', { kind });
    const ms = 1000 * (metricSum(after, 'tiermix_router_nodejs_gc_duration_seconds_sum', { kind }) - metricSum(before, 'tiermix_router_nodejs_gc_duration_seconds_sum', { kind }));
    if (count > 0) gcByKind[kind] = { count, ms: Math.round(ms * 10) / 10 };
  }
  // prom-client resets its event-loop histogram at every scrape, so `after` covers the window; it samples
  // with a 10 ms timer, which is subtracted.
  const lag = (name: string) => Math.max(0, 1000 * metricSum(after, name) - 10);
  return {
    gcCount: Object.values(gcByKind).reduce((n, k) => n + k.count, 0),
    gcMs: Math.round(Object.values(gcByKind).reduce((n, k) => n + k.ms, 0) * 10) / 10,
    gcByKind,
    loopDelayP99Ms: Math.round(lag('tiermix_router_nodejs_eventloop_lag_p99_seconds') * 100) / 100,
    loopDelayMaxMs: Math.round(lag('tiermix_router_nodejs_eventloop_lag_max_seconds') * 100) / 100,
  };
}

// ---- bodies

const ANSWER_PROMPT = 'Name one use of a suspension bridge.';
const ROUTED_PROMPTS = [
  'Name one use of a suspension bridge.',
  'What is the boiling point of water at sea level in Celsius?',
  'Which planet is known as the red planet?',
  'Explain in one sentence what a hash table is.',
  'What is 17 times 3?',
  'Who wrote the play Hamlet?',
  'What gas do plants take in for photosynthesis?',
  'Give the capital of Australia.',
];

const passBody = (model: string) => JSON.stringify({ model, prompt: ANSWER_PROMPT, max_tokens: 8 });

// ---- phases

export interface PassSegment {
  round: number;
  target: 'direct' | 'router';
  result: Omit<PacedResult, 'raw'>;
  cpu: CpuUse;
  /** CPU milliseconds the router (or the simulator) spent per request in this segment. */
  routerCpuMsPerRequest: number | null;
  simCpuMsPerRequest: number;
  /** Router GC and event-loop delay during a router segment. */
  router: RuntimeStats | null;
  /** Share of requests slower than 5 ms (ms from the scheduled send). */
  over5ms: number;
}

export interface PassThroughReport {
  rate: number;
  segmentSeconds: number;
  warmupSeconds: number;
  body: string;
  segments: PassSegment[];
  direct: LatencySummary;
  router: LatencySummary;
  overheadP50Ms: number;
  overheadP99Ms: number;
  overheadMeanMs: number;
  ratioP50: number;
  ratioP99: number;
  perRound: { round: number; overheadP50Ms: number; overheadP99Ms: number }[];
  pass: { p50: boolean; p99: boolean };
  failures: number;
}

async function passThrough(s: Settings, sim: Sim, router: RouterProc, procs: Record<string, number>): Promise<PassThroughReport> {
  const body = passBody(sim.model);
  const urls = { direct: `${sim.url}/v1/completions`, router: `${router.url}/v1/completions` };
  const segments: PassSegment[] = [];
  const pooled: Record<'direct' | 'router', Float64Array[]> = { direct: [], router: [] };
  for (let round = 1; round <= s.rounds; round++) {
    for (const target of ['direct', 'router'] as const) {
      process.stdout.write(`  round ${round}, ${target}: ${TARGETS.rate} req/s for ${s.passSeconds} s ... `);
      const before = target === 'router' ? await metricsText(router) : '';
      const m = await measured(procs, () =>
        pacedLoad({ url: urls[target], body, rate: TARGETS.rate, warmupMs: s.passWarmupSeconds * 1000, durationMs: s.passSeconds * 1000 }),
      );
      const after = target === 'router' ? await metricsText(router) : '';
      const { raw, ...result } = m.result;
      pooled[target].push(raw);
      const requests = result.ok + result.non2xx;
      if (!/"choices"/.test(result.sample)) throw new Error(`${target}: unexpected response ${result.sample.slice(0, 300)}`);
      segments.push({
        round,
        target,
        result,
        cpu: m.cpu,
        routerCpuMsPerRequest: target === 'router' ? (1000 * m.cpuSeconds.router!) / requests : null,
        simCpuMsPerRequest: (1000 * m.cpuSeconds[`sim ${sim.model}`]!) / requests,
        router: target === 'router' ? runtimeStats(before, after) : null,
        over5ms: raw.filter((x) => x > 5).length / Math.max(1, raw.length),
      });
      console.log(`p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms, ${result.ok} ok, ${result.non2xx + result.errors + result.timeouts} failed`);
    }
  }
  const concat = (arrs: Float64Array[]) => {
    const out = new Float64Array(arrs.reduce((n, a) => n + a.length, 0));
    let o = 0;
    for (const a of arrs) {
      out.set(a, o);
      o += a.length;
    }
    return out;
  };
  const direct = summarize(concat(pooled.direct));
  const routerL = summarize(concat(pooled.router));
  const perRound = Array.from({ length: s.rounds }, (_, i) => {
    const d = segments.find((x) => x.round === i + 1 && x.target === 'direct')!.result.latency;
    const r = segments.find((x) => x.round === i + 1 && x.target === 'router')!.result.latency;
    return { round: i + 1, overheadP50Ms: r.p50 - d.p50, overheadP99Ms: r.p99 - d.p99 };
  });
  const overheadP50Ms = routerL.p50 - direct.p50;
  const overheadP99Ms = routerL.p99 - direct.p99;
  return {
    rate: TARGETS.rate,
    segmentSeconds: s.passSeconds,
    warmupSeconds: s.passWarmupSeconds,
    body,
    segments,
    direct,
    router: routerL,
    overheadP50Ms,
    overheadP99Ms,
    overheadMeanMs: routerL.mean - direct.mean,
    ratioP50: routerL.p50 / direct.p50,
    ratioP99: routerL.p99 / direct.p99,
    perRound,
    pass: { p50: overheadP50Ms <= TARGETS.p50OverheadMs, p99: overheadP99Ms <= TARGETS.p99OverheadMs },
    failures: segments.reduce((n, x) => n + x.result.non2xx + x.result.errors + x.result.timeouts, 0),
  };
}

export interface RoutedRun {
  load: CannonSummary;
  cpu: CpuUse;
  routedRequests: number;
  upstreamCalls: number;
  upstreamByPurpose: Record<string, number>;
  upstreamPerRequest: number;
  escalations: number;
  escalationsPerRequest: number;
  outcomes: Record<string, number>;
  /** Router processes (tiermix router --workers); the router's CPU is theirs together. */
  workers: number;
  routerCpuMsPerRequest: number;
  simCpuMsPerRequest: number;
  runtime: RuntimeStats;
}

export interface RoutedReport {
  cascade: string;
  runs: RoutedRun[];
  best: number;
  bestConnections: number;
  bestWorkers: number;
  pass: boolean;
}

/** Part B once per router worker count, each with a router of its own; the best clean row over all of them. */
async function routedThroughputByWorkers(s: Settings, configYaml: string, cascade: string, sims: Record<string, number>): Promise<RoutedReport> {
  const runs: RoutedRun[] = [];
  for (const workers of s.routerWorkers) {
    console.log(`  router with ${workers} worker${workers > 1 ? 's' : ''}:`);
    const router = await startRouter(configYaml, [], {}, ['--workers', String(workers)]);
    try {
      runs.push(...(await routedThroughput(s, router, cascade, { router: router.child.pid!, ...sims }, workers)));
    } finally {
      await stopChild(router.child);
    }
  }
  const clean = runs.filter((r) => r.load.non2xx + r.load.errors === 0);
  const bestRun = (clean.length > 0 ? clean : runs).reduce((a, b) => (b.load.reqPerSec > a.load.reqPerSec ? b : a));
  return {
    cascade, runs, best: bestRun.load.reqPerSec, bestConnections: bestRun.load.connections, bestWorkers: bestRun.workers,
    pass: bestRun.load.reqPerSec >= TARGETS.routedReqPerSec,
  };
}

async function routedThroughput(s: Settings, router: RouterProc, cascade: string, procs: Record<string, number>, workers: number): Promise<RoutedRun[]> {
  const requests = ROUTED_PROMPTS.map((prompt) => ({
    method: 'POST',
    path: '/v1/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: cascade, prompt, max_tokens: 16 }),
  }));
  const url = router.url;
  process.stdout.write(`  warm-up (64 connections, 3 s) ... `);
  await closedLoop(s, { url, connections: 64, durationSeconds: s.quick ? 1 : 3, requests });
  console.log('done');
  const runs: RoutedRun[] = [];
  for (const connections of s.connections) {
    process.stdout.write(`  ${connections} connections for ${s.cannonSeconds} s ... `);
    const before = await metricsText(router);
    const m = await measured(procs, () => closedLoop(s, { url, connections, durationSeconds: s.cannonSeconds, requests }));
    const after = await metricsText(router);
    const d = (name: string, f: Record<string, string> = {}) => metricSum(after, name, f) - metricSum(before, name, f);
    const routedRequests = d('tiermix_requests_total', { mode: 'routed' });
    const upstreamCalls = d('tiermix_upstream_request_seconds_count');
    const escalations = d('tiermix_escalations_total');
    const outcomes = Object.fromEntries(['ok', 'client_error', 'upstream_error', 'error'].map((o) => [o, d('tiermix_requests_total', { mode: 'routed', outcome: o })]));
    const simCpu = Object.entries(m.cpuSeconds).filter(([k]) => k.startsWith('sim ')).reduce((n, [, v]) => n + v, 0);
    const run: RoutedRun = {
      load: m.result,
      cpu: m.cpu,
      routedRequests,
      upstreamCalls,
      upstreamByPurpose: { answer: d('tiermix_upstream_request_seconds_count', { purpose: 'answer' }), verify: d('tiermix_upstream_request_seconds_count', { purpose: 'verify' }) },
      upstreamPerRequest: upstreamCalls / routedRequests,
      escalations,
      escalationsPerRequest: escalations / routedRequests,
      outcomes,
      workers,
      routerCpuMsPerRequest: (1000 * m.cpuSeconds.router!) / routedRequests,
      simCpuMsPerRequest: (1000 * simCpu) / routedRequests,
      runtime: runtimeStats(before, after),
    };
    runs.push(run);
    console.log(
      `${m.result.reqPerSec.toFixed(0)} req/s, ${m.result.non2xx} non-2xx, ${m.result.errors} errors, ` +
        `${run.upstreamPerRequest.toFixed(2)} upstream calls/request, router ${m.cpu.cores.router} cores`,
    );
  }
  return runs;
}

// ---- context: the simulator alone, and bare node:http servers on this machine

export interface ContextRun {
  name: string;
  description: string;
  load: CannonSummary;
  cpu: CpuUse;
}

// A proxy that parses, calls the upstream (BARE_SERVER) `calls` times in a row (keep-alive), and serializes:
// the least any JSON router in Node does per request, with no framework.
const BARE_PROXY = `
import http from 'node:http';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
const upstreamPort = Number(process.argv[2]);
const calls = Number(process.argv[3]);
function call(payload) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: upstreamPort, path: '/v1/completions', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', async () => {
    try {
      const request = JSON.parse(Buffer.concat(chunks).toString());
      let answer;
      for (let i = 0; i < calls; i++) answer = await call(JSON.stringify({ ...request, model: 'bare' }));
      const out = JSON.stringify({ ...answer, proxied: true });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    } catch (e) {
      res.writeHead(502).end();
    }
  });
});
server.keepAliveTimeout = 65000;
server.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
`;

async function context(s: Settings, sim: Sim): Promise<ContextRun[]> {
  const runs: ContextRun[] = [];
  const one = async (name: string, description: string, url: string, body: string, connections: number, procs: Record<string, number>) => {
    process.stdout.write(`  ${name}, ${connections} connections, ${s.contextSeconds} s ... `);
    const requests = [{ method: 'POST', path: '/v1/completions', headers: { 'content-type': 'application/json' }, body }];
    const m = await measured(procs, () => closedLoop(s, { url, connections, durationSeconds: s.contextSeconds, requests }));
    runs.push({ name, description, load: m.result, cpu: m.cpu });
    console.log(`${m.result.reqPerSec.toFixed(0)} req/s, ${m.result.non2xx + m.result.errors} failed`);
  };
  const simProcs = { sim: sim.child.pid };
  for (const c of [16, 64]) {
    await one('simulator alone: answer', `tiermix sim (zero latency), ${passBody(sim.model).length}-byte completion, max_tokens 8`, sim.url, passBody(sim.model), c, simProcs);
  }
  const verifyBody = JSON.stringify({
    model: sim.model,
    prompt: buildVerificationPrompt({ context: '', question: ROUTED_PROMPTS[0]!, answer: ' A suspension bridge carries a road across a wide river.' }),
    n: 8,
    temperature: 1,
    max_tokens: 250,
    stop: [VERIFY_STOP],
  });
  await one('simulator alone: verification', 'the router\'s verification call: few-shot prompt, n=8, max_tokens 250', sim.url, verifyBody, 64, simProcs);

  const bare = await startScript('bare server', BARE_SERVER);
  const plain = JSON.stringify({ model: 'bare', prompt: ANSWER_PROMPT, max_tokens: 8 });
  try {
    await one('bare node:http server', 'node:http server answering a fixed completion JSON (no framework): the machine\'s ceiling', bare.url, plain, 64, { server: bare.child.pid });
    for (const calls of [1, 2]) {
      const proxy = await startScript(`bare proxy x${calls}`, BARE_PROXY, [String(bare.port), String(calls)]);
      try {
        await one(
          `bare node:http proxy, ${calls} upstream call${calls > 1 ? 's' : ''}`,
          `node:http proxy (JSON parse, ${calls} keep-alive upstream POST${calls > 1 ? 's in a row' : ''}, serialize; no framework) in front of the bare server`,
          proxy.url,
          plain,
          64,
          { proxy: proxy.child.pid, server: bare.child.pid },
        );
      } finally {
        await stopChild(proxy.child);
      }
    }
  } finally {
    await stopChild(bare.child);
  }
  return runs;
}

// ---- profiles of the router under load

export interface ProfileRun {
  name: string;
  requests: number;
  reqPerSec: number;
  /** Router CPU (from /proc, profiler included) per request. */
  cpuMsPerRequest: number;
  /** Router CPU per request in the same kind of load without the profiler (sections A and B). */
  unprofiledCpuMsPerRequest: number | null;
  summary: ProfileSummary;
}

async function profiles(s: Settings, configYaml: string, sim: Sim, cascade: string): Promise<ProfileRun[]> {
  const out: ProfileRun[] = [];
  const cases = [
    { name: 'pinned pass-through', connections: 32, body: passBody(sim.model) },
    { name: 'routed (cascade)', connections: 64, body: JSON.stringify({ model: cascade, prompt: ROUTED_PROMPTS[0], max_tokens: 16 }) },
  ];
  for (const c of cases) {
    const dir = tempDir('tiermix-bench-prof-');
    process.stdout.write(`  ${c.name}: router with --cpu-prof, ${c.connections} connections, ${s.cannonSeconds} s ... `);
    const router = await startRouter(configYaml, ['--cpu-prof', '--cpu-prof-dir', dir]);
    let load: CannonSummary;
    const startUs = Number(process.hrtime.bigint() / 1000n);
    const cpuBefore = cpuSeconds(router.child.pid);
    let cpuAfter = NaN;
    try {
      load = await closedLoop(s, {
        url: router.url,
        connections: c.connections,
        durationSeconds: s.cannonSeconds,
        requests: [{ method: 'POST', path: '/v1/completions', headers: { 'content-type': 'application/json' }, body: c.body }],
      });
      cpuAfter = cpuSeconds(router.child.pid);
    } finally {
      await stopChild(router.child, 15_000);
    }
    const endUs = Number(process.hrtime.bigint() / 1000n);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) {
      console.log('no profile written');
      continue;
    }
    const requests = load.total2xx + load.non2xx;
    const summary = summarizeProfile(join(dir, file), { startUs, endUs }, requests);
    const cpuMsPerRequest = (1000 * (cpuAfter - cpuBefore)) / requests;
    out.push({ name: c.name, requests, reqPerSec: load.reqPerSec, cpuMsPerRequest, unprofiledCpuMsPerRequest: null, summary });
    console.log(`${load.reqPerSec.toFixed(0)} req/s (profiling slows it), router ${cpuMsPerRequest.toFixed(3)} CPU ms per request`);
  }
  return out;
}

// ---- other load on the machine

/**
 * Wait (bounded) until the machine is nearly idle, so that other programs do not take the cores the
 * benchmark needs. Returns the busy cores seen last, and how long it waited.
 */
async function waitForQuiet(maxSeconds: number): Promise<{ waitedSeconds: number; busyCores: number }> {
  const started = Date.now();
  let busyCores = NaN;
  for (let i = 0; i < 200; i++) {
    const a = machineCpuSeconds();
    await new Promise((r) => setTimeout(r, 2000));
    const b = machineCpuSeconds();
    busyCores = Math.round(((b.busy - a.busy) / 2) * 100) / 100;
    if (busyCores < 0.25 || Date.now() - started >= maxSeconds * 1000) break;
    if (i === 0) process.stdout.write(`waiting up to ${maxSeconds} s for the machine to be idle (busy: ${busyCores} cores) `);
    else process.stdout.write('.');
  }
  const waitedSeconds = Math.round((Date.now() - started) / 1000);
  if (waitedSeconds > 2) console.log(` ${busyCores} cores busy after ${waitedSeconds} s`);
  return { waitedSeconds, busyCores };
}

// ---- main

export interface BenchReport {
  date: string;
  machine: MachineInfo;
  settings: Settings;
  simulatedUpstream: string;
  routerConfig: string;
  passThrough: PassThroughReport;
  routed: RoutedReport;
  context: ContextRun[];
  profiles: ProfileRun[];
  loadAverageAtEnd: number[];
  /** Busy cores on the machine just before the start (nothing of ours running yet). */
  busyCoresBeforeStart: number;
  /** Largest "other" load (cores) seen during any measured segment or run. */
  maxOtherCores: number;
  durationSeconds: number;
}

async function main(): Promise<void> {
  const s = parseArgs(process.argv.slice(2));
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: build first (make build)`);
  installExitHandlers();
  const started = Date.now();
  const machine = machineInfo();
  console.log(`tiermix router benchmark${s.quick ? ' (quick)' : ''}: ${describeMachine(machine)}, load average ${machine.loadAverageAtStart.join(' ')}`);
  console.log('Upstreams are tiermix SIMULATORS (zero latency), not vLLM.');
  const quiet = await waitForQuiet(s.waitQuietSeconds);

  const models = ['Mistral-7B-v0.1', 'Llama-2-13b-hf', 'Llama-2-70b-hf'];
  const sims = await Promise.all(models.map((m) => startSim(m)));
  const cascade = 'bench-ladder';
  // Tier names equal the served model names, so a pinned request and a direct one carry the same bytes.
  const configYaml = [
    'server: { host: 127.0.0.1, port: 0, shutdownGraceSeconds: 2 }',
    'verification: { samples: 8, temperature: 1.0, maxTokens: 250 }',
    'policy: { type: threshold, threshold: 0.5 }',
    'cascades:',
    `  - name: ${cascade}`,
    '    tiers:',
    ...sims.map((sim) => `      - { name: ${sim.model}, model: ${sim.model}, gpusPerReplica: 1, endpoints: ["${sim.url}"] }`),
    '',
  ].join('\n');
  const router = await startRouter(configYaml);
  const procs: Record<string, number> = { router: router.child.pid, ...Object.fromEntries(sims.map((x) => [`sim ${x.model}`, x.child.pid])) };

  console.log(`\nA. pass-through at ${TARGETS.rate} req/s: direct to the simulator vs. through the router pinned to that tier`);
  const pass = await passThrough(s, sims[0]!, router, procs);
  await stopChild(router.child);
  console.log(`\nB. routed throughput: cascade of ${sims.length} tiers (answer + verification n=8 per tier asked)`);
  const simProcs = Object.fromEntries(sims.map((x) => [`sim ${x.model}`, x.child.pid!]));
  const routed = await routedThroughputByWorkers(s, configYaml, cascade, simProcs);

  let ctx: ContextRun[] = [];
  if (s.context) {
    console.log('\nContext: the simulator alone and bare node:http servers on this machine');
    ctx = await context(s, sims[0]!);
  }

  let profs: ProfileRun[] = [];
  if (s.profile) {
    console.log('\nProfiles: where the router spends CPU (node --cpu-prof, separate runs)');
    profs = await profiles(s, configYaml, sims[0]!, cascade);
    // The profiler costs CPU of its own (much more under the routed load's deep async stacks), so the
    // shares are applied to the CPU per request measured without it.
    const pinnedSegments = pass.segments.filter((x) => x.routerCpuMsPerRequest !== null);
    const pinnedCpu = pinnedSegments.reduce((n, x) => n + x.routerCpuMsPerRequest!, 0) / Math.max(1, pinnedSegments.length);
    // The profiled router is one process: compare with the best one-worker row.
    const oneWorker = routed.runs.filter((x) => x.workers === 1);
    const routedCpu = oneWorker.length > 0 ? oneWorker.reduce((a, b) => (b.load.reqPerSec > a.load.reqPerSec ? b : a)).routerCpuMsPerRequest : null;
    for (const p of profs) p.unprofiledCpuMsPerRequest = p.name.startsWith('pinned') ? pinnedCpu : routedCpu;
  }

  const report: BenchReport = {
    date: new Date().toISOString(),
    machine,
    settings: s,
    simulatedUpstream: 'tiermix sim --profile zero --time-scale 0 --data none (zero latency; generated questions; no model, no GPU)',
    routerConfig: configYaml,
    passThrough: pass,
    routed,
    context: ctx,
    profiles: profs,
    loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    busyCoresBeforeStart: quiet.busyCores,
    maxOtherCores: Math.max(0, ...pass.segments.map((x) => x.cpu.other), ...routed.runs.map((x) => x.cpu.other), ...ctx.map((x) => x.cpu.other)),
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  const md = renderMarkdown(report);
  mkdirSync(s.outDir, { recursive: true });
  const day = report.date.slice(0, 10);
  const base = join(s.outDir, `router-${day}${s.quick ? '-quick' : ''}`);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  console.log(`\n${md}`);
  console.log(`Written: ${base}.md and ${base}.json`);

  console.log('\nD. routing decision latency (featurize + ONNX + POMDP), one core: test/bench/decision-latency.ts');
  const code = await runPinnedDecisionBench(s.outDir, s.quick);
  if (code !== 0) throw new Error(`decision latency benchmark exited ${code}`);
}

if (process.env.NODE_TEST_CONTEXT) {
  // Loaded by `node --test dist/test/` because it sits under test/: the benchmark is run by `make bench` only.
  console.log('test/bench/run.js: benchmark, not a test; run it with make bench');
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main()
    .catch((err: unknown) => {
      console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
    })
    .finally(async () => {
      await stopAll();
      // Nothing of ours should keep the loop alive; bound the exit anyway.
      setTimeout(() => process.exit(), 2000).unref();
    });
}
