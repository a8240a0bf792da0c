// `tiermix router`: run the routing gateway from a YAML configuration file.
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { defaultLogger, startRouter } from '../server/start.js';

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

export function registerRouterCommand(program: Command): void {
  program
    .command('router')
    .description('run the OpenAI-compatible routing gateway in front of vLLM tiers')
    .option('-c, --config <file>', 'router configuration (YAML); watched and reloaded on change', process.env.TIERMIX_CONFIG)
    .option('--host <host>', 'listen address (overrides server.host)')
    .option('--port <port>', 'listen port (overrides server.port)', parsePort)
    .option('--log-level <level>', 'pino log level: fatal, error, warn, info, debug, trace', process.env.TIERMIX_LOG_LEVEL ?? 'info')
    .option('--no-health-checks', 'do not probe replicas\' /health (treat them as ready until they fail)')
    .addHelpText(
      'after',
      '\nThe configuration names cascades (ordered tiers, smallest first) and each tier\'s vLLM endpoints.\n' +
        'See docs/configuration.md. Environment: TIERMIX_CONFIG, TIERMIX_LOG_LEVEL.',
    )
    .action(async (opts: { config?: string; host?: string; port?: number; logLevel: string; healthChecks: boolean }) => {
      if (!opts.config) {
        console.error('tiermix router: no configuration; pass --config <file> or set TIERMIX_CONFIG');
        process.exit(2);
      }
      let config;
      try {
        config = loadConfigFile(opts.config);
      } catch (err) {
        console.error(err instanceof ConfigError ? err.message : String(err));
        process.exit(2);
      }
      const logger = defaultLogger(opts.logLevel);
      let router;
      try {
        // Loads POMDP models and classifier sessions before listening; a model that does not fit is a ConfigError.
        router = await startRouter({
          config,
          configFile: opts.config,
          logger,
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
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
}
