// `tiermix router`: run the routing gateway from a YAML configuration file.
import type { Command, CommanderError } from 'commander';
import { intIn, parsePort, USAGE_ERROR } from './options.js';
import { ConfigError, parseConfig, readConfigText } from '../config/load.js';
import type { RouterConfig } from '../config/schema.js';
import { isClusterWorker, runPrimary, workerMetrics } from '../server/cluster.js';
import { RouterMetrics } from '../metrics/router-metrics.js';
import { defaultLogger, startRouter } from '../server/start.js';

interface RouterCliOptions {
  config?: string;
  host?: string;
  port?: number;
  logLevel: string;
  healthChecks: boolean;
  waitForConfig: boolean;
  workers?: number;
}

const MAX_WORKERS = 64;

export function registerRouterCommand(program: Command): void {
  program
    .command('router')
    .description('run the OpenAI-compatible routing gateway in front of vLLM tiers')
    .option('-c, --config <file>', 'router configuration (YAML); watched and reloaded on change', process.env.TIERMIX_CONFIG)
    .option('--host <host>', 'listen address (overrides server.host)')
    .option('--port <port>', 'listen port (overrides server.port)', parsePort)
    .option('--log-level <level>', 'pino log level: fatal, error, warn, info, debug, trace', process.env.TIERMIX_LOG_LEVEL ?? 'info')
    .option('--no-health-checks', 'do not probe replicas\' /health (treat them as ready until they fail)')
    .option(
      '--workers <n>',
      `router processes sharing the port (1-${MAX_WORKERS}): one event loop uses one core; /metrics sums every worker`,
      intIn(1, MAX_WORKERS),
    )
    .option(
      '--wait-for-config',
      'start even when the file is missing or invalid: not ready (/readyz 503) until a valid version appears (for a file written by the controller)',
      false,
    )
    .addHelpText(
      'after',
      '\nThe configuration names cascades (ordered tiers, smallest first) and each tier\'s vLLM endpoints.\n' +
        'See docs/configuration.md. Environment: TIERMIX_CONFIG, TIERMIX_LOG_LEVEL, TIERMIX_ROUTER_WORKERS.',
    )
    .exitOverride((err: CommanderError) => {
      // Usage errors exit 2, like the other subcommands; --help exits 0.
      process.exit(err.exitCode === 0 ? 0 : USAGE_ERROR);
    })
    .action(async (opts: RouterCliOptions) => {
      if (!opts.config) {
        console.error('tiermix router: no configuration; pass --config <file> or set TIERMIX_CONFIG');
        process.exit(2);
      }
      const logger = defaultLogger(opts.logLevel);
      // Without --wait-for-config a missing or invalid file is a mistake to fix now: exit 2 with the problems.
      // With it (the Helm chart; the controller writes the file), the router starts and waits for a valid version.
      let text: string | null = null;
      let config: RouterConfig | undefined;
      let configError: ConfigError | undefined;
      try {
        text = readConfigText(opts.config);
        config = parseConfig(text, opts.config);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        if (!opts.waitForConfig) {
          console.error(err.message + (err.missing ? '\n(to start without it and wait for it to appear, pass --wait-for-config)' : ''));
          process.exit(2);
        }
        configError = err;
        if (err.missing) logger.warn({ file: opts.config }, 'no configuration file yet: waiting for it (not ready until then)');
        else logger.error({ problems: err.problems }, 'invalid configuration: waiting for a valid version (not ready until then)');
      }
      const workers = opts.workers ?? workersFromEnv();
      const clustered = workers > 1;
      // The primary only checked the file (a typo exits 2 before anything is forked); its workers serve.
      if (clustered && !isClusterWorker()) return runPrimary(workers, logger);
      const metrics = new RouterMetrics();
      let router;
      try {
        // Loads POMDP models and classifier sessions before listening; a model that does not fit is a ConfigError.
        router = await startRouter({
          ...(config ? { config } : {}),
          ...(configError ? { configError } : {}),
          configFile: opts.config,
          configFileText: text,
          waitForConfig: opts.waitForConfig,
          logger,
          metrics,
          ...(clustered ? { metricsText: workerMetrics(metrics.registry) } : {}),
          healthChecks: opts.healthChecks,
          ...(opts.host !== undefined ? { host: opts.host } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
        });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        console.error(err.message);
        process.exit(2);
      }
      const shutdown = (signal: string) => {
        logger.info({ signal }, 'shutting down: finishing requests in flight');
        void router.close().then(() => process.exit(0));
      };
      if (clustered) {
        // A worker may get a signal twice (Ctrl-C reaches the whole process group, and the primary passes it on).
        let stopping = false;
        const once = (signal: string) => () => {
          if (!stopping) shutdown(signal);
          stopping = true;
        };
        process.on('SIGTERM', once('SIGTERM'));
        process.on('SIGINT', once('SIGINT'));
        return;
      }
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
}

/** TIERMIX_ROUTER_WORKERS when --workers is not given (1 when neither is); a bad value exits 2 naming the variable. */
function workersFromEnv(): number {
  const raw = process.env.TIERMIX_ROUTER_WORKERS;
  if (raw === undefined || raw === '') return 1;
  try {
    return intIn(1, MAX_WORKERS)(raw);
  } catch (err) {
    console.error(`tiermix router: TIERMIX_ROUTER_WORKERS=${raw}: ${(err as Error).message}`);
    process.exit(USAGE_ERROR);
  }
}
