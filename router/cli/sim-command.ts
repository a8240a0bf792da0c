// `tiermix sim`: run the simulated vLLM server (router/sim) from the command line.
import { Command, type CommanderError } from 'commander';
import { intIn, numberIn, oneOf, parsePort, USAGE_ERROR, validatedBy } from './options.js';
import { pino } from 'pino';
import { PROFILE_NAMES, PROFILES, type ProfileName } from '../sim/latency.js';
import { SimOptionsError, type SimulatorOptions } from '../sim/options.js';
import { startSimulator } from '../sim/server.js';
import { DEFAULT_SIMULATED_VERIFIER, formatVerifierSpec, parseVerifierSpec } from '../verify/simulated-verifier.js';

const profileDefaults = (pick: (p: (typeof PROFILES)[ProfileName]) => number) =>
  PROFILE_NAMES.map((n) => `${n} ${pick(PROFILES[n])}`).join(', ');

interface SimFlags {
  model: string;
  servedModelName?: string;
  data?: string;
  profile?: ProfileName;
  maxNumSeqs?: number;
  maxWaiting?: number;
  kvCapacityTokens?: number;
  maxModelLen?: number;
  timeScale: number;
  startupSeconds: number;
  verifier: string;
  failRate: number;
  slowFactor: number;
  dropRate: number;
  seed: number;
  generatedSeed: number;
  host: string;
  port: number;
}

export function registerSimCommand(program: Command): void {
  const cmd = program
    .command('sim')
    .summary('run a SIMULATED vLLM server (no model, no GPU) for tests, demos and benchmarks')
    .description(
      "Run a SIMULATED vLLM server: it speaks vLLM's OpenAI-compatible API and Prometheus metrics, but runs no " +
        'model. Answers come from recorded MMLU-Pro outputs (--data) or are generated; latencies, queueing and ' +
        'self-verification verdicts are simulated. Every response carries the header x-tiermix-simulated: true.',
    )
    .requiredOption('--model <name>', 'model to play, e.g. Mistral-7B-v0.1 or mistralai/Mistral-7B-v0.1 (required)')
    .option('--served-model-name <name>', 'name clients send in "model" (default: the --model value)')
    .option('--data <dir>', 'MMLU-Pro folder with outcomes.jsonl.gz and outputs/; "none" for generated questions (default: env TIERMIX_DATA, else none)')
    .option('--profile <name>', `latency profile: ${PROFILE_NAMES.join(', ')} (default: guessed from the model name, else 7b)`, oneOf(...PROFILE_NAMES))
    .option('--max-num-seqs <n>', `sequences running at once, as vLLM's flag (default: from the profile: ${profileDefaults((p) => p.maxNumSeqs)})`, intIn(1, 100_000))
    .option('--max-waiting <n>', 'longest waiting queue; beyond it requests get 503 (default: unbounded)', intIn(0, 10_000_000))
    .option('--kv-capacity-tokens <n>', `KV cache size in tokens (default: from the profile: ${profileDefaults((p) => p.kvCapacityTokens)})`, intIn(1, 1e9))
    .option('--max-model-len <n>', 'context length (default: from the model name: 32768 Mistral/Mixtral, 8192 Llama-3, else 4096)', intIn(1, 10_000_000))
    .option('--time-scale <x>', 'multiplies every latency; 0 = answer at once (benchmarks)', numberIn(0, 1000), 1)
    .option('--startup-seconds <s>', '/health answers 503 for this long after start (wall seconds)', numberIn(0, 3600), 0)
    .option('--verifier <spec>', 'stated verifier model for self-verification prompts', validatedBy(parseVerifierSpec), formatVerifierSpec(DEFAULT_SIMULATED_VERIFIER))
    .option('--fail-rate <p>', 'share of completion requests answered 500 (fault injection)', numberIn(0, 1), 0)
    .option('--slow-factor <x>', 'multiplies latencies: a slow replica (fault injection)', numberIn(0, 1000), 1)
    .option('--drop-rate <p>', 'share of completion requests whose connection is dropped unanswered (fault injection)', numberIn(0, 1), 0)
    .option('--seed <n>', 'seed of the fault-injection draws', intIn(-(2 ** 31), 2 ** 31), 0)
    .option('--generated-seed <n>', 'seed of the generated question set used without data', intIn(-(2 ** 31), 2 ** 31), 1)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0 = any free port)', parsePort, 8000)
    .addHelpText('after', '\nFaults can also be changed at runtime: POST /admin/faults {"failRate":0.5,"slowFactor":3,"dropRate":0}.')
    .exitOverride((err: CommanderError) => {
      if (err.exitCode === 0) process.exit(0); // --help
      process.exit(USAGE_ERROR);
    })
    .action(async (flags: SimFlags) => {
      const log = pino({ name: 'tiermix-sim', base: { simulated: true } });
      const options: SimulatorOptions = {
        model: flags.model,
        servedModelName: flags.servedModelName,
        dataDir: flags.data === undefined ? undefined : flags.data === 'none' ? null : flags.data,
        profile: flags.profile,
        maxNumSeqs: flags.maxNumSeqs,
        maxWaiting: flags.maxWaiting,
        kvCapacityTokens: flags.kvCapacityTokens,
        maxModelLen: flags.maxModelLen,
        timeScale: flags.timeScale,
        startupSeconds: flags.startupSeconds,
        verifier: flags.verifier,
        failRate: flags.failRate,
        slowFactor: flags.slowFactor,
        dropRate: flags.dropRate,
        seed: flags.seed,
        generatedSeed: flags.generatedSeed,
        host: flags.host,
        port: flags.port,
        logger: { info: (m) => log.info(m), warn: (m) => log.warn(m) },
      };
      let sim;
      try {
        sim = await startSimulator(options);
      } catch (err) {
        if (err instanceof SimOptionsError) {
          console.error(`tiermix sim: ${err.message}`);
          process.exit(USAGE_ERROR);
        }
        throw err;
      }
      const stop = () => {
        log.info('shutting down');
        void sim.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  cmd.showHelpAfterError('(run tiermix sim --help for usage)');
}
