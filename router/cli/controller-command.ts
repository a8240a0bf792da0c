// `tiermix controller`: run the ModelCascade controller against a cluster (see docs/controller.md).
import type { Command } from 'commander';
import { ControllerConfigError } from '../../controller/config/load.js';
import { ControllerCliError, runController } from '../../controller/cli/run.js';
import { parsePort } from './router-command.js';

interface Flags {
  kubeconfig?: string;
  config?: string;
  namespace?: string;
  leaderElect?: boolean;
  metricsPort: number;
  healthPort: number;
  bindAddress: string;
  installCrd: boolean;
  resyncSeconds: number;
  logLevel: string;
  identity?: string;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error('expected a number of seconds >= 0');
  return n;
}

export function registerControllerCommand(program: Command): void {
  program
    .command('controller')
    .description('run the ModelCascade controller: tiers as vLLM Deployments on GPU nodes, and the router\'s ConfigMap')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, else the in-cluster service account)', process.env.KUBECONFIG)
    .option('-c, --config <file>', 'controller configuration (YAML: GPU profiles, router ConfigMap, leader election); default: built-in')
    .option('-n, --namespace <ns>', 'watch only this namespace (default: config.namespaces, else all)')
    .option('--leader-elect', 'elect a leader through a Lease (for 2+ replicas); default: config.leaderElection.enabled')
    .option('--no-leader-elect', 'do not elect a leader (one replica only)')
    .option('--metrics-port <port>', 'port of /metrics (Prometheus)', parsePort, 9090)
    .option('--health-port <port>', 'port of /healthz and /readyz (may equal --metrics-port)', parsePort, 8081)
    .option('--bind-address <host>', 'address the HTTP endpoints listen on', '0.0.0.0')
    .option('--install-crd', 'apply the ModelCascade CRD first and wait until it is Established (local use; the chart ships it)', false)
    .option('--resync-seconds <s>', 're-reconcile every cascade this often, in addition to watch events (0: never)', parseSeconds, 300)
    .option('--identity <id>', 'leader-election identity (default: <hostname>_<random>)')
    .option('--log-level <level>', 'pino log level: fatal, error, warn, info, debug, trace', process.env.TIERMIX_LOG_LEVEL ?? 'info')
    .action(async (flags: Flags) => {
      let running;
      try {
        running = await runController(flags);
      } catch (err) {
        if (err instanceof ControllerCliError || err instanceof ControllerConfigError) {
          console.error(`tiermix controller: ${err.message}`);
          process.exit(2);
        }
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
