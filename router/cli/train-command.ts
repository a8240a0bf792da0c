// `tiermix train`: train the query classifier on the train split of recorded per-query outcomes, export it
// to ONNX with a manifest (feature version, tiers, test metrics), and check it under onnxruntime-node.
import { basename } from 'node:path';
import { Command, InvalidArgumentError, type CommanderError } from 'commander';
import { intIn, tierList, USAGE_ERROR, validatedBy } from './options.js';
import { DEFAULT_CLASSIFIER_OPTIONS, trainClassifier, writeClassifier } from '../classifier/pipeline.js';
import { writeManifest } from '../classifier/pipeline.js';
import { rowText } from '../classifier/featurize.js';
import { OnnxQueryClassifier } from '../classifier/runtime.js';
import { writePomdpParams, POMDP_FILE } from '../policy/pomdp/params.js';
import { DEFAULT_COST_SETTINGS } from '../train/cost.js';
import { loadSetup } from '../train/load.js';
import { DEFAULT_VERIFY_SAMPLES, parseVerifierMode } from '../train/observe.js';
import { fitPomdpParams } from '../train/pomdp-params.js';
import { DataError, dataFilePath } from '../train/rows.js';



function positiveList(value: string): number[] {
  const nums = value.split(',').map((s) => Number(s.trim()));
  if (nums.some((n) => !Number.isFinite(n) || n < 0)) throw new InvalidArgumentError('must be a comma-separated list of non-negative numbers, e.g. 1e-4,1e-3.');
  return nums;
}


interface TrainFlags {
  data: string;
  tiers: string[];
  out: string;
  name?: string;
  hashBits: number;
  l2: number[];
  epochs: number;
  seed: number;
  compareIndependent?: boolean;
  verifier: string;
  verifySamples: number;
  verifierSeed: number;
  gpus?: number[];
}


function gpuList(value: string): number[] {
  const nums = value.split(',').map((s) => Number(s.trim()));
  if (nums.some((n) => !Number.isInteger(n) || n < 1)) throw new InvalidArgumentError('must be a comma-separated list of GPU counts (integers >= 1), e.g. 1,1,4.');
  return nums;
}

export function registerTrainCommand(program: Command): void {
  const d = DEFAULT_CLASSIFIER_OPTIONS;
  const cmd = program
    .command('train')
    .summary('train the query classifier (joint P(correct) of the tiers) and export it to ONNX')
    .description(
      'Train the query classifier on JSON lines of per-query outcomes (question, options, correct__<model>): hashed word and ' +
        'character n-gram features -> softmax over the 2^N joint outcomes of the tiers, L2 and epochs chosen on a validation ' +
        'part of the train split (id % 5 != 0). Writes <out>/model.onnx and <out>/manifest.json with per-tier AUROC and ECE ' +
        'on the test split (id % 5 == 0), then loads the model with onnxruntime-node and checks it. Also fits the routing ' +
        "POMDP's observation model and joint prior on the same train split and writes <out>/pomdp.json (the verifier " +
        'observations come from conf__<model> columns when present, else from --verifier). See docs/classifier.md and docs/policy.md.',
    )
    .requiredOption('--data <file>', 'JSON lines (gzip allowed) of per-query outcomes, or a folder holding outcomes.jsonl.gz')
    .requiredOption('--tiers <m1,m2[,m3...]>', 'models of the ladder, smallest first (names of the correct__ columns)', tierList(1, 6))
    .requiredOption('--out <dir>', 'output folder (model.onnx, manifest.json)')
    .option('--name <name>', 'model name (default: the output folder name)')
    .option('--hash-bits <b>', 'hash space 2^b for the n-gram features', intIn(8, 18), d.hashBits)
    .option('--l2 <list>', 'candidate L2 coefficients (chosen on validation)', positiveList, d.l2)
    .option('--epochs <n>', 'most epochs (early stopping on validation)', intIn(1, 200), d.maxEpochs)
    .option('--seed <n>', 'seed of the shuffling', intIn(0, 2 ** 31), d.seed)
    .option('--compare-independent', 'also train one logistic model per tier and report it in the manifest (about doubles the time)')
    .option('--verifier <spec>', 'verifier observations the POMDP is fitted with where the data has no conf__<model>: none or simulated[:pc=..,pw=..,kappa=..]', validatedBy(parseVerifierMode, ' (or "none")'), 'none')
    .option('--verify-samples <k>', 'verifier samples k (confidence bins 0..k); must match the router\'s verification.samples', intIn(1, 64), DEFAULT_VERIFY_SAMPLES)
    .option('--verifier-seed <n>', 'seed of the simulated verifier draws', intIn(0, 2 ** 31), 1)
    .option('--gpus <list>', 'GPUs per replica per tier for the modelled costs in pomdp.json (default: 4 for a name containing 70b, else 1)', gpuList)
    .addHelpText('after', '\nExit status: 0 ok, 1 failed run, 2 bad flags or unreadable data.')
    .exitOverride((err: CommanderError) => {
      if (err.exitCode === 0) process.exit(0);
      process.exit(USAGE_ERROR);
    })
    .action(async (flags: TrainFlags) => {
      try {
        const file = dataFilePath(flags.data);
        const mode = parseVerifierMode(flags.verifier, flags.verifySamples, flags.verifierSeed);
        const settings = { ...DEFAULT_COST_SETTINGS, verifySamples: flags.verifySamples };
        const setup = await loadSetup({ data: file, tiers: flags.tiers, settings, ...(flags.gpus ? { gpus: flags.gpus } : {}) });
        const { rows } = setup;
        const models = setup.tiers.map((t) => t.name);
        const missing = rows.find((r) => typeof r.question !== 'string');
        if (missing) throw new DataError(`${file}: row ${missing.key} has no question text; the classifier trains on question (and options)`);
        const log = (line: string) => process.stderr.write(`${line}\n`);
        log(`training on ${basename(file)}: tiers ${models.join(' -> ')}, ${rows.length} rows`);
        const trained = trainClassifier(
          rows,
          models,
          basename(file),
          { ...d, hashBits: flags.hashBits, l2: flags.l2, maxEpochs: flags.epochs, seed: flags.seed, compareIndependent: flags.compareIndependent === true, log },
          flags.name ?? basename(flags.out),
        );
        const bytes = writeClassifier(flags.out, trained);
        // Load what was written, exactly as serving does, and compare ONNX Runtime with the TS forward pass on test rows.
        const clf = await OnnxQueryClassifier.load(flags.out);
        const check = rows.filter((r) => r.test).slice(0, 256);
        const diff = await clf.parityCheck(check.map(rowText));
        await clf.release();
        trained.manifest.parity = { rows: check.length, maxAbsDiff: diff };
        const pomdp = fitPomdpParams({ rows, tiers: setup.tiers, costs: setup.costs, mode, data: basename(file), split: trained.manifest.training.split });
        writePomdpParams(flags.out, pomdp);
        trained.manifest.pomdp = { file: POMDP_FILE, verifier: pomdp.verifier, verifierSamples: pomdp.verifierSamples };
        writeManifest(flags.out, trained.manifest);
        const m = trained.manifest.metrics.test;
        const lines = [
          `wrote ${flags.out}/model.onnx (${(bytes.length / 1024).toFixed(0)} KiB) and manifest.json in ${trained.manifest.training.seconds} s`,
          `wrote ${flags.out}/${POMDP_FILE}: POMDP fitted on ${pomdp.training.rows} train rows, verifier ${pomdp.verifier}, k=${pomdp.verifierSamples}`,
          `chosen l2=${trained.manifest.training.l2}, epochs=${trained.manifest.training.epochs}; ONNX vs TS max |diff| ${diff.toExponential(2)} on ${check.length} test rows`,
          `test split (${m.rows} rows): joint log loss ${m.jointLogLoss.toFixed(4)} (constant prior ${m.priorJointLogLoss.toFixed(4)}), joint accuracy ${m.jointAccuracy.toFixed(3)}`,
          ...m.tiers.map((t) => `  ${t.tier.padEnd(20)} AUROC ${t.auroc.toFixed(3)}  ECE ${t.ece.toFixed(3)}  Brier ${t.brier.toFixed(4)}  base rate ${t.baseRate.toFixed(3)}  mean P ${t.meanPredicted.toFixed(3)}`),
        ];
        const ind = trained.manifest.metrics.independentBaseline;
        if (ind) {
          lines.push(`independent per-tier models: joint log loss ${ind.jointLogLoss.toFixed(4)} (product of marginals)`);
          for (const t of ind.tiers) lines.push(`  ${t.tier.padEnd(20)} AUROC ${t.auroc.toFixed(3)}  ECE ${t.ece.toFixed(3)}  Brier ${t.brier.toFixed(4)}`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const usage = err instanceof DataError || code === 'ENOENT' || code === 'EISDIR';
        console.error(`tiermix train: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(usage ? USAGE_ERROR : 1);
      }
    });
  cmd.showHelpAfterError('(run tiermix train --help for usage)');
}
