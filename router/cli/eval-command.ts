// `tiermix eval`: every routing policy that exists, on the test split of recorded per-query outcomes, with
// modelled GPU-seconds. Thin glue over router/train (see docs/evaluation.md).
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, type CommanderError } from 'commander';
import { checkedBy, intIn, tierList, USAGE_ERROR, validatedBy } from './options.js';
import { DEFAULT_COST_SETTINGS } from '../train/cost.js';
import { ExtensionPendingError, loadClassifier, pomdpProvider, TIERMIX_POLICY } from '../train/extensions.js';
import { runOfflineEvaluation } from '../train/index.js';
import { DEFAULT_VERIFY_SAMPLES, parseVerifierMode } from '../train/observe.js';
import { renderCurves } from '../train/plot.js';
import { formatReport } from '../train/report.js';
import { DataError } from '../train/rows.js';
import { parseCategoryList } from '../train/split.js';



function numberList(what: string, min: number) {
  return (value: string): number[] => {
    const parts = value.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n) || n < min)) {
      throw new InvalidArgumentError(`must be a comma-separated list of ${what} (each at least ${min}), e.g. 1,1,4.`);
    }
    return nums;
  };
}



interface EvalFlags {
  data: string;
  tiers: string[];
  verifier: string;
  gpus?: number[];
  batch: number;
  verifySamples: number;
  verifyTokens: number;
  answerTokens?: number[];
  seed: number;
  plot?: string;
  json?: boolean;
  oodTestCategories?: string[];
  priorQuantum: number;
  /** false with --no-classifier. */
  classifier?: string | false;
}

function quantum(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n < 0.5)) throw new InvalidArgumentError('must be a number from 0 (exact) to below 0.5, e.g. 0.02.');
  return n;
}


export function registerEvalCommand(program: Command): void {
  const cmd = program
    .command('eval')
    .summary('offline evaluation of the routing policies on recorded outcomes (test split, modelled GPU-seconds)')
    .description(
      'Run every routing policy that exists (fixed tiers, random mixing, agreement and extraction baselines, AutoMix threshold, ' +
        "AutoMix's POMDP, chained AutoMix, the router's threshold policy) on JSON lines of per-query outcomes " +
        '(pred__<model>, correct__<model>, optional conf__<model>). Knobs are fitted on the train split (id % 5 != 0), ' +
        'results are on the test split (id % 5 == 0): accuracy, GPU-seconds per request (MODELLED from the simulator latency ' +
        "profiles), AutoMix's ΔIBC, RouteLLM's APGR and CPT, and the cost of reaching 98% of the largest tier's accuracy. " +
        'With --verifier none only real signals are used; simulated verifier observations are labelled as such. See docs/evaluation.md.',
    )
    .requiredOption('--data <file>', 'JSON lines (gzip allowed) of per-query outcomes, or a folder holding outcomes.jsonl.gz')
    .requiredOption('--tiers <m1,m2[,m3...]>', 'models of the ladder, smallest first (names of the pred__ columns)', tierList(2))
    .option('--classifier <dir>', 'trained query classifier (model.onnx + manifest.json from tiermix train; its tiers must match --tiers)')
    .option('--no-classifier', 'with --ood-test-categories: do not train a classifier (tiermix with the empirical prior only)')
    .option(
      '--ood-test-categories <c1,c2,...>',
      'out-of-domain check: test on every row of these categories, fit everything (a query classifier trained in this run, the POMDP, every knob) on the rows of the others',
      checkedBy(parseCategoryList),
    )
    .option('--verifier <spec>', 'none (real signals only) or simulated[:pc=..,pw=..,kappa=..] (default: none)', validatedBy(parseVerifierMode, ' (or "none")'), 'none')
    .option('--gpus <list>', 'GPUs per replica per tier (default: 4 for a name containing 70b, else 1)', numberList('GPU counts', 1))
    .option('--batch <n>', 'sequences per replica batch in the cost model', intIn(1, 1024), DEFAULT_COST_SETTINGS.batchSize)
    .option('--verify-samples <k>', 'verifier samples per verification', intIn(1, 64), DEFAULT_VERIFY_SAMPLES)
    .option('--verify-tokens <n>', 'tokens per verifier sample in the cost model', intIn(1, 4096), DEFAULT_COST_SETTINGS.verifyTokensPerSample)
    .option('--answer-tokens <list>', "mean answer tokens per tier (default: measured from outputs/ beside the data, else 95)", numberList('token counts', 1))
    .option('--seed <n>', 'seed of the simulated verifier draws', intIn(-(2 ** 31), 2 ** 31), 1)
    .option('--prior-quantum <q>', "tiermix: round the classifier's probabilities to multiples of q (e.g. 0.02) so that requests share solved trees; 0 = exact", quantum, 0)
    .option('--plot <file>', 'also draw the cost-quality curves into an image (.png, else SVG)')
    .option('--json', 'print one JSON object instead of the table')
    .addHelpText('after', '\nExit status: 0 ok, 1 failed run, 2 bad flags or unreadable data.')
    .exitOverride((err: CommanderError) => {
      if (err.exitCode === 0) process.exit(0); // --help
      process.exit(USAGE_ERROR);
    })
    .action(async (flags: EvalFlags) => {
      try {
        const ood = flags.oodTestCategories;
        if (ood && typeof flags.classifier === 'string') {
          throw new DataError('--classifier with --ood-test-categories: a shipped classifier has seen the test categories; the run trains its own on the other categories (or pass --no-classifier)');
        }
        const classifier = typeof flags.classifier === 'string' ? await loadClassifier(flags.classifier) : undefined;
        const report = await runOfflineEvaluation({
          data: flags.data,
          tiers: flags.tiers,
          ...(flags.gpus ? { gpus: flags.gpus } : {}),
          ...(flags.answerTokens ? { answerTokens: flags.answerTokens } : {}),
          settings: { batchSize: flags.batch, verifySamples: flags.verifySamples, verifyTokensPerSample: flags.verifyTokens },
          mode: parseVerifierMode(flags.verifier, flags.verifySamples, flags.seed),
          ...(classifier || flags.priorQuantum > 0
            ? { extensions: { ...(classifier ? { classifier } : {}), tiermix: flags.priorQuantum > 0 ? pomdpProvider(undefined, flags.verifySamples, flags.priorQuantum) : TIERMIX_POLICY! } }
            : {}),
          ...(ood ? { split: { kind: 'categories' as const, test: ood }, trainClassifier: flags.classifier !== false } : {}),
          log: (line: string) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        if (flags.plot) writeFileSync(flags.plot, renderCurves(report, `tiermix eval: ${report.tiers.map((t) => t.name).join(' -> ')}`, flags.plot));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const usage = err instanceof DataError || err instanceof ExtensionPendingError || code === 'ENOENT' || code === 'EISDIR';
        console.error(`tiermix eval: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(usage ? USAGE_ERROR : 1);
      }
    });
  cmd.showHelpAfterError('(run tiermix eval --help for usage)');
}
