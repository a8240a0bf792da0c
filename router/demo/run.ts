// `tiermix demo` end to end: choose the questions, start the stack, send the routed workload (and the
// same sample pinned to the largest tier), read the router's metrics, build the report, stop everything.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatedQuestions, loadMmluPro, type MmluQuestion } from '../sim/dataset.js';
import { ChildProcesses } from './children.js';
import type { DataChoice } from './data-source.js';
import { policySnapshot, runLoad } from './load.js';
import { crossCheck, parsePrometheusText } from './metrics-check.js';
import { Progress, type ProgressSink } from './progress.js';
import { buildReport, type DemoReport } from './report.js';
import { modelledPrices, startStack } from './stack.js';
import { DEMO_CASCADE, DEMO_TIERS, describePolicy, type DemoPolicy, type DemoTier, type RequestResult } from './types.js';
import { sampleQuestions, testSplit } from './workload.js';

export interface DemoOptions {
  data: DataChoice;
  requests: number;
  concurrency: number;
  timeScale: number;
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
  /** Processes the demo started (all stopped by the time runDemo returns). */
  processes: { name: string; pid: number }[];
}

/** Seed of the generated question set; the simulators get the same one so they recognise the questions. */
export const GENERATED_SET_SEED = 1;
/** How many generated questions the simulators know (their default --generated-count). */
const GENERATED_SET_SIZE = 2000;

async function loadSample(o: DemoOptions, tiers: readonly DemoTier[]): Promise<MmluQuestion[]> {
  const pool = o.data.dir
    ? testSplit(await loadMmluPro(o.data.dir, { split: 'test', models: tiers.map((t) => t.model) }))
    : generatedQuestions(GENERATED_SET_SIZE, GENERATED_SET_SEED);
  return sampleQuestions(pool, o.requests, o.seed);
}

export async function runDemo(o: DemoOptions, io: DemoIo): Promise<DemoRun> {
  const tiers = DEMO_TIERS;
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
  try {
    const t0 = performance.now();
    const stack = await startStack(
      {
        tiers, cascade: DEMO_CASCADE, dataDir: o.data.dir, generatedSeed: GENERATED_SET_SEED, timeScale: o.timeScale,
        verifier: o.verifier, samples: o.samples, policy: o.policy, startupTimeoutMs: o.startupTimeoutSeconds * 1000,
        workDir, signal, log,
      },
      children,
    );
    const startupWallSeconds = (performance.now() - t0) / 1000;
    log(`router ready at ${stack.routerUrl} after ${startupWallSeconds.toFixed(1)} s; sending ${o.requests} requests, ${o.concurrency} in flight`);

    // Generous per-request bound: a full escalation at the slowest tier, in wall seconds.
    const timeoutMs = Math.max(60_000, 600_000 * o.timeScale);
    const phase = async (label: string, model: string) => {
      const progress = new Progress(io.stderr, label, sample.length);
      const started = performance.now();
      const results = await runLoad({
        routerUrl: stack.routerUrl, model, questions: sample, concurrency: o.concurrency, timeoutMs, signal,
        onResult: (r: RequestResult) => progress.record(r),
      });
      progress.finish();
      return { results, wallSeconds: (performance.now() - started) / 1000 };
    };
    const routed = await phase(`routed (model ${DEMO_CASCADE})`, DEMO_CASCADE);
    // The policy's state after the routed phase (lambda, live cost estimates), as /v1/route shows it.
    const policyAtEnd = await policySnapshot(stack.routerUrl, DEMO_CASCADE, sample[0]!, signal);
    const largest = tiers[tiers.length - 1]!;
    const compare = o.compare ? await phase(`always-largest (model ${largest.name})`, largest.name) : null;

    const metricsText = await (await fetch(`${stack.routerUrl}/metrics`, { signal })).text();
    const metricsCheck = crossCheck({
      samples: parsePrometheusText(metricsText),
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
    });
    return { report, processes: children.pids };
  } finally {
    io.stderr.write('tiermix demo: stopping the simulators and the router\n');
    await children.stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }
}
