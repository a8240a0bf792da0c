// The autoscaling benchmark report as Markdown (docs/benchmarks/autoscaling-<date>.md): tables and parameters
// here, the verdicts and the reading of the results in analysis.ts; everything from the run's numbers.
import { describeMachine, type MachineInfo } from '../machine.js';
import { analysisSection, verdictSection } from './analysis.js';
import { f, find, int, pct, signed, table } from './format.js';
import type { LearnedTier } from './policies.js';
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
  tiers: { name: string; profile: string; gpus: number; coldStartS: number; maxNumSeqs: number; timeFactorUnderLoad: number; min: number; max: number; targetInFlightPerReplica: number; scaleDownDelaySeconds: number }[];
  settings: Omit<SimSettings, 'tiers'> & { tiers?: undefined };
  traces: TraceSettings;
  kubeai: { intervalSeconds: number; timeWindowSeconds: number; scaleDownDelaySeconds?: number };
  kubeaiSweep: number[];
  tiermix: {
    averageWindowSeconds: number;
    burstWindowSeconds: number;
    flowWindowSeconds: number;
    headroomZ: number;
    hysteresisZ: number;
    maxUtilisation: number;
    priorSlowdownAtCapacity: number;
    halfLifeSeconds: number;
    latencyBound: number;
    sweepZ: number[];
  };
}

/** One simulated run: the policy's result, the tiers' target (KubeAI's targetRequests), and its knob setting. */
export type BenchRun = SimResult & { target: number; knob: string; main: boolean };

export interface TraceResults {
  trace: { name: string; description: string; durationS: number; bursts: number };
  staticReplicas: number[];
  initial: number[];
  /** static-peak, kubeai at target 8, tiermix and its variants. */
  runs: BenchRun[];
  /** KubeAI at every swept target and tiermix at every swept headroom (the defaults included). */
  sweep: BenchRun[];
  /** What tiermix's default run had learned by the end. */
  learned: LearnedTier[];
}

export interface ReportInput {
  date: string;
  machine: MachineInfo;
  wallSeconds: number;
  params: BenchParameters;
  results: TraceResults[];
}

function summaryTable(results: readonly TraceResults[]): string {
  const rows = results.map((r) => {
    const st = find(r.runs, 'static-peak');
    const k = find(r.runs, 'kubeai');
    const o = find(r.runs, 'tiermix');
    return [r.trace.name, int(st.gpuSeconds), int(k.gpuSeconds), int(o.gpuSeconds), f(o.gpuSeconds / k.gpuSeconds, 3), f(o.gpuSeconds / st.gpuSeconds, 3), f(k.gpuSeconds / st.gpuSeconds, 3), `${pct(st.sloAttainment)} / ${pct(k.sloAttainment)} / ${pct(o.sloAttainment)}`, `${int(k.held)} / ${int(o.held)}`, `${int(k.scaleEvents)} / ${int(o.scaleEvents)}`];
  });
  return table(['trace', 'GPU-s static-peak', 'GPU-s KubeAI', 'GPU-s tiermix', 'tiermix / KubeAI', 'tiermix / static', 'KubeAI / static', 'SLO attainment static / KubeAI / tiermix', 'held KubeAI / tiermix', 'scale events KubeAI / tiermix'], rows);
}

function traceSection(r: TraceResults, sloWaitS: number): string {
  const kube = find(r.runs, 'kubeai');
  const rows = r.runs.map((x) => [
    x.policy,
    x.policy === 'static-peak' ? `${r.staticReplicas.join('/')} replicas` : x.knob,
    int(x.gpuSeconds),
    x.policy === 'kubeai' ? '-' : signed(x.gpuSeconds / kube.gpuSeconds - 1),
    f(x.gpuSecondsPerRequest, 3),
    pct(x.sloAttainment),
    f(x.waitP95, 2),
    `${int(x.violations)} (${pct(x.violations / Math.max(1, x.requests), 2)})`,
    r.trace.bursts > 0 ? int(x.burstViolations) : '-',
    int(x.held),
    int(x.scaleEvents),
    int(x.podsStarted),
    int(x.peakGpus),
    `${f(x.latencyP50)} / ${f(x.latencyP95)}`,
  ]);
  const sweepRows = [...r.sweep]
    .sort((a, b) => a.policy.localeCompare(b.policy) || a.knob.localeCompare(b.knob, 'en', { numeric: true }))
    .map((x) => [x.policy, x.knob, int(x.gpuSeconds), signed(x.gpuSeconds / kube.gpuSeconds - 1), pct(x.sloAttainment), int(x.violations), r.trace.bursts > 0 ? int(x.burstViolations) : '-', f(x.waitP99, 2), `${f(x.latencyP50)} / ${f(x.latencyP95)}`]);
  const tierRows = r.runs.map((x) => [
    `${x.policy}${x.policy === 'static-peak' ? '' : ` (${x.knob})`}`,
    ...x.tiers.map((t) => `${int(t.gpuSeconds.total)} (load ${int(t.gpuSeconds.loading)}, idle ${int(t.gpuSeconds.idle)}); ${f(t.meanReplicas)} avg / ${t.maxReplicas} max; batch ${f(t.meanBatch)}; wait ${int(t.waitS)} s`),
  ]);
  const learnedRows = r.learned.map((l) => [
    l.tier,
    l.capacity === null ? 'not known' : `${f(l.capacity)} (${l.capacitySource}); true ${l.trueCapacity}`,
    l.slowdownAtCapacity === null ? 'n/a' : `x${f(l.slowdownAtCapacity, 2)} (${int(l.latencyReadings)} readings); true x${l.trueSlowdown}`,
    l.dispersion === null ? 'n/a' : f(l.dispersion, 2),
    l.seqsPerCall === null ? 'n/a' : f(l.seqsPerCall, 2),
    l.coldStartS === null ? 'not measured' : `${f(l.coldStartS, 0)} s; true ${l.trueColdStartS} s`,
  ]);
  return [
    `### ${r.trace.name}: ${r.trace.description}`,
    '',
    `${int(r.runs[0]!.requests)} requests measured (after a 15-minute warm-up at the starting rate). Static at peak: ${r.staticReplicas.join(' / ')} replicas. Autoscaled runs start warm at ${r.initial.join(' / ')} (at target 8; scaled for other targets).`,
    '',
    table(['policy', 'setting', 'GPU-s', 'vs KubeAI', 'GPU-s / req', 'SLO attainment', 'wait p95 (s)', `requests waiting > ${sloWaitS} s`, 'of them during bursts', 'held', 'scale events', 'pods started', 'peak GPUs', 'latency p50 / p95 (s)'], rows),
    '',
    'Both autoscalers over their knob (KubeAI: targetRequests; tiermix: headroom z), for the comparison at equal SLO:',
    '',
    table(['policy', 'setting', 'GPU-s', 'vs KubeAI at 8', 'SLO attainment', `requests waiting > ${sloWaitS} s`, 'of them during bursts', 'wait p99 (s)', 'latency p50 / p95 (s)'], sweepRows),
    '',
    'Per tier (GPU-seconds, of which loading and idle; replicas; sequences running per Ready replica; seconds requests waited there):',
    '',
    table(['policy', ...r.runs[0]!.tiers.map((t) => t.name)], tierRows),
    '',
    "What tiermix's capacity model had learned by the end of its run, against the simulator's true figures:",
    '',
    table(['tier', 'capacity (sequences per replica)', 'step slowdown of a full batch', 'variance / mean of one replica\'s batch', 'sequences per call', 'cold start'], learnedRows),
    '',
  ].join('\n');
}

function parametersSection(p: BenchParameters): string {
  const s = p.settings;
  const t = p.tiermix;
  return [
    '## Parameters and assumptions',
    '',
    '### Tiers (the simulated cluster)',
    '',
    table(
      ['tier', 'latency profile', 'GPUs / replica', 'cold start (s)', 'max-num-seqs', 'step slowdown at max-num-seqs', 'replicas min-max', 'target in-flight / replica', 'scale-down delay (s)'],
      p.tiers.map((x) => [x.name, x.profile, x.gpus, x.coldStartS, x.maxNumSeqs, `x${x.timeFactorUnderLoad}`, `${x.min}-${x.max}`, x.targetInFlightPerReplica, x.scaleDownDelaySeconds]),
    ),
    '',
    "- Service times: the simulator's latency model (router/sim/latency.ts; sources in docs/simulator.md): prefill overhead +",
    '  prompt tokens x prefill time, then one inter-token step per output token, all x the load factor of the batch the call',
    '  joins (1 for one sequence, rising linearly to the slowdown above at max-num-seqs; fixed at admission). A replica runs',
    '  up to max-num-seqs sequences; a verification (n = 8) takes 8. Beyond that calls wait in FIFO order in that replica\'s',
    '  queue (vLLM\'s waiting queue: a call the router has sent stays on that replica). KV-cache limits are not modelled',
    '  (at these batch sizes they do not bind), so the KV-based capacity estimate is not exercised here.',
    `- Tokens: prompt ${f(p.promptTokens)} (MMLU-Pro train mean), answers ${p.answerTokens.map((x) => f(x)).join(' / ')} (each model's recorded outputs), verification prompt + ${s.verifySamples} x ${s.verifyTokensPerSample} tokens.`,
    '- Cold start (pod scheduled -> Ready, GPUs held throughout): 60 / 90 / 180 s, with the image on the node and the weights',
    '  on a local cache. Stated, not measured: public write-ups put a 70B cold start at 1.5-6 min end to end (paperscode.org,',
    '  "Cut Kubernetes cold start times for serverless LLMs") and the VRAM load of a 70B from local NVMe at 30-60 s plus engine',
    '  start-up (kunwar.page, "The model cold-start problem and pre-cached weights"); 7B/13B scale with their weights.',
    "- Router: each call goes to the Ready replica with the fewest calls in flight (the router's least-loaded pool counts calls,",
    '  not sequences); a tier without a Ready replica holds its calls until one is Ready (an unbounded hold).',
    '- GPUs are always available (no node pool limit, no scheduling delay); a scaled-down replica finishes its running',
    '  calls (its GPUs are held until then), its queued ones go to other replicas.',
    '- What the autoscalers read: every 10 s, the router\'s in-flight calls per tier and its counters (arrivals per tier,',
    '  escalations, upstream seconds and calls), as controller/signals builds them; tiermix also reads every Ready replica\'s',
    '  vLLM gauges and inter-token latency counters (running and waiting in sequences, as vLLM v1 counts an n = 8 request),',
    '  and each tier\'s max-num-seqs as `--max-num-seqs` in the spec\'s vLLM arguments would give it (except tiermix-learned-capacity).',
    '',
    '### Routing (which tiers each request visits)',
    '',
    `- ${p.pathsSource}.`,
    `- Paths: ${Object.entries(p.pathShares).sort((a, b) => b[1] - a[1]).map(([k, x]) => `\`${k}\` ${pct(x)}`).join(', ')} ("0>2 v0": asked tiers 0 then 2, verified tier 0). Tiers asked: ${p.askedShares.map((x) => pct(x)).join(' / ')}. Accuracy of the returned answers: ${pct(p.accuracy)}.`,
    "- Each simulated request draws one test question's path at random (seeded); paths do not react to load or to a GPU cap.",
    '',
    '### Policies',
    '',
    '- **static-peak**: every tier fixed at ceil(in-flight at the peak rate / 8), sized by simulation (20 minutes at the',
    '  trace\'s peak rate on ample replicas, then once more at that size).',
    `- **kubeai**: KubeAI's documented algorithm per tier (controller/autoscale/kubeai-strategy.ts; its source in docs/autoscaling.md): every ${p.kubeai.intervalSeconds} s a ${p.kubeai.timeWindowSeconds / 60}-minute zero-seeded moving average of in-flight, desired = ceil(avg / targetRequests) with targetRequests = the tiers' targetInFlightPerReplica (8, the ModelCascade default; KubeAI's own default is 100), down only after ceil(${p.kubeai.scaleDownDelaySeconds} s / interval) consecutive lower decisions (its default scaleDownDelaySeconds), scale from zero as soon as a request arrives (its proxy does this). Swept over targets ${[...p.kubeaiSweep, 8].sort((a, b) => a - b).join(', ')}.`,
    `- **tiermix**: controller/autoscale/tiermix-strategy.ts with its defaults: running load over ${t.averageWindowSeconds} s (bursts over ${t.burstWindowSeconds} s), pre-scaling from the escalation flow (${t.flowWindowSeconds} s), each tier sized by capacity (capacity.ts): the fewest replicas whose settled batch r satisfies r + z sqrt(I r) <= ${t.maxUtilisation} x capacity with z = ${t.headroomZ} (down only where z + ${t.hysteresisZ} fits), the latency line's prior x${t.priorSlowdownAtCapacity} at capacity until readings tell (half-life ${t.halfLifeSeconds / 60} min); scale-down after the tier's delay or its measured cold start, whichever is longer; scale from zero at the next tick (the router holds meanwhile). Swept over z = ${[...t.sweepZ, t.headroomZ].sort((a, b) => a - b).join(', ')}.`,
    '- **tiermix-fixed-target**: the same strategy without engine readings: the fixed target of 8 in flight per replica (what the controller does when it cannot reach the vLLM pods).',
    '- **tiermix-learned-capacity**: engine readings but no `--max-num-seqs`: the capacity must be learned from replicas seen queueing (the fixed target until then).',
    '- **tiermix-no-prescale**: without pre-scaling from the escalation flow.',
    `- **tiermix-latency-bounded**: plans no batch whose steps run more than x${t.latencyBound} slower than one sequence's (by its fitted latency line): about the batch sizes KubeAI's target 8 gives.`,
    '- **Equal SLO**: a run is "as good" as another when its SLO attainment and its count of requests over the SLO are both no worse.',
    '',
    '### Traces and SLO',
    '',
    `- Traces (seed ${p.seed}): ${JSON.stringify(p.traces)}.`,
    `- SLO: a request's queue wait (time held at the router plus time in vLLM's waiting queue, summed over its calls) at most ${s.sloWaitS} s. **SLO attainment** = share of ${s.sloWindowS}-second windows (by arrival) whose p95 queue wait meets it. "During bursts" = arriving in a burst or within ${s.burstTailS / 60} minutes after it (escalations land on the larger tiers later). **Latency**: arrival to the last token of the request's last call, queue wait included (the SLO does not bound it; it is reported because fuller batches raise it).`,
    '- GPU-seconds: every replica from creation (scheduled) to removal, times its GPUs: loading + idle + serving (busy with at least one sequence), after the warm-up.',
    '',
  ].join('\n');
}

export function renderReport(input: ReportInput): string {
  const { params: p, machine: m } = input;
  return [
    `# Autoscaling benchmark, ${input.date} (SIMULATION)`,
    '',
    '**This is a simulation.** No GPU, vLLM or Kubernetes ran: requests are replayed through a discrete-event model of the',
    "cluster built from the simulator's latency profiles, the routing paths tiermix's policy takes on MMLU-Pro, and",
    "stated cold-start times. The autoscalers are the controller's own code (controller/autoscale) fed what the router and",
    'the vLLM replicas would export. Deterministic from the seed: rerunning gives the same numbers on any machine. Every',
    'table, verdict and sentence of the analysis below is generated from this run by test/bench/autoscale/{report,analysis}.ts.',
    '',
    `Command: \`node dist/test/bench/autoscale/run.js${p.quick ? ' --quick' : ''} --seed ${p.seed}\` (or \`make bench\`). Machine: ${describeMachine(m)}, ${m.memoryGiB} GiB, ${m.os}; load average at start ${m.loadAverageAtStart.join(' / ')} (the machine was shared; only the wall time depends on it): ${f(input.wallSeconds, 0)} s.`,
    '',
    verdictSection(input.results, p),
    '## GPU-seconds and ratios',
    '',
    summaryTable(input.results),
    '',
    ...input.results.map((r) => traceSection(r, p.settings.sloWaitS)),
    analysisSection(input.results, p),
    parametersSection(p),
  ].join('\n');
}
