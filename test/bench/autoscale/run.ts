// The trace-driven autoscaling benchmark (a SIMULATION, stated as such everywhere it prints):
//   node dist/test/bench/autoscale/run.js [--quick] [--seed <n>] [--out <dir>] [--traces steady,diurnal,bursty]
// For each trace: static provisioning at peak, KubeAI's per-tier autoscaler, tiermix's cascade-aware autoscaler
// (and tiermix without pre-scaling, to show what pre-scaling adds). Writes docs/benchmarks/autoscaling-<date>.md
// and .json, and prints the Markdown.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TIERMIX_SETTINGS, KUBEAI_DEFAULTS, kubeaiStrategy, tiermixStrategy } from '../../../controller/autoscale/index.js';
import { machineInfo } from '../machine.js';
import { loadPaths } from './paths.js';
import { renderReport, type BenchParameters, type TraceResults } from './report.js';
import { LAMBDA, replicasFor, SCALING, SETTINGS, staticPeak, SWEEP_TARGETS, TIERS, withTarget } from './setup.js';
import { simulate, type ScalingPolicy } from './simulate.js';
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
  const outDir = option('--out') ?? join(process.cwd(), 'docs', 'benchmarks');
  const machine = machineInfo();
  const started = Date.now();
  console.error('SIMULATION: trace-driven autoscaling benchmark (no GPU, no vLLM, no Kubernetes); loading the routing paths...');
  const paths = await loadPaths(LAMBDA);

  const ours = tiermixStrategy(DEFAULT_TIERMIX_SETTINGS);
  const noPrescale = tiermixStrategy({ ...DEFAULT_TIERMIX_SETTINGS, prescale: false });
  const kubeai = kubeaiStrategy(KUBEAI_DEFAULTS);
  const results: TraceResults[] = [];
  for (const name of traceNames) {
    const trace = makeTrace(name, seed, traceSettings);
    const initial = replicasFor(trace.rate(0), paths);
    const run = (p: ScalingPolicy, target = 8) => {
      const settings = withTarget(target);
      const init = initial.map((r, k) => Math.max(SCALING[k]!.min, Math.ceil((r * 8) / target)));
      const r = { ...simulate(trace, paths, p, settings, seed, init), target };
      console.error(`  ${trace.name} ${p.name} target ${target}: ${Math.round(r.gpuSeconds)} GPU-s, SLO ${(100 * r.sloAttainment).toFixed(1)}%, ${r.violations} violations (${r.wallMs} ms)`);
      return r;
    };
    const oursP: ScalingPolicy = { kind: 'autoscaler', name: 'tiermix', strategy: ours, scaleFromZeroOnArrival: false, saturationSignal: true };
    const kubeP: ScalingPolicy = { kind: 'autoscaler', name: 'kubeai', strategy: kubeai, scaleFromZeroOnArrival: true, saturationSignal: false };
    const tiermix = run(oursP);
    const kube = run(kubeP);
    const ablation = run({ kind: 'autoscaler', name: 'tiermix-no-prescale', strategy: noPrescale, scaleFromZeroOnArrival: false, saturationSignal: true });
    const staticReplicas = staticPeak(trace.peakRate, paths, seed);
    const stat = run({ kind: 'static', name: 'static-peak', replicas: staticReplicas });
    // The same two autoscalers at other targets: GPU-seconds against SLO, to compare at equal SLO attainment.
    const sweep = [tiermix, kube];
    for (const target of SWEEP_TARGETS) sweep.push(run(oursP, target), run(kubeP, target));
    results.push({ trace: { name: trace.name, description: trace.description, durationS: trace.durationS, bursts: trace.bursts.length }, staticReplicas, initial, runs: [stat, kube, tiermix, ablation], sweep });
  }

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
    tiers: TIERS.map((t, i) => ({ name: t.name, profile: t.profile.name, gpus: t.gpus, coldStartS: t.coldStartS, maxNumSeqs: t.profile.maxNumSeqs, ...SCALING[i]! })),
    settings: { ...SETTINGS, tiers: undefined },
    traces: traceSettings,
    kubeai: KUBEAI_DEFAULTS,
    tiermix: { averageWindowSeconds: DEFAULT_TIERMIX_SETTINGS.averageWindowSeconds, flowWindowSeconds: DEFAULT_TIERMIX_SETTINGS.flow.windowSeconds },
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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
