// `tiermix controller`: load the configuration and the cluster credentials, optionally install the CRD, start the
// Kubernetes runtime with the planner, the autoscaler and the GPU-seconds meter (scaling.ts), and serve /metrics,
// /healthz and /readyz. Stops cleanly on SIGTERM/SIGINT
// (stop reconciling, release the leader Lease, close the watches and the HTTP servers).
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { crd } from '../api/crd.js';
import { defaultControllerConfig, loadControllerConfigFile } from '../config/load.js';
import type { ControllerConfig } from '../config/types.js';
import { planner } from '../plan/index.js';
import type { MeterSource, ScalingSource } from '../runtime/hooks.js';
import { startKubernetesController, type KubernetesController } from '../runtime/kubernetes/controller.js';
import { installCrd } from '../runtime/kubernetes/install-crd.js';
import { ControllerMetrics } from '../runtime/kubernetes/metrics.js';
import { startControllerHttp, type ControllerHttp } from './http.js';
import { wireScaling } from './scaling.js';

export interface ControllerCommandOptions {
  /** Path to a kubeconfig; without it, the in-cluster service account. */
  kubeconfig?: string;
  /** controller.yaml; without it, the built-in defaults. */
  config?: string;
  namespace?: string;
  /** Overrides config.leaderElection.enabled. */
  leaderElect?: boolean;
  metricsPort: number;
  healthPort: number;
  bindAddress: string;
  installCrd: boolean;
  resyncSeconds: number;
  logLevel: string;
  identity?: string;
}

export interface RunningController {
  controller: KubernetesController;
  http: ControllerHttp;
  config: ControllerConfig;
  stop(): Promise<void>;
}

/** Errors the user can fix, printed without a stack trace. */
export class ControllerCliError extends Error {}

export function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file) {
    if (!existsSync(file)) throw new ControllerCliError(`kubeconfig ${file} does not exist`);
    kc.loadFromFile(file);
  } else if (process.env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
  } else {
    throw new ControllerCliError(
      'no cluster credentials: pass --kubeconfig <file> (or set KUBECONFIG), or run inside a cluster (in-cluster service account)',
    );
  }
  if (!kc.getCurrentCluster()) throw new ControllerCliError(`kubeconfig ${file ?? '(in-cluster)'} has no current context/cluster`);
  return kc;
}

/** The controller configuration from --config, else the built-in defaults (said in the log). Shared by both runtimes. */
export function loadConfig(file: string | undefined, log: Logger, defaults = 'GPU profiles, router ConfigMap tiermix-system/tiermix-router'): ControllerConfig {
  if (file) return loadControllerConfigFile(file);
  log.warn(`no --config: using the built-in defaults (${defaults})`);
  return defaultControllerConfig();
}

export async function runController(
  opts: ControllerCommandOptions,
  hooks: { scaling?: ScalingSource; meter?: MeterSource; logger?: Logger } = {},
): Promise<RunningController> {
  const log = hooks.logger ?? pino({ name: 'tiermix-controller', level: opts.logLevel });
  const config = loadConfig(opts.config, log);
  const kc = loadKubeConfig(opts.kubeconfig);
  log.info({ server: kc.getCurrentCluster()?.server }, 'connecting');
  if (opts.installCrd) {
    await installCrd(kc, crd);
    log.info({ crd: crd.metadata.name }, 'CRD applied and Established');
  }
  const metrics = new ControllerMetrics({ defaultMetrics: true });
  // The autoscaler and the meter read the cascades from the controller's caches (assigned just below).
  let controller: KubernetesController | undefined;
  const wiring =
    hooks.scaling || hooks.meter
      ? undefined
      : wireScaling({ config, registry: metrics.registry, log, cascades: () => controller?.cascades() ?? [] });
  const scaling = hooks.scaling ?? wiring?.scaling;
  const meter = hooks.meter ?? wiring?.meter;
  controller = await startKubernetesController({
    kubeConfig: kc,
    config,
    planner,
    logger: log,
    metrics,
    resyncIntervalMs: opts.resyncSeconds * 1000,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.leaderElect !== undefined ? { leaderElection: opts.leaderElect } : {}),
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(scaling ? { scaling } : {}),
    ...(meter ? { meter } : {}),
  });
  const running = controller;
  wiring?.start();
  let stopping = false;
  const http = await startControllerHttp({
    host: opts.bindAddress,
    metricsPort: opts.metricsPort,
    healthPort: opts.healthPort,
    registry: metrics.registry,
    probes: { healthy: () => !stopping, ready: () => running.synced() && !stopping },
  });
  log.info(
    { identity: running.identity, metricsPort: http.metricsPort, healthPort: http.healthPort, namespace: opts.namespace ?? 'all' },
    'controller started',
  );
  return {
    controller: running,
    http,
    config,
    async stop() {
      if (stopping) return;
      stopping = true;
      await wiring?.stop();
      await running.stop();
      await http.close();
      log.info('controller stopped');
    },
  };
}
