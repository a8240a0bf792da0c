// `tiermix demo`: simulated tiers and the router on this machine, a workload through them, and a report.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, type CommanderError } from 'commander';
import { intIn, numberIn, oneOf, USAGE_ERROR, validatedBy } from './options.js';
import { DEMO_SCALING } from '../demo/cascade.js';
import { ChildProcesses } from '../demo/children.js';
import { chooseDataDir, DataDirError } from '../demo/data-source.js';
import { formatReport } from '../demo/format.js';
import { runDemo, type DemoOptions } from '../demo/run.js';
import { DEMO_TIERS, type DemoPolicy } from '../demo/types.js';
import { DEFAULT_SIMULATED_VERIFIER, formatVerifierSpec, parseVerifierSpec } from '../verify/simulated-verifier.js';

/** Chosen so the default run (300 requests, both phases) takes about a minute on 2 cores. */
export const DEFAULT_TIME_SCALE = 0.1;
/** dist/router/cli -> the repository root (its parent holds shared/data). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Modelled seconds a new replica loads for (real vLLM: minutes; shortened so the demo stays short). */
export const DEFAULT_COLD_START = 10;

/**
 * The POMDP prices tier calls at the fitted steady-batch costs: with the ramp starting at a few requests in flight and
 * the autoscaler keeping a few per replica, measured costs make the larger tiers look dear at once and the policy stops
 * escalating (docs/demo.md has both runs).
 */
export const DEFAULT_COSTS = 'configured';

/** The demo's default price of a GPU-second (see docs/demo.md for how it was chosen). */
export const DEFAULT_LAMBDA = 0.035;

/** The router's policy block from the flags; flags of the other policy are refused. */
export function policyFrom(f: Pick<DemoFlags, 'policy' | 'threshold' | 'lambda' | 'budget' | 'model' | 'classifier' | 'costs'>): DemoPolicy {
  if (f.policy === 'threshold') {
    const extra = [f.lambda !== undefined && '--lambda', f.budget !== undefined && '--budget', f.model !== 'builtin:default-ladder' && '--model', !f.classifier && '--no-classifier', f.costs !== DEFAULT_COSTS && '--costs'].filter(Boolean);
    if (extra.length > 0) throw new Error(`${extra.join(', ')} apply to --policy pomdp only`);
    return { type: 'threshold', threshold: f.threshold ?? 0.5 };
  }
  if (f.threshold !== undefined) throw new Error('--threshold applies to --policy threshold only');
  if (f.lambda !== undefined && f.budget !== undefined) throw new Error('--lambda and --budget: choose one (a fixed price, or a budget that sets the price)');
  return {
    type: 'pomdp',
    model: f.model,
    classifier: f.classifier,
    costs: f.costs,
    objective: f.budget !== undefined ? { gpuSecondsPerRequest: f.budget } : { lambda: f.lambda ?? DEFAULT_LAMBDA },
  };
}

interface DemoFlags {
  requests: number;
  concurrency: number;
  ramp: boolean;
  coldStart: number;
  scaleDownDelay: number;
  timeScale: number;
  data?: string;
  seed: number;
  compare: boolean;
  policy: 'pomdp' | 'threshold';
  threshold?: number;
  lambda?: number;
  budget?: number;
  model: string;
  classifier: boolean;
  costs: 'measured' | 'configured';
  samples: number;
  verifier: string;
  startupTimeout: number;
  json: boolean;
}

export function registerDemoCommand(program: Command): void {
  const cmd = program
    .command('demo')
    .summary('run the controller (local runtime, SIMULATED tiers) and the router here, send a ramp of requests, print a report')
    .description(
      'SIMULATED serving on this machine, no model and no GPU. Run `tiermix controller --runtime local` on a 3-tier ModelCascade ' +
        `(${DEMO_TIERS.map((t) => `${t.tier}: ${t.model}, ${t.gpusPerReplica} GPU${t.gpusPerReplica > 1 ? 's' : ''}, ${t.replicas.min}-${t.replicas.max} replicas`).join('; ')}), ` +
        'which starts the tiers as simulated vLLM processes and autoscales them, and the router on the configuration the ' +
        'controller writes; send MMLU-Pro questions (or a generated set) through the cascade as a low -> high -> low ramp, ' +
        'then the same questions pinned to the largest tier, and print replicas over time with the scaling reasons, ' +
        'GPU-seconds per tier (serving / idle / loading) and per request and 1k tokens, accuracy, and latency. No model ' +
        'runs: answer texts are recorded outputs, latencies and verifier verdicts are simulated. See docs/demo.md.',
    )
    .option('--requests <n>', 'questions to send', intIn(1, 100_000), 300)
    .option('--concurrency <n>', 'requests in flight at the peak of the ramp (a quarter of it before and after)', intIn(1, 1024), 16)
    .option('--no-ramp', 'keep --concurrency in flight all the time instead of the low -> high -> low ramp')
    .option('--scale-down-delay <s>', 'modelled seconds a lower recommendation must hold before a tier scales down (spec.tiers[].autoscaling.scaleDownDelaySeconds)', intIn(0, 3600), DEMO_SCALING.scaleDownDelaySeconds)
    .option('--cold-start <s>', 'modelled seconds a new replica takes to load (the simulators\' --startup-seconds times the time scale)', numberIn(0, 3600), DEFAULT_COLD_START)
    .option(
      '--time-scale <x>',
      "simulators' latency multiplier; reported times are divided by it (the default takes about a minute on 2 cores)",
      numberIn(0, 10, { minExclusive: true }),
      DEFAULT_TIME_SCALE,
    )
    .option('--data <dir>', 'MMLU-Pro folder (outcomes.jsonl.gz, outputs/), or "none" for generated questions (default: env TIERMIX_DATA, else ../shared/data/mmlu-pro beside the repository if present, else none)')
    .option('--seed <n>', 'seed of the question sample', intIn(-(2 ** 31), 2 ** 31), 1)
    .option('--no-compare', 'skip the second phase that sends the same questions pinned to the largest tier (default: compare)')
    .option('--policy <name>', 'routing policy: pomdp (tiermix\'s POMDP with the query classifier) or threshold', oneOf('pomdp', 'threshold'), 'pomdp')
    .option('--lambda <x>', `pomdp: accuracy one GPU-second is worth (default ${DEFAULT_LAMBDA})`, numberIn(0, 1000))
    .option('--budget <gpu-s>', 'pomdp: hold this many GPU-seconds per request instead of a fixed lambda', numberIn(0, 1e6, { minExclusive: true }))
    .option('--model <dir>', 'pomdp: builtin:default-ladder or a folder written by tiermix train', 'builtin:default-ladder')
    .option('--no-classifier', 'pomdp: no query classifier (the empirical prior of the fitted POMDP)')
    .option('--costs <source>', 'pomdp: price tier calls at the fitted, modelled steady-batch values (configured) or at the running mean of the metered calls (measured)', oneOf('measured', 'configured'), DEFAULT_COSTS)
    .option('--threshold <p>', 'threshold policy: escalate while the verifier confidence is below this (default 0.5)', numberIn(0, 1))
    .option('--samples <k>', 'self-verification samples per check', intIn(1, 64), 8)
    .option('--verifier <spec>', 'stated verifier model the simulators draw verdicts from', validatedBy(parseVerifierSpec), formatVerifierSpec(DEFAULT_SIMULATED_VERIFIER))
    .option('--startup-timeout <s>', 'seconds to wait for each child to listen and be ready', numberIn(1, 3600), 90)
    .option('--json', 'print the report as one JSON object instead of a table')
    .addHelpText('after', '\nProgress goes to stderr, the report to stdout. Exit status: 0 ok, 1 failed requests or a failed run, 2 bad flags, 130 interrupted.')
    .exitOverride((err: CommanderError) => {
      if (err.exitCode === 0) process.exit(0); // --help
      process.exit(USAGE_ERROR);
    })
    .action(async (flags: DemoFlags) => {
      let data;
      try {
        data = chooseDataDir(flags.data, process.env, REPO_ROOT);
      } catch (err) {
        if (!(err instanceof DataDirError)) throw err;
        console.error(`tiermix demo: ${err.message}`);
        process.exit(USAGE_ERROR);
      }
      let policy: DemoPolicy;
      try {
        policy = policyFrom(flags);
      } catch (err) {
        console.error(`tiermix demo: ${(err as Error).message}`);
        process.exit(USAGE_ERROR);
      }
      const options: DemoOptions = {
        data, requests: flags.requests, concurrency: flags.concurrency, ramp: flags.ramp, coldStartSeconds: flags.coldStart,
        scaleDownDelaySeconds: flags.scaleDownDelay,
        timeScale: flags.timeScale, seed: flags.seed,
        compare: flags.compare, policy, samples: flags.samples, verifier: flags.verifier,
        startupTimeoutSeconds: flags.startupTimeout,
      };
      const interrupt = new AbortController();
      let children: ChildProcesses | null = null;
      // Last resort: whatever ends this process, its children go with it.
      process.on('exit', () => children?.killAllNow());
      const onSignal = (signal: NodeJS.Signals) => {
        if (interrupt.signal.aborted) {
          children?.killAllNow(); // second Ctrl-C: do not wait for a graceful stop
          process.exit(130);
        }
        process.stderr.write(`\ntiermix demo: ${signal}: stopping (again to force)\n`);
        interrupt.abort(new Interrupted(signal));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const { report } = await runDemo(options, {
          stderr: process.stderr,
          signal: interrupt.signal,
          onChildren: (c) => (children = c),
        });
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        const failedRequests = report.routed.errors + (report.alwaysLargest?.errors ?? 0);
        if (failedRequests > 0 || !report.metricsCheck.ok) {
          console.error(`tiermix demo: ${failedRequests} failed requests${report.metricsCheck.ok ? '' : ', metrics cross-check failed'}`);
          process.exitCode = 1;
        }
      } catch (err) {
        if (err instanceof Interrupted || interrupt.signal.aborted) {
          console.error('tiermix demo: interrupted; the controller (with its replicas) and the router stopped');
          process.exit(130);
        }
        console.error(`tiermix demo: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  cmd.showHelpAfterError('(run tiermix demo --help for usage)');
}

class Interrupted extends Error {
  constructor(signal: string) {
    super(`interrupted by ${signal}`);
  }
}
