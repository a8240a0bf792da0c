// `tiermix demo` end to end: choose the questions, start the stack (the controller's local runtime and the router),
// send the routed workload as a low -> high -> low ramp, wait for the tiers to scale back, send the same sample pinned
// to the largest tier, read the router's and the controller's metrics, build the report, stop everything.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatedQuestions, loadMmluPro, type MmluQuestion } from '../sim/dataset.js';
import { DEMO_SCALING } from './cascade.js';
import { ChildProcesses } from './children.js';
import type { DataChoice } from './data-source.js';
import { policySnapshot, runLoad } from './load.js';
import { crossCheck, parsePrometheusText, type PromSample } from './metrics-check.js';
import { Progress, type ProgressSink } from './progress.js';
import { rampSchedule, stepOf, type RampStep } from './ramp.js';
import { buildReport, type DemoReport } from './report.js';
import { fetchCascade, modelledPrices, startStack, type Stack } from './stack.js';
import type { ScalingInputs } from './scaling-report.js';
import { meterSnapshot } from './tier-cost.js';
import { TimelineRecorder, type PhaseMark } from './timeline.js';
import { DEMO_CASCADE, DEMO_TIERS, describePolicy, type DemoPolicy, type DemoTier, type RequestResult } from './types.js';
import { sampleQuestions, testSplit } from './workload.js';

export interface DemoOptions {
  data: DataChoice;
  requests: number;
  /** Requests in flight at the ramp's peak (all the time with ramp off). */
  concurrency: number;
  /** Send the requests low -> high -> low (ramp.ts), so that the tiers scale up and back down. */
  ramp: boolean;
  timeScale: number;
  /** Modelled seconds a new replica takes to load. */
  coldStartSeconds: number;
  /** spec.tiers[].autoscaling.scaleDownDelaySeconds (modelled); default DEMO_SCALING's. */
  scaleDownDelaySeconds?: number;
  seed: number;
  compare: boolean;
  policy: DemoPolicy;
  samples: number;
  verifier: string;
  startupTimeoutSeconds: number;
}

export interface DemoIo {
  /** Progress and status lines (stderr in the CLI). */
  stderr: ProgressSink;
  /** Aborting stops the run and its children (Ctrl-C). */
  signal?: AbortSignal;
  /** Receives the children's manager as soon as it exists (the CLI kills them on process exit). */
  onChildren?: (children: ChildProcesses) => void;
}

export interface DemoRun {
  report: DemoReport;
  /** Processes the demo started, and the replica processes its controller started (all stopped by the time runDemo returns). */
  processes: { name: string; pid: number }[];
}

/** Seed of the generated question set; the simulators get the same one so they recognise the questions. */
export const GENERATED_SET_SEED = 1;
/** How many generated questions the simulators know (their default --generated-count). */
const GENERATED_SET_SIZE = 2000;
/**
 * The cool-down ends when every tier is back at its minimum, or after the scale-down delay plus this many modelled
 * seconds (the autoscaler's in-flight average spans 300 s; a tier sized by it comes down within that).
 */
export const COOL_DOWN_MARGIN_SECONDS = 300;

async function loadSample(o: DemoOptions, tiers: readonly DemoTier[]): Promise<MmluQuestion[]> {
  const pool = o.data.dir
    ? testSplit(await loadMmluPro(o.data.dir, { split: 'test', models: tiers.map((t) => t.model) }))
    : generatedQuestions(GENERATED_SET_SIZE, GENERATED_SET_SEED);
  return sampleQuestions(pool, o.requests, o.seed);
}

const scrape = async (url: string, signal: AbortSignal): Promise<PromSample[]> => parsePrometheusText(await (await fetch(`${url}/metrics`, { signal })).text());

/** Wait (polling the controller) until every tier runs its minimum replicas again; false when the limit came first. */
async function coolDown(stack: Stack, tiers: readonly DemoTier[], limitMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    signal.throwIfAborted();
    const view = await fetchCascade(stack.controllerUrl, DEMO_CASCADE, signal);
    const atMin = tiers.every((t) => {
      const s = view?.status?.tiers?.find((x) => x.name === t.tier);
      return s !== undefined && s.desiredReplicas === t.replicas.min && s.replicas === t.replicas.min;
    });
    if (atMin) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export async function runDemo(o: DemoOptions, io: DemoIo): Promise<DemoRun> {
  const tiers = DEMO_TIERS;
  const scaling = { ...DEMO_SCALING, ...(o.scaleDownDelaySeconds !== undefined ? { scaleDownDelaySeconds: o.scaleDownDelaySeconds } : {}) };
  const log = (line: string) => io.stderr.write(`tiermix demo: ${line}\n`);
  log(o.data.dir ? `questions: MMLU-Pro test split from ${o.data.dir} (${o.data.note})` : `questions: generated set (${o.data.note})`);
  const sample = await loadSample(o, tiers);

  const children = new ChildProcesses();
  io.onChildren?.(children);
  // A child that dies mid-run fails the run with its output, instead of a pile of connection errors.
  const failed = new AbortController();
  children.onUnexpectedExit = (_name, detail) => failed.abort(new Error(detail));
  const signal = AbortSignal.any([failed.signal, ...(io.signal ? [io.signal] : [])]);
  const workDir = mkdtempSync(join(tmpdir(), 'tiermix-demo-'));
  mkdirSync(join(workDir, 'replicas'));
  let timeline: TimelineRecorder | undefined;
  try {
    const t0 = performance.now();
    const stack = await startStack(
      {
        tiers, cascade: DEMO_CASCADE, dataDir: o.data.dir, generatedSeed: GENERATED_SET_SEED, timeScale: o.timeScale,
        verifier: o.verifier, samples: o.samples, policy: o.policy, coldStartSeconds: o.coldStartSeconds, scaling,
        startupTimeoutMs: o.startupTimeoutSeconds * 1000, workDir, signal, log,
        onController: (url, startedAt) => {
          timeline = new TimelineRecorder(url, DEMO_CASCADE, startedAt);
          timeline.start();
        },
      },
      children,
    );
    const startupWallSeconds = (performance.now() - t0) / 1000;
    const recorder = timeline!;
    const marks: PhaseMark[] = [{ atMs: 0, phase: 'start-up' }];
    const schedule = rampSchedule(sample.length, o.concurrency, o.ramp);
    log(`controller at ${stack.controllerUrl} (/cascades, /metrics), router ready at ${stack.routerUrl} after ${startupWallSeconds.toFixed(1)} s; sending ${o.requests} requests, ${schedule.map((s) => `${s.requests} at ${s.concurrency}`).join(' -> ')} in flight`);

    // Generous per-request bound: a full escalation at the slowest tier, in wall seconds.
    const timeoutMs = Math.max(60_000, 600_000 * o.timeScale);
    const phase = async (label: string, model: string, kind: 'routed' | 'pinned', steps: readonly RampStep[]) => {
      const progress = new Progress(io.stderr, label, sample.length);
      const started = performance.now();
      let step = -1;
      const concurrency = (index: number) => {
        const k = stepOf(steps, index);
        if (k !== step) {
          step = k;
          marks.push({ atMs: performance.now() - stack.startedAt, phase: `${kind} ${steps[k]!.label}` });
        }
        return steps[k]!.concurrency;
      };
      const results = await runLoad({
        routerUrl: stack.routerUrl, model, questions: sample, concurrency, timeoutMs, signal,
        onResult: (r: RequestResult) => progress.record(r),
      });
      progress.finish();
      return { results, wallSeconds: (performance.now() - started) / 1000 };
    };
    const meter = async () => meterSnapshot(await scrape(stack.controllerUrl, signal), `default/${DEMO_CASCADE}`, tiers.map((t) => t.tier));

    const meters: ScalingInputs['meters'] = { routedStart: await meter(), routedEnd: {}, cooledDown: {} };
    const routed = await phase(`routed (model ${DEMO_CASCADE})`, DEMO_CASCADE, 'routed', schedule);
    meters.routedEnd = await meter();
    const routerAfterRouted = await scrape(stack.routerUrl, signal);
    // The policy's state after the routed phase (lambda, live cost estimates), as /v1/route shows it.
    const policyAtEnd = await policySnapshot(stack.routerUrl, DEMO_CASCADE, sample[0]!, signal);

    marks.push({ atMs: performance.now() - stack.startedAt, phase: 'cool-down' });
    log('routed phase done; waiting for the tiers to scale back to their minimum (cool-down)');
    const coolStarted = performance.now();
    const settled = await coolDown(stack, tiers, (scaling.scaleDownDelaySeconds + COOL_DOWN_MARGIN_SECONDS) * o.timeScale * 1000, signal);
    const coolDownWallSeconds = (performance.now() - coolStarted) / 1000;
    meters.cooledDown = await meter();

    const largest = tiers[tiers.length - 1]!;
    let compare: { results: RequestResult[]; wallSeconds: number } | null = null;
    if (o.compare) {
      // The same ramp, so that the metered GPU-seconds of the two phases compare like for like.
      meters.pinnedStart = await meter();
      compare = await phase(`always-largest (model ${largest.name})`, largest.name, 'pinned', schedule);
      meters.pinnedEnd = await meter();
    }
    // The end of the timeline comes after the recorder's last poll, so the state it read (e.g. the cool-down's final
    // scale-down) falls inside the timeline rather than just after its end.
    const points = await recorder.stop();
    const endAtMs = performance.now() - stack.startedAt;

    const metricsCheck = crossCheck({
      samples: await scrape(stack.routerUrl, signal),
      cascade: DEMO_CASCADE,
      tiers: tiers.map((t) => t.name),
      routed: routed.results,
      ...(compare ? { pinned: { tier: largest.name, results: compare.results } } : {}),
    });
    const prices = modelledPrices(o.policy, tiers);
    const realTexts = o.data.dir !== null && tiers.every((t) => existsSync(join(o.data.dir!, 'outputs', `${t.model}.jsonl.gz`)));
    const report = buildReport({
      tiers, cascade: DEMO_CASCADE, sample, concurrency: o.concurrency, seed: o.seed, timeScale: o.timeScale,
      data: { source: o.data.dir ? 'mmlu-pro' : 'generated', dir: o.data.dir, note: o.data.note, realTexts },
      verifier: { spec: o.verifier, samples: o.samples },
      policy: { ...o.policy, description: describePolicy(o.policy), ...(policyAtEnd ? { atEnd: policyAtEnd } : {}) },
      routed, compare, metricsCheck, startupWallSeconds,
      ...(prices ? { prices } : {}),
      scaling: {
        schedule, settings: scaling, coldStartSeconds: o.coldStartSeconds,
        points, marks, endAtMs, settled, coolDownWallSeconds, meters, routerAfterRouted,
      },
    });
    return { report, processes: [...children.pids, ...[...recorder.replicaPids].map(([name, pid]) => ({ name: `replica ${name}`, pid }))] };
  } finally {
    io.stderr.write('tiermix demo: stopping the router and the controller (which stops the replicas)\n');
    await timeline?.stop().catch(() => undefined);
    // The controller stops its replicas first (SIGTERM, then SIGKILL after 5 s each): give it longer than that.
    await children.stopAll(8000);
    rmSync(workDir, { recursive: true, force: true });
  }
}
