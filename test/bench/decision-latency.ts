// `make bench`, part D: the routing decision's own latency, in the router's code path and on one core:
// the query classifier's prior (featurize + one onnxruntime-node run) and the POMDP's first decision, for every
// MMLU-Pro test prompt (or generated questions without the data), one at a time. Targets (issue 3): p50 <= 0.5 ms,
// p99 <= 2 ms. Also the later decisions of a request (after an observation). Writes
// docs/benchmarks/decision-YYYY-MM-DD.{md,json}.
//
//   node dist/test/bench/decision-latency.js [--quick] [--out <dir>]      (run.js pins it to one core with taskset)
//
// Loaded by `node --test dist/test/` as well (it sits under test/); there it does nothing.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../../router/config/load.js';
import { formatMmluPrompt, isTestSplit, loadMmluPro } from '../../router/sim/dataset.js';
import { generatedQuestions } from '../../router/sim/generated-questions.js';
import { prepareRouting, type PomdpRouting } from '../../router/server/routing.js';
import { RoutingModelLoader } from '../../router/server/routing-models.js';
import type { RoutingState } from '../../router/policy/types.js';
import { summarize, type LatencySummary } from './load.js';
import { describeMachine, machineInfo, type MachineInfo } from './machine.js';
import { machineCpuSeconds, selfCpuSeconds } from './procs.js';

const DECISION_TARGETS = { p50Ms: 0.5, p99Ms: 2 } as const;

interface DecisionRun {
  /** What this run shows. */
  label: string;
  priorQuantum: number;
  /** Prompts sent through before measuring (JIT, and the root-plan cache in the steady-state run). */
  warmup: string;
  /** Share of first decisions that were a lookup of an earlier root plan. */
  rootHits: number;
  /** Milliseconds. decision = classifier prior (featurize + ONNX) + the first POMDP decision. */
  featurize: LatencySummary;
  classifier: LatencySummary;
  firstDecide: LatencySummary;
  decision: LatencySummary;
  laterDecide: LatencySummary;
  pass: { p50: boolean; p99: boolean };
}

interface DecisionReport {
  date: string;
  machine: MachineInfo;
  /** taskset's CPU list when pinned by run.js, else null. */
  pinnedTo: string | null;
  prompts: string;
  model: string;
  lambda: number;
  runs: DecisionRun[];
  /** Busy cores of the whole machine during the measurements, and this process's share. */
  machineBusyCores: number;
  selfCores: number;
}

async function prompts(quick: boolean): Promise<{ test: string[]; train: string[]; source: string }> {
  const candidates = [process.env.TIERMIX_DATA, fileURLToPath(new URL('../../../../shared/data/mmlu-pro', import.meta.url))];
  const dir = candidates.find((d): d is string => !!d && existsSync(join(d, 'outcomes.jsonl.gz')));
  const limit = quick ? 600 : Infinity;
  if (dir) {
    const all = await loadMmluPro(dir, { models: [] });
    const test = all.filter((q) => isTestSplit(q.id)).slice(0, limit);
    const train = all.filter((q) => !isTestSplit(q.id)).slice(0, quick ? 2000 : Infinity);
    return { test: test.map(formatMmluPrompt), train: train.map(formatMmluPrompt), source: `MMLU-Pro test split (${test.length} prompts from ${dir}); warm-up on ${train.length} train prompts` };
  }
  const qs = generatedQuestions(quick ? 2600 : 12_000, 1);
  const cut = Math.floor(qs.length / 5);
  return { test: qs.slice(0, cut).map(formatMmluPrompt), train: qs.slice(cut).map(formatMmluPrompt), source: `generated questions (${cut} measured, ${qs.length - cut} warm-up; no MMLU-Pro data found)` };
}

const LAMBDA = 0.035;
let modelLabel = '';

async function measureRun(label: string, priorQuantum: number, test: string[], warm: string[], warmLabel: string): Promise<DecisionRun> {
  const config = validateConfig({
    policy: { type: 'pomdp', model: 'builtin:default-ladder', classifier: true, objective: { lambda: LAMBDA }, priorQuantum },
    cascades: [{ name: 'ladder', tiers: ['Mistral-7B-v0.1', 'Llama-2-13b-hf', 'Llama-2-70b-hf'].map((m, i) => ({ name: `t${i}`, model: m, gpusPerReplica: i === 2 ? 4 : 1 })) }],
  });
  const routing = (await prepareRouting(config, new RoutingModelLoader())).get('ladder') as PomdpRouting;
  const cascade = { name: 'ladder', tiers: config.cascades[0]!.tiers.map((t, index) => ({ index, name: t.name, gpusPerReplica: t.gpusPerReplica })) };
  const classifier = routing.loaded.classifier!;
  modelLabel = `builtin:default-ladder (${classifier.name}; pomdp.json fitted on ${routing.loaded.model.n} rows, verifier ${routing.loaded.params.verifier})`;
  const feat: number[] = [];
  const clf: number[] = [];
  const first: number[] = [];
  const total: number[] = [];
  const later: number[] = [];
  let hits = 0;
  const run = async (text: string, record: boolean) => {
    const t0 = performance.now();
    classifier.featurize(text);
    const t1 = performance.now();
    // What the router runs per request: featurize (again) + one ONNX run, then the first decision.
    const t2 = performance.now();
    const prior = await routing.prior(text);
    const t3 = performance.now();
    const state: RoutingState = { cascade, query: text, prior, observations: [] };
    const d = routing.policy.decide(state);
    const t4 = performance.now();
    let t5 = 0;
    let t6 = 0;
    if (d.action === 'ask' && d.tier < 2) {
      state.observations.push({ tier: d.tier, answer: 'The answer is (B).', confidence: d.verify ? 0.625 : null, verifierSamples: d.verify ? 8 : 0 });
      t5 = performance.now();
      routing.policy.decide(state);
      t6 = performance.now();
    }
    if (!record) return;
    feat.push(t1 - t0);
    clf.push(t3 - t2);
    first.push(t4 - t3);
    total.push(t4 - t2);
    if (t6 > 0) later.push(t6 - t5);
  };
  for (const t of warm) await run(t, false);
  const plans = () => (routing.policy as unknown as { rootPlans: Map<string, unknown> }).rootPlans.size;
  const before = plans();
  for (const t of test) await run(t, true);
  // Root plans added while measuring = first decisions that were solved, not looked up.
  hits = 1 - (plans() - before) / test.length;
  const decision = summarize(total);
  return {
    label,
    priorQuantum,
    warmup: warmLabel,
    rootHits: Math.round(hits * 1000) / 1000,
    featurize: summarize(feat),
    classifier: summarize(clf),
    firstDecide: summarize(first),
    decision,
    laterDecide: summarize(later),
    pass: { p50: decision.p50 <= DECISION_TARGETS.p50Ms, p99: decision.p99 <= DECISION_TARGETS.p99Ms },
  };
}

async function measureDecisionLatency(quick = false): Promise<DecisionReport> {
  const { test, train, source } = await prompts(quick);
  const cpu0 = machineCpuSeconds();
  const self0 = selfCpuSeconds();
  const w0 = performance.now();
  const runs = [
    await measureRun('every request a new prior (priorQuantum 0: exact; every first decision solves the tree)', 0, test, test.slice(0, 200), '200 test prompts (JIT)'),
    await measureRun("steady state with the router's defaults (priorQuantum 0.02; root plans kept)", 0.02, test, train, `${train.length} train prompts`),
  ];
  const wall = (performance.now() - w0) / 1000;
  const cpu1 = machineCpuSeconds();
  const self1 = selfCpuSeconds();
  return {
    date: new Date().toISOString(),
    machine: machineInfo(),
    pinnedTo: process.env.TIERMIX_BENCH_PINNED ?? null,
    prompts: source,
    model: modelLabel,
    lambda: LAMBDA,
    runs,
    machineBusyCores: Math.round(((cpu1.busy - cpu0.busy) / wall) * 100) / 100,
    selfCores: Math.round(((self1 - self0) / wall) * 100) / 100,
  };
}

const ms = (x: number) => x.toFixed(3);

function renderDecisionMarkdown(r: DecisionReport): string {
  const row = (name: string, p: LatencySummary) => `| ${name} | ${p.count} | ${ms(p.p50)} | ${ms(p.p90)} | ${ms(p.p99)} | ${ms(p.max)} | ${ms(p.mean)} |`;
  const verdict = (ok: boolean) => (ok ? '**PASS**' : '**FAIL**');
  const other = Math.max(0, r.machineBusyCores - r.selfCores);
  const lines = [
    `# Routing decision latency, ${r.date.slice(0, 10)}`,
    '',
    `Machine: ${describeMachine(r.machine)}; ` +
      `${r.pinnedTo !== null ? `pinned to CPU ${r.pinnedTo} (taskset)` : 'not pinned'}; load average at start ${r.machine.loadAverageAtStart.join(' ')}.`,
    `During the measurement the machine was ${r.machineBusyCores} cores busy, ${r.selfCores} of them this benchmark` +
      (other > 0.3 ? `: **${other.toFixed(2)} cores of other work shared the machine, so the tails are noisy**.` : '.'),
    '',
    `In-process, the router's own code (router/server/routing.ts): ${r.model}; lambda ${r.lambda}. Prompts: ${r.prompts}; one at a time. ` +
      `Decision = the classifier's prior (featurize + one onnxruntime-node run, awaited) + the POMDP's first decision. Targets: p50 <= ${DECISION_TARGETS.p50Ms} ms, p99 <= ${DECISION_TARGETS.p99Ms} ms.`,
  ];
  for (const run of r.runs) {
    lines.push(
      '',
      `## ${run.label}`,
      '',
      `Warm-up: ${run.warmup}. First decisions that were lookups of an earlier root plan: ${(run.rootHits * 100).toFixed(1)}%.`,
      '',
      '| milliseconds | n | p50 | p90 | p99 | max | mean |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      row('**decision: classifier prior + first POMDP decision**', run.decision),
      row('classifier prior (featurize + ONNX run, awaited)', run.classifier),
      row('featurize alone', run.featurize),
      row('first POMDP decision', run.firstDecide),
      row('a later decision of the same request', run.laterDecide),
      '',
      `p50 ${verdict(run.pass.p50)} (${ms(run.decision.p50)} ms), p99 ${verdict(run.pass.p99)} (${ms(run.decision.p99)} ms).`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Run this benchmark as a child process pinned to one core (the last one) with taskset when it exists, its
 * output on ours; what make bench (run.ts) calls after the router benchmark.
 */
export function runPinnedDecisionBench(outDir: string, quick: boolean): Promise<number | null> {
  const script = fileURLToPath(import.meta.url);
  const args = [script, '--out', outDir, ...(quick ? ['--quick'] : [])];
  const cpu = String(Math.max(0, cpus().length - 1));
  const taskset = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));
  const [cmd, argv] = taskset ? [taskset, ['-c', cpu, process.execPath, ...args]] : [process.execPath, args];
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: 'inherit', env: { ...process.env, ...(taskset ? { TIERMIX_BENCH_PINNED: cpu } : {}) } });
    child.once('error', () => resolve(null));
    child.once('exit', (code) => resolve(code));
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const outAt = argv.indexOf('--out');
  const outDir = outAt >= 0 && argv[outAt + 1] ? argv[outAt + 1]! : fileURLToPath(new URL('../../../docs/benchmarks/', import.meta.url));
  const report = await measureDecisionLatency(quick);
  const md = renderDecisionMarkdown(report);
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `decision-${report.date.slice(0, 10)}${quick ? '-quick' : ''}`);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, `${JSON.stringify({ ...report, loadAverageAtEnd: loadavg() }, null, 2)}\n`);
  console.log(md);
  console.log(`Written: ${base}.md and ${base}.json`);
}

if (process.env.NODE_TEST_CONTEXT) {
  console.log('test/bench/decision-latency.js: benchmark, not a test; run it with make bench');
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(`decision latency bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  });
}
