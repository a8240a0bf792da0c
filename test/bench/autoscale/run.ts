// The trace-driven autoscaling benchmark (a SIMULATION, stated as such everywhere it prints):
//   node dist/test/bench/autoscale/run.js [--quick] [--seed <n>] [--out <dir>] [--traces steady,diurnal,bursty]
// For each trace: static provisioning at peak, KubeAI's per-tier autoscaler, tiermix's autoscaler and its
// ablations, and both autoscalers over their knobs (KubeAI's target, tiermix's headroom) for the comparison at
// equal SLO. Writes docs/benchmarks/autoscaling-<date>.md (tables, verdicts and the analysis, all generated from
// this run's numbers) and .json, and prints the Markdown.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TIERMIX_SETTINGS, KUBEAI_DEFAULTS } from '../../../controller/autoscale/index.js';
import { machineInfo } from '../machine.js';
import { loadPaths } from './paths.js';
import { autoscaledPolicies, KUBEAI_SWEEP_TARGETS, LATENCY_BOUND, recorder, TIERMIX_SWEEP_Z } from './policies.js';
import { renderReport, type BenchParameters, type BenchRun, type TraceResults } from './report.js';
import { LAMBDA, replicasFor, SCALING, SETTINGS, staticPeak, TIERS, withTarget } from './setup.js';
import { simulate } from './simulate.js';
import { DEFAULT_TRACES, makeTrace, type TraceName, type TraceSettings } from './traces.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

async function main(): Promise<void> {
  const seed = Number(option('--seed') ?? 20261122);
  const quick = flag('--quick');
  const traceNames = (option('--traces') ?? 'steady,diurnal,bursty').split(',') as TraceName[];
  const traceSettings: TraceSettings = quick ? { ...DEFAULT_TRACES, steadyHours: 0.5, diurnalHours: 4, burstyHours: 2 } : DEFAULT_TRACES;
  const outDir = option('--out') ?? fileURLToPath(new URL('../../../../docs/benchmarks/', import.meta.url));
  const machine = machineInfo();
  const started = Date.now();
  console.error('SIMULATION: trace-driven autoscaling benchmark (no GPU, no vLLM, no Kubernetes); loading the routing paths...');
  const paths = await loadPaths(LAMBDA);

  const results: TraceResults[] = [];
  for (const name of traceNames) {
    const trace = makeTrace(name, seed, traceSettings);
    const initial = replicasFor(trace.rate(0), paths);
    const rec = recorder();
    const runs: BenchRun[] = [];
    for (const p of autoscaledPolicies(rec.wrap)) {
      const init = initial.map((r, k) => Math.max(SCALING[k]!.min, Math.ceil((r * 8) / p.target)));
      const r: BenchRun = { ...simulate(trace, paths, p.policy, withTarget(p.target), seed, init), target: p.target, knob: p.knob, main: p.main };
      console.error(`  ${trace.name} ${p.policy.name} ${p.knob}: ${Math.round(r.gpuSeconds)} GPU-s, SLO ${(100 * r.sloAttainment).toFixed(1)}%, ${r.violations} violations (${r.wallMs} ms)`);
      runs.push(r);
    }
    const staticReplicas = staticPeak(trace.peakRate, paths, seed);
    const stat: BenchRun = { ...simulate(trace, paths, { kind: 'static', name: 'static-peak', replicas: staticReplicas }, withTarget(8), seed, staticReplicas), target: 8, knob: 'target 8', main: true };
    console.error(`  ${trace.name} static-peak: ${Math.round(stat.gpuSeconds)} GPU-s, SLO ${(100 * stat.sloAttainment).toFixed(1)}%`);
    results.push({
      trace: { name: trace.name, description: trace.description, durationS: trace.durationS, bursts: trace.bursts.length },
      staticReplicas,
      initial,
      runs: [stat, ...runs.filter((r) => r.main)],
      sweep: runs.filter((r) => r.policy === 'kubeai' || (r.policy === 'tiermix' && r.knob.startsWith('z ') && !r.knob.includes('<='))),
      learned: rec.learned(TIERS, true),
    });
  }

  const c = DEFAULT_TIERMIX_SETTINGS.capacity;
  const params: BenchParameters = {
    seed,
    quick,
    lambda: LAMBDA,
    pathsSource: paths.source,
    pathShares: paths.shares,
    askedShares: paths.asked,
    accuracy: paths.accuracy,
    promptTokens: paths.promptTokens,
    answerTokens: paths.answerTokens,
    tiers: TIERS.map((t, i) => ({ name: t.name, profile: t.profile.name, gpus: t.gpus, coldStartS: t.coldStartS, maxNumSeqs: t.profile.maxNumSeqs, timeFactorUnderLoad: t.profile.timeFactorUnderLoad, ...SCALING[i]! })),
    settings: { ...SETTINGS, tiers: undefined },
    traces: traceSettings,
    kubeai: KUBEAI_DEFAULTS,
    kubeaiSweep: KUBEAI_SWEEP_TARGETS,
    tiermix: {
      averageWindowSeconds: DEFAULT_TIERMIX_SETTINGS.averageWindowSeconds,
      burstWindowSeconds: DEFAULT_TIERMIX_SETTINGS.burstWindowSeconds,
      flowWindowSeconds: DEFAULT_TIERMIX_SETTINGS.flow.windowSeconds,
      headroomZ: c.headroomZ,
      hysteresisZ: c.hysteresisZ,
      maxUtilisation: c.maxUtilisation,
      priorSlowdownAtCapacity: c.priorSlowdownAtCapacity,
      halfLifeSeconds: c.halfLifeSeconds,
      latencyBound: LATENCY_BOUND,
      sweepZ: TIERMIX_SWEEP_Z,
    },
  };
  const date = new Date().toISOString().slice(0, 10);
  const md = renderReport({ date, machine, wallSeconds: (Date.now() - started) / 1000, params, results });
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `autoscaling-${date}${quick ? '-quick' : ''}`);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, JSON.stringify({ simulation: true, date, machine, params, results }, null, 1) + '\n');
  console.log(md);
  console.error(`wrote ${base}.md and ${base}.json`);
}

// `node --test dist/test/` (make test) loads every file under dist/test/; there this must not run the simulation
// (2 min) nor overwrite the dated report.
if (process.env.NODE_TEST_CONTEXT) {
  console.log('test/bench/autoscale/run.js: benchmark, not a test; run it with make bench');
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
