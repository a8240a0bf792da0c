// `tiermix controller`: run the ModelCascade controller against a cluster (--runtime kubernetes, the default; see
// docs/controller.md) or on this machine with tiers as processes (--runtime local; docs/modelcascade.md).
import { type Command, type CommanderError, InvalidArgumentError } from 'commander';
import { ControllerConfigError } from '../../controller/config/load.js';
import { ControllerCliError, runController, type ControllerCommandOptions } from '../../controller/cli/run.js';
import { runLocalController, type LocalControllerCommandOptions } from '../../controller/cli/run-local.js';
import { numberIn, oneOf, parsePort } from './options.js';

/** The Kubernetes runtime's options as they are, plus the flags that become the local runtime's options. */
type Flags = ControllerCommandOptions & {
  runtime: 'kubernetes' | 'local';
  cascade: string[];
  routerConfigOut?: string;
  engine: LocalControllerCommandOptions['engine'];
  simulatorArgs?: string;
  timeScale: number;
  routerMetricsUrl: string[];
  logDir?: string;
};

/** Flags that only one runtime reads (the others are shared). */
const KUBERNETES_ONLY = ['kubeconfig', 'namespace', 'leaderElect', 'installCrd', 'resyncSeconds', 'identity'] as const satisfies readonly (keyof Flags)[];
const LOCAL_ONLY = ['cascade', 'routerConfigOut', 'engine', 'simulatorArgs', 'timeScale', 'routerMetricsUrl', 'logDir'] as const satisfies readonly (keyof Flags)[];
const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Node's timers hold at most 2^31-1 ms (~24.8 days); a longer resync period would fire every millisecond. */
const MAX_RESYNC_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function parseUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new InvalidArgumentError(`expected an http(s) URL such as http://127.0.0.1:8080/metrics, got "${value}"`);
  }
  return value;
}

function usage(message: string): never {
  console.error(`tiermix controller: ${message}`);
  process.exit(2);
}

const collect = (value: string, previous: string[]) => [...previous, value];
const collectUrl = (value: string, previous: string[]) => [...previous, parseUrl(value)];

export function registerControllerCommand(program: Command): void {
  const cmd = program
    .command('controller')
    .description(
      'run the ModelCascade controller: on a cluster, tiers as vLLM Deployments on GPU nodes and the router\'s ConfigMap ' +
        '(--runtime kubernetes, the default); or on this machine, tiers as processes and the router\'s configuration as a file (--runtime local)',
    )
    .option('--runtime <name>', 'kubernetes (a cluster) or local (processes on this machine)', oneOf('kubernetes', 'local'), 'kubernetes')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, else the in-cluster service account)', process.env.KUBECONFIG)
    .option('-c, --config <file>', 'controller configuration (YAML: GPU profiles, router ConfigMap, leader election); default: built-in')
    .option('-n, --namespace <ns>', 'watch only this namespace (default: config.namespaces, else all)')
    .option('--leader-elect', 'elect a leader through a Lease (for 2+ replicas); default: config.leaderElection.enabled')
    .option('--no-leader-elect', 'do not elect a leader (one replica only)')
    .option('--metrics-port <port>', 'port of /metrics (Prometheus)', parsePort, 9090)
    .option('--health-port <port>', 'port of /healthz and /readyz (may equal --metrics-port)', parsePort, 8081)
    .option('--bind-address <host>', 'address the HTTP endpoints listen on', '0.0.0.0')
    .option('--install-crd', 'apply the ModelCascade CRD first and wait until it is Established (local use; the chart ships it)', false)
    .option('--resync-seconds <s>', 're-reconcile every cascade this often, in addition to watch events (0: never)', numberIn(0, MAX_RESYNC_SECONDS), 300)
    .option('--identity <id>', 'leader-election identity (default: <hostname>_<random>)')
    .option('--cascade <file>', 'local: a YAML file of ModelCascade documents, watched for edits (repeatable)', collect, [] as string[])
    .option('--router-config-out <file>', 'local: where to write the router\'s configuration (run `tiermix router --config <file>` on it)')
    .option('--engine <name>', 'local: run replicas as `vllm serve` (vllm), as SIMULATED vLLM servers (simulator), or vllm when on PATH (auto)', oneOf('auto', 'vllm', 'simulator'), 'auto')
    .option('--simulator-args <flags>', 'local: extra `tiermix sim` flags for every simulated replica, one string, e.g. "--data none --startup-seconds 2"')
    .option(
      '--time-scale <x>',
      'local, simulator: run the simulated tiers at this time scale and the controller\'s clock 1/x as fast, so windows, delays and GPU-seconds are modelled seconds',
      numberIn(0, 10, { minExclusive: true }),
      1,
    )
    .option('--router-metrics-url <url>', 'local: a router /metrics URL the autoscaler scrapes (repeatable; added to config router.metricsUrls)', collectUrl, [] as string[])
    .option('--log-dir <dir>', 'local: write each replica\'s output to <dir>/<replica>.log')
    .option('--log-level <level>', 'pino log level: fatal, error, warn, info, debug, trace', process.env.TIERMIX_LOG_LEVEL ?? 'info')
    .addHelpText(
      'after',
      '\nLocal runtime example (no cluster; SIMULATED tiers unless vllm is installed):\n' +
        '  tiermix controller --runtime local --cascade manifests/examples/ladder.yaml --router-config-out /tmp/router.yaml \\\n' +
        '    --router-metrics-url http://127.0.0.1:8080/metrics\n' +
        '  tiermix router --config /tmp/router.yaml --port 8080\n' +
        'See docs/modelcascade.md (local runtime) and docs/controller.md.',
    )
    .exitOverride((err: CommanderError) => {
      // commander has printed the message; a bad flag exits 2 like the checks below
      process.exit(err.exitCode === 0 ? 0 : 2);
    })
    .action(async (flags: Flags) => {
      const given = (key: string) => cmd.getOptionValueSource(key) === 'cli';
      const wrong: string[] = (flags.runtime === 'local' ? KUBERNETES_ONLY : LOCAL_ONLY).filter((k) => given(k));
      if (wrong.length > 0) usage(`${wrong.map(flagName).join(', ')}: not used by --runtime ${flags.runtime} (see tiermix controller --help)`);
      if (flags.runtime === 'local' && !flags.routerConfigOut) usage('--runtime local needs --router-config-out <file> (the router\'s configuration is written there)');

      let running: { stop(): Promise<void> };
      try {
        running =
          flags.runtime === 'local'
            ? await runLocalController({
                cascadeFiles: flags.cascade,
                routerConfigOut: flags.routerConfigOut!,
                ...(flags.config ? { config: flags.config } : {}),
                engine: flags.engine,
                simulatorArgs: (flags.simulatorArgs ?? '').split(/\s+/).filter(Boolean),
                timeScale: flags.timeScale,
                routerMetricsUrls: flags.routerMetricsUrl,
                ...(flags.logDir ? { logDir: flags.logDir } : {}),
                metricsPort: flags.metricsPort,
                healthPort: flags.healthPort,
                bindAddress: flags.bindAddress,
                logLevel: flags.logLevel,
              })
            : await runController(flags);
      } catch (err) {
        if (err instanceof ControllerCliError || err instanceof ControllerConfigError) usage(err.message);
        throw err;
      }
      const shutdown = (): void => {
        void running.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            console.error(`tiermix controller: shutdown failed: ${String(err)}`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });
}
