// Fuzzing the router over HTTP: thousands of malformed requests, generated from a fixed seed, must each get
// a 4xx with the OpenAI error shape (never a 5xx, never a hang); valid requests mixed in keep succeeding;
// the router stays up and its memory stays flat. The router runs as a child process (so its memory is its
// own) in front of two zero-latency simulators; a second router has API keys on, for the Authorization cases.
//
// Memory is read from the router's /metrics right after a full GC (the child gets --expose-gc and a
// preload that collects on SIGUSR2), after a warm-up and after each quarter of the run.
//
// FUZZ_SEED and FUZZ_CASES override the seed and the number of cases.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../../router/sim/server.js';
import { API_KEY, BODY_LIMIT, CASCADE, generateCases, TIER, TIER_LARGE, type FuzzCase } from './fuzz-cases.js';
import {
  describeCase, judge, readMemory, runAll, sendCase, startRouterChild, type Memory, type Outcome, type Problem, type RouterChild, type Verdict,
} from './fuzz-client.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const CASES = Number(process.env.FUZZ_CASES ?? 6000);
const WARMUP = Math.min(1000, Math.floor(CASES / 5));
const CONCURRENCY = 8;
const REQUEST_TIMEOUT_MS = 10_000;
/**
 * Growth allowed between the end of the warm-up and the end of the run, both read right after a full GC
 * in the router. Seen: live heap +0.8 MB and RSS +6 MB over 5,000 requests, flattening out (+1.1 MB heap
 * over 15,000); a leak of 1 KiB per request would add 5 MB of heap.
 */
const RSS_GROWTH_LIMIT_MB = 20;
const HEAP_GROWTH_LIMIT_MB = 4;

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);

function routerConfig(sims: RunningSimulator[], apiKeysEnv?: string): string {
  return [
    `server: { host: 127.0.0.1, port: 0, bodyLimitBytes: ${BODY_LIMIT}, shutdownGraceSeconds: 1${apiKeysEnv ? `, apiKeys: { env: ${apiKeysEnv} }` : ''} }`,
    'retry: { attemptsPerTier: 1, tierFallbacks: 1 }',
    'cascades:',
    `  - name: ${CASCADE}`,
    '    tiers:',
    `      - { name: ${TIER}, model: Mistral-7B-v0.1, endpoints: ["${sims[0]!.url}"], timeouts: { connectSeconds: 2, requestSeconds: 8 } }`,
    `      - { name: ${TIER_LARGE}, model: Llama-2-13b-hf, endpoints: ["${sims[1]!.url}"], timeouts: { connectSeconds: 2, requestSeconds: 8 } }`,
    '',
  ].join('\n');
}

interface Result {
  c: FuzzCase;
  o: Outcome;
  verdicts: Verdict[];
}

describe('router fuzz: malformed requests over HTTP', () => {
  const sims: RunningSimulator[] = [];
  let open: RouterChild | undefined;
  let keyed: RouterChild | undefined;
  let results: Result[] = [];
  const memory: { label: string; m: Memory }[] = [];
  let healthAfter = 0;
  let healthAfterKeyed = 0;

  before(
    async () => {
      sims.push(await startSimulator({ model: 'Mistral-7B-v0.1', dataDir: null, profile: 'zero', timeScale: 0 }));
      sims.push(await startSimulator({ model: 'Llama-2-13b-hf', dataDir: null, profile: 'zero', timeScale: 0 }));
      open = await startRouterChild(routerConfig(sims));
      keyed = await startRouterChild(routerConfig(sims, 'TIERMIX_FUZZ_KEYS'), { TIERMIX_FUZZ_KEYS: `other-key,${API_KEY}` });

      const cases = generateCases(SEED, CASES);
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
      const send = (c: FuzzCase) => sendCase(c, c.target === 'keyed' ? keyed!.url : open!.url, agent, REQUEST_TIMEOUT_MS);
      const started = performance.now();
      try {
        const outcomes = await runAll(cases.slice(0, WARMUP), CONCURRENCY, send);
        memory.push({ label: `after the warm-up (${WARMUP} requests)`, m: await readMemory(open) });
        // The rest in four parts, reading the memory after each: a leak shows as steady growth.
        const step = Math.ceil((cases.length - WARMUP) / 4);
        for (let from = WARMUP; from < cases.length; from += step) {
          const to = Math.min(cases.length, from + step);
          outcomes.push(...(await runAll(cases.slice(from, to), CONCURRENCY, send)));
          memory.push({ label: `after ${to} requests`, m: await readMemory(open) });
        }
        results = cases.map((c, i) => ({ c, o: outcomes[i]!, verdicts: judge(c, outcomes[i]!) }));
      } finally {
        agent.destroy();
      }
      healthAfter = (await fetch(`${open.url}/healthz`, { signal: AbortSignal.timeout(5000) })).status;
      healthAfterKeyed = (await fetch(`${keyed.url}/healthz`, { signal: AbortSignal.timeout(5000) })).status;
      report(results, memory, (performance.now() - started) / 1000);
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await open?.stop();
    await keyed?.stop();
    for (const s of sims) await s.close();
  });

  const failing = (problems: Problem[]) => results.filter((r) => r.verdicts.some((v) => problems.includes(v.problem)));
  const explain = (rs: Result[], problems: Problem[]) => {
    const groups = new Map<string, Result[]>();
    for (const r of rs) {
      for (const v of r.verdicts.filter((x) => problems.includes(x.problem))) {
        const key = `${r.c.kind} / ${v.problem}`;
        groups.set(key, [...(groups.get(key) ?? []), r]);
      }
    }
    return [...groups]
      .map(([key, list]) => `${key}: ${list.length}\n${list.slice(0, 3).map((r) => `    ${describeCase(r.c)}\n      -> ${r.verdicts.map((v) => v.detail).join('; ').slice(0, 300)}`).join('\n')}`)
      .join('\n');
  };

  it(`sends ${CASES} requests from seed ${SEED}`, () => {
    assert.equal(results.length, CASES);
    const malformed = results.filter((r) => r.c.expect !== 'ok').length;
    assert.ok(malformed >= CASES * 0.8, `${malformed} malformed cases`);
  });

  it('never hangs and never drops the connection without an answer', () => {
    const bad = failing(['no response (hang)', 'no response (connection error)']);
    assert.equal(bad.length, 0, `\n${explain(bad, ['no response (hang)', 'no response (connection error)'])}`);
  });

  it('never answers 5xx', () => {
    const bad = failing(['5xx']);
    assert.equal(bad.length, 0, `\n${explain(bad, ['5xx'])}`);
  });

  it('answers every malformed request with a 4xx', () => {
    const bad = failing(['not a 4xx']);
    assert.equal(bad.length, 0, `\n${explain(bad, ['not a 4xx'])}`);
  });

  it('uses the OpenAI error shape {"error":{"message","type","param","code"}} for every error', () => {
    const bad = failing(['not the OpenAI error shape']);
    assert.equal(bad.length, 0, `\n${explain(bad, ['not the OpenAI error shape'])}`);
  });

  it('gives the status of the error kind: 400 invalid, 401 bad key, 404 unknown model or route, 413 too large, 415 bad encoding', () => {
    const bad = failing(['unexpected status']);
    assert.equal(bad.length, 0, `\n${explain(bad, ['unexpected status'])}`);
  });

  it('names the offending field in error.param', () => {
    const bad = failing(['param does not name the field']);
    assert.equal(bad.length, 0, `\n${explain(bad, ['param does not name the field'])}`);
  });

  it('keeps serving the valid requests mixed in (200 with a completion, a stream, a decision or the model list)', () => {
    const valid = results.filter((r) => r.c.expect === 'ok');
    assert.ok(valid.length >= CASES / 10, `${valid.length} valid requests`);
    const bad = failing(['valid request failed']);
    assert.equal(bad.length, 0, `\n${explain(bad, ['valid request failed'])}`);
  });

  it('stays up: both routers answer /healthz 200 afterwards', () => {
    assert.equal(open?.proc.exitCode, null, `router exited:\n${open?.output()}`);
    assert.equal(keyed?.proc.exitCode, null, `keyed router exited:\n${keyed?.output()}`);
    assert.equal(healthAfter, 200);
    assert.equal(healthAfterKeyed, 200);
  });

  it(`keeps its memory flat (after the warm-up, live heap grows < ${HEAP_GROWTH_LIMIT_MB} MB and RSS < ${RSS_GROWTH_LIMIT_MB} MB)`, () => {
    const start = memory[0]!.m;
    const end = memory[memory.length - 1]!.m;
    const rssGrowth = (end.rssBytes - start.rssBytes) / MB;
    const heapGrowth = (end.heapUsedBytes - start.heapUsedBytes) / MB;
    assert.ok(Number.isFinite(rssGrowth) && Number.isFinite(heapGrowth), 'memory metrics readable');
    const trace = memory.map(({ label, m }) => `${label}: RSS ${mb(m.rssBytes)} MB, heap ${mb(m.heapUsedBytes)} MB`).join('; ');
    assert.ok(rssGrowth < RSS_GROWTH_LIMIT_MB, `RSS grew ${rssGrowth.toFixed(1)} MB (${trace})`);
    assert.ok(heapGrowth < HEAP_GROWTH_LIMIT_MB, `live heap grew ${heapGrowth.toFixed(1)} MB (${trace})`);
  });
});

function report(results: Result[], memory: { label: string; m: Memory }[], seconds: number): void {
  const byKind = new Map<string, { n: number; failing: number }>();
  const statuses = new Map<string, number>();
  for (const r of results) {
    const k = byKind.get(r.c.kind) ?? { n: 0, failing: 0 };
    k.n++;
    if (r.verdicts.length > 0) k.failing++;
    byKind.set(r.c.kind, k);
    const s = r.o.timedOut ? 'timeout' : r.o.status === null ? `error ${r.o.error}` : String(r.o.status);
    statuses.set(s, (statuses.get(s) ?? 0) + 1);
  }
  const lines = [
    `fuzz: ${results.length} requests (seed ${SEED}) in ${seconds.toFixed(1)} s; statuses ${[...statuses].sort().map(([s, n]) => `${s}: ${n}`).join(', ')}`,
    ...[...byKind].sort().map(([kind, k]) => `  ${kind.padEnd(26)} ${String(k.n).padStart(5)} requests, ${k.failing} with problems`),
    ...memory.map(({ label, m }) => `  router memory ${label}, after a full GC: RSS ${mb(m.rssBytes)} MB (/proc ${mb(m.procRssBytes)} MB), heap used ${mb(m.heapUsedBytes)} MB`),
  ];
  console.log(lines.join('\n'));
}
