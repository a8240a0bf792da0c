// The autoscaling benchmark report as Markdown (docs/benchmarks/autoscaling-<date>.md).
import type { MachineInfo } from '../machine.js';
import type { SimResult, SimSettings } from './simulate.js';
import type { TraceSettings } from './traces.js';

export interface BenchParameters {
  seed: number;
  quick: boolean;
  lambda: number;
  pathsSource: string;
  pathShares: Record<string, number>;
  askedShares: number[];
  accuracy: number;
  promptTokens: number;
  answerTokens: number[];
  tiers: { name: string; profile: string; gpus: number; coldStartS: number; maxNumSeqs: number; min: number; max: number; targetInFlightPerReplica: number; scaleDownDelaySeconds: number }[];
  settings: Omit<SimSettings, 'tiers'> & { tiers?: undefined };
  traces: TraceSettings;
  kubeai: { intervalSeconds: number; timeWindowSeconds: number; scaleDownDelaySeconds?: number };
  tiermix: { averageWindowSeconds: number; flowWindowSeconds: number };
}

export type TargetedResult = SimResult & { target: number };

export interface TraceResults {
  trace: { name: string; description: string; durationS: number; bursts: number };
  staticReplicas: number[];
  initial: number[];
  runs: TargetedResult[];
  /** tiermix and kubeai at several targets (the default 8 included). */
  sweep: TargetedResult[];
}

export interface ReportInput {
  date: string;
  machine: MachineInfo;
  wallSeconds: number;
  params: BenchParameters;
  results: TraceResults[];
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (x: number, d = 1) => `${f(100 * x, d)}%`;
const signed = (x: number) => `${x >= 0 ? '+' : ''}${f(100 * x)}%`;

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface Verdict {
  trace: string;
  gpuReduction: number;
  sloDelta: number;
  gpuGoal: boolean;
  burstViolationReduction: number | null;
  burstGoal: boolean | null;
  /** The cheapest tiermix run (any swept target) at least as good as KubeAI at the default target, and its saving. */
  oursAtKubeSlo: { target: number; reduction: number } | null;
  /** The cheapest KubeAI run at least as good as tiermix at the default target, and tiermix's saving against it. */
  kubeAtOursSlo: { target: number; reduction: number } | null;
}

/** At least as good: SLO attainment and request violations both no worse. */
const asGood = (a: SimResult, b: SimResult) => a.sloAttainment >= b.sloAttainment - 1e-9 && a.violations <= b.violations;

function cheapest(runs: readonly TargetedResult[], policy: string, than: SimResult): TargetedResult | null {
  const ok = runs.filter((r) => r.policy === policy && asGood(r, than)).sort((a, b) => a.gpuSeconds - b.gpuSeconds);
  return ok[0] ?? null;
}

export function verdicts(results: readonly TraceResults[]): Verdict[] {
  return results.map((r) => {
    const ours = r.runs.find((x) => x.policy === 'tiermix')!;
    const kube = r.runs.find((x) => x.policy === 'kubeai')!;
    const gpuReduction = 1 - ours.gpuSeconds / kube.gpuSeconds;
    const sloDelta = ours.sloAttainment - kube.sloAttainment;
    const burst = r.trace.bursts > 0 ? (kube.burstViolations === 0 ? (ours.burstViolations === 0 ? 0 : -Infinity) : 1 - ours.burstViolations / kube.burstViolations) : null;
    const o = cheapest(r.sweep, 'tiermix', kube);
    const k = cheapest(r.sweep, 'kubeai', ours);
    return {
      trace: r.trace.name,
      gpuReduction,
      sloDelta,
      gpuGoal: gpuReduction >= 0.2 && sloDelta >= -1e-9,
      burstViolationReduction: burst,
      burstGoal: burst === null ? null : burst >= 0.3,
      oursAtKubeSlo: o ? { target: o.target, reduction: 1 - o.gpuSeconds / kube.gpuSeconds } : null,
      kubeAtOursSlo: k ? { target: k.target, reduction: 1 - ours.gpuSeconds / k.gpuSeconds } : null,
    };
  });
}

const more = (x: number) => (x >= 0 ? `${f(100 * x)}% fewer` : `${f(-100 * x)}% more`);

function sweepSection(r: TraceResults): string {
  const rows = [...r.sweep]
    .sort((a, b) => a.policy.localeCompare(b.policy) || a.target - b.target)
    .map((x) => [x.policy, x.target, int(x.gpuSeconds), pct(x.sloAttainment), int(x.violations), r.trace.bursts > 0 ? int(x.burstViolations) : '-', f(x.waitP99, 2)]);
  return ['Both autoscalers at other targets (in-flight per replica), for the comparison at equal SLO:', '', table(['policy', 'target', 'GPU-s', 'SLO attainment', 'requests waiting > SLO', 'of them during bursts', 'wait p99 (s)'], rows), ''].join('\n');
}

function traceSection(r: TraceResults, sloWaitS: number): string {
  const kube = r.runs.find((x) => x.policy === 'kubeai')!;
  const rows = r.runs.map((x) => [
    x.policy,
    int(x.gpuSeconds),
    x.policy === 'kubeai' ? '-' : signed(x.gpuSeconds / kube.gpuSeconds - 1),
    f(x.gpuSecondsPerRequest, 3),
    pct(x.sloAttainment),
    f(x.waitP95, 2),
    f(x.waitP99, 2),
    `${int(x.violations)} (${pct(x.violations / Math.max(1, x.requests), 2)})`,
    r.trace.bursts > 0 ? int(x.burstViolations) : '-',
    int(x.held),
    int(x.scaleEvents),
    int(x.podsStarted),
    int(x.peakGpus),
  ]);
  const split = r.runs.map((x) => [x.policy, ...x.tiers.map((t) => `${int(t.gpuSeconds.total)} (load ${int(t.gpuSeconds.loading)}, idle ${int(t.gpuSeconds.idle)}); ${f(t.meanReplicas)} avg / ${t.maxReplicas} max`)]);
  return [
    `### ${r.trace.name}: ${r.trace.description}`,
    '',
    `${int(r.runs[0]!.requests)} requests measured (after a 15-minute warm-up at the starting rate). Static at peak: ${r.staticReplicas.join(' / ')} replicas. All autoscaled runs start warm at ${r.initial.join(' / ')}.`,
    '',
    table(
      ['policy', 'GPU-s', 'vs KubeAI', 'GPU-s / req', 'SLO attainment', 'wait p95 (s)', 'wait p99 (s)', `requests waiting > ${sloWaitS} s`, 'of them during bursts', 'held', 'scale events', 'pods started', 'peak GPUs'],
      rows,
    ),
    '',
    sweepSection(r),
    'Per tier (GPU-seconds, of which loading and idle; replicas):',
    '',
    table(['policy', ...r.runs[0]!.tiers.map((t) => t.name)], split),
    '',
  ].join('\n');
}

export function renderReport(input: ReportInput): string {
  const { params: p, machine: m } = input;
  const v = verdicts(input.results);
  const s = p.settings;
  const verdictLines = v.map((x) => {
    const gpu = `${x.trace}: tiermix uses ${x.gpuReduction >= 0 ? `${f(100 * x.gpuReduction)}% fewer` : `${f(-100 * x.gpuReduction)}% more`} GPU-seconds than KubeAI-style per-tier scaling, at ${x.sloDelta >= 0 ? `${f(100 * x.sloDelta)} points better or equal` : `${f(-100 * x.sloDelta)} points worse`} SLO attainment: GPU goal (>= 20% fewer at equal or better SLO) **${x.gpuGoal ? 'MET' : 'MISSED'}**${x.gpuGoal ? '' : x.gpuReduction < 0.2 ? ` (short by ${f(100 * (0.2 - x.gpuReduction))} points)` : ' (SLO worse)'}.`;
    const burst = x.burstViolationReduction === null ? '' : ` Burst violations: ${x.burstViolationReduction === -Infinity ? 'KubeAI had none, tiermix some' : more(x.burstViolationReduction)} (goal >= 30% fewer): **${x.burstGoal ? 'MET' : 'MISSED'}**.`;
    const iso1 = x.kubeAtOursSlo
      ? ` At equal SLO: KubeAI needs target ${x.kubeAtOursSlo.target} to be as good as tiermix at 8; tiermix uses ${more(x.kubeAtOursSlo.reduction)} GPU-seconds than that.`
      : ' At equal SLO: no swept KubeAI target was as good as tiermix at 8.';
    const iso2 = x.oursAtKubeSlo
      ? ` The cheapest tiermix run as good as KubeAI at 8 (target ${x.oursAtKubeSlo.target}) uses ${more(x.oursAtKubeSlo.reduction)} GPU-seconds than KubeAI at 8.`
      : ' No swept tiermix target was as good as KubeAI at 8.';
    return `- ${gpu}${burst}${iso1}${iso2}`;
  });
  return [
    `# Autoscaling benchmark, ${input.date} (SIMULATION)`,
    '',
    '**This is a simulation.** No GPU, vLLM or Kubernetes ran: requests are replayed through a discrete-event model of the',
    "cluster built from the simulator's latency profiles, the routing paths tiermix's policy takes on MMLU-Pro, and",
    "stated cold-start times. The autoscalers are the controller's own code (controller/autoscale) fed what the router would",
    'export. Deterministic from the seed: rerunning gives the same numbers on any machine.',
    '',
    `Command: \`node dist/test/bench/autoscale/run.js${p.quick ? ' --quick' : ''} --seed ${p.seed}\`. Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}; load average at start ${m.loadAverageAtStart.join(' / ')} (the machine was shared; only the wall time depends on it): ${f(input.wallSeconds, 0)} s.`,
    '',
    '## Verdict against the goals',
    '',
    ...verdictLines,
    '',
    ...input.results.map((r) => traceSection(r, s.sloWaitS)),
    '## Parameters',
    '',
    '### Tiers (the simulated cluster)',
    '',
    table(
      ['tier', 'latency profile', 'GPUs / replica', 'cold start (s)', 'max-num-seqs', 'replicas min-max', 'target in-flight / replica', 'scale-down delay (s)'],
      p.tiers.map((t) => [t.name, t.profile, t.gpus, t.coldStartS, t.maxNumSeqs, `${t.min}-${t.max}`, t.targetInFlightPerReplica, t.scaleDownDelaySeconds]),
    ),
    '',
    '- Service times: the simulator\'s latency model (router/sim/latency.ts; sources in docs/simulator.md): prefill overhead +',
    '  prompt tokens x prefill time, then one inter-token step per output token, all x the load factor of the batch the call',
    '  joins (fixed at admission). A replica runs up to max-num-seqs sequences; a verification (n = 8) takes 8. Beyond that',
    '  calls wait in FIFO order (vLLM\'s waiting queue). KV-cache limits are not modelled (at these batch sizes they do not bind).',
    `- Tokens: prompt ${f(p.promptTokens)} (MMLU-Pro train mean), answers ${p.answerTokens.map((x) => f(x)).join(' / ')} (each model's recorded outputs), verification prompt + ${s.verifySamples} x ${s.verifyTokensPerSample} tokens.`,
    '- Cold start (pod scheduled -> Ready, GPUs held throughout): 60 / 90 / 180 s, with the image on the node and the weights',
    '  on a local cache. Stated, not measured: public write-ups put a 70B cold start at 1.5-6 min end to end (paperscode.org,',
    '  "Cut Kubernetes cold start times for serverless LLMs") and the VRAM load of a 70B from local NVMe at 30-60 s plus engine',
    '  start-up (kunwar.page, "The model cold-start problem and pre-cached weights"); 7B/13B scale with their weights.',
    '- Router: least-loaded ready replica per call; a tier without a ready replica holds its calls until one is Ready.',
    '- GPUs are always available (no node pool limit, no scheduling delay); a scaled-down replica finishes its running',
    '  calls (its GPUs are held until then), its queued ones go to other replicas.',
    '',
    '### Routing (which tiers each request visits)',
    '',
    `- ${p.pathsSource}.`,
    `- Paths: ${Object.entries(p.pathShares).sort((a, b) => b[1] - a[1]).map(([k, x]) => `\`${k}\` ${pct(x)}`).join(', ')} ("0>2 v0": asked tiers 0 then 2, verified tier 0). Tiers asked: ${p.askedShares.map((x) => pct(x)).join(' / ')}. Accuracy of the returned answers: ${pct(p.accuracy)}.`,
    '- Each simulated request draws one test question\'s path at random (seeded).',
    '',
    '### Policies',
    '',
    '- **static-peak**: every tier fixed at ceil(in-flight at the peak rate / target) for the whole trace.',
    `- **kubeai**: KubeAI's documented algorithm per tier (controller/autoscale/kubeai-strategy.ts): every ${p.kubeai.intervalSeconds} s, a ${p.kubeai.timeWindowSeconds / 60}-minute zero-seeded moving average of in-flight, ceil(avg / targetRequests), down after ceil(${p.kubeai.scaleDownDelaySeconds} s / interval) consecutive lower decisions (its defaults); scale from zero as soon as a request arrives (its proxy does this).`,
    `- **tiermix**: controller/autoscale/tiermix-strategy.ts: ${p.tiermix.averageWindowSeconds} s moving average, up at once, down after the tier's scale-down delay of lower recommendations, pre-scaling from the escalation flow (counters over ${p.tiermix.flowWindowSeconds} s), vLLM waiting queues as a saturation guard; scale from zero at the next tick (the router holds meanwhile).`,
    '- **tiermix-no-prescale**: the same without pre-scaling (what the cascade view adds).',
    '- All autoscalers tick every 10 s and read the same in-flight signal (calls held, queued or running at a tier, as the router counts them).',
    '- **static-peak** is sized by simulation: 20 minutes at the trace\'s peak rate on ample replicas give each tier\'s in-flight, then once more at ceil(in-flight / 8).',
    '- **Equal SLO**: a run is "as good" as another when both its SLO attainment and its count of requests over the SLO are no worse. The sweep runs both autoscalers at targets 5, 6, 8 and 12.',
    '',
    '### Traces and SLO',
    '',
    `- Traces (seed ${p.seed}): ${JSON.stringify(p.traces)}.`,
    `- SLO: a request's queue wait (time held at the router plus time in vLLM's waiting queue, summed over its calls) at most ${s.sloWaitS} s. **SLO attainment** = share of ${s.sloWindowS}-second windows (by arrival) whose p95 queue wait meets it. "During bursts" = arriving in a burst or within ${s.burstTailS / 60} minutes after it (escalations land on the larger tiers later).`,
    '- GPU-seconds: every replica from creation (scheduled) to removal, times its GPUs: loading + idle + serving (busy with at least one sequence), after the warm-up.',
    '',
  ].join('\n');
}
