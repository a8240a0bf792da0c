// `tiermix controller --runtime local`: the same controller on this machine, without a cluster. ModelCascades come from
// YAML files (watched), each planned replica runs as a process (`vllm serve` where installed, else the simulator), the
// router's configuration is written to a file the router hot-reloads. The autoscaler and the GPU-seconds meter are
// wired exactly as for the Kubernetes runtime (scaling.ts), and /metrics, /healthz, /readyz are served the same way;
// /cascades shows what `kubectl get modelcascades -o json` would (the statuses live in memory), /processes the replicas.
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ModelCascadeStatus } from '../api/types.js';
import type { CascadeKey } from '../runtime/hooks.js';
import { CascadeFileError, findOnPath, startLocalController, type LocalController } from '../runtime/local/index.js';
import { startControllerHttp, type ControllerHttp } from './http.js';
import { ControllerCliError, loadConfig } from './run.js';
import { wireScaling } from './scaling.js';

export interface LocalControllerCommandOptions {
  /** Files with one or more ModelCascade documents. */
  cascadeFiles: string[];
  /** Where the router's configuration is written. */
  routerConfigOut: string;
  config?: string;
  engine: 'auto' | 'vllm' | 'simulator';
  /** Extra flags for every simulator process. */
  simulatorArgs: string[];
  /**
   * Simulated tiers run at this time scale (their latencies x timeScale), and the controller's clock runs 1/timeScale
   * as fast, so its windows, delays, intervals and GPU-seconds are the simulators' modelled seconds. 1 = real time.
   */
  timeScale: number;
  /** Router /metrics URLs the autoscaler scrapes, in addition to the configuration's router.metricsUrls. */
  routerMetricsUrls: string[];
  /** Each replica's output goes to <logDir>/<replica>.log (default: kept in memory for crash messages only). */
  logDir?: string;
  metricsPort: number;
  healthPort: number;
  bindAddress: string;
  logLevel: string;
}

export interface RunningLocalController {
  local: LocalController;
  http: ControllerHttp;
  /** http://<host>:<port> of /metrics and /cascades. */
  metricsUrl: string;
  stop(): Promise<void>;
}

/** A clock that runs 1/timeScale as fast as the wall clock from now on (timeScale 1: the wall clock itself). */
export function scaledClock(timeScale: number, wall: () => number = Date.now): () => number {
  if (!(timeScale > 0)) throw new RangeError(`time scale must be > 0, got ${timeScale}`);
  if (timeScale === 1) return wall;
  const t0 = wall();
  return () => t0 + (wall() - t0) / timeScale;
}

/** Flags for every simulator process: the user's, plus --time-scale when the controller runs on a scaled clock. */
export function simulatorFlags(userArgs: readonly string[], timeScale: number): string[] {
  const setsScale = userArgs.some((a) => a === '--time-scale' || a.startsWith('--time-scale='));
  if (setsScale && timeScale !== 1) {
    throw new ControllerCliError('the time scale is set twice: pass it as --time-scale only (the controller gives it to the simulators)');
  }
  return timeScale === 1 ? [...userArgs] : [...userArgs, '--time-scale', String(timeScale)];
}

/** What /cascades serves: each cascade's identity, generation and in-memory status. */
export interface CascadeView {
  namespace: string;
  name: string;
  generation: number;
  status: ModelCascadeStatus | null;
  /** The autoscaler's decision per tier at its last tick (status keeps the reason of the last change only). */
  autoscaler: Record<string, { desired: number; reason: string }> | null;
}

export async function runLocalController(opts: LocalControllerCommandOptions, hooks: { logger?: Logger } = {}): Promise<RunningLocalController> {
  const log = hooks.logger ?? pino({ name: 'tiermix-controller', level: opts.logLevel });
  if (opts.cascadeFiles.length === 0) throw new ControllerCliError('--runtime local needs at least one --cascade <file.yaml> (ModelCascade documents)');
  const config = loadConfig(opts.config, log, 'GPU profiles, vLLM image');
  config.router.metricsUrls = [...(config.router.metricsUrls ?? []), ...opts.routerMetricsUrls];
  const engine = opts.engine === 'auto' ? (findOnPath('vllm') ? 'vllm' : 'simulator') : opts.engine;
  if (engine === 'vllm' && opts.timeScale !== 1) throw new ControllerCliError('--time-scale applies to simulated tiers only (--engine simulator)');
  const simulatorArgs = simulatorFlags(opts.simulatorArgs, opts.timeScale);
  const now = scaledClock(opts.timeScale);
  if (opts.timeScale !== 1) {
    log.warn({ timeScale: opts.timeScale }, `SIMULATED time: the tiers run at time scale ${opts.timeScale}; the controller's clock runs ${(1 / opts.timeScale).toPrecision(3)}x as fast (windows, delays and GPU-seconds are modelled seconds)`);
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let local: LocalController | undefined;
  // The autoscaler ticks every autoscalerIntervalSeconds of the controller's clock (that times the scale in wall time).
  const wiring = wireScaling({ config, registry, log, cascades: () => local?.runtime.cascades() ?? [], now, timeScale: opts.timeScale });
  const previous = new Map<CascadeKey, ModelCascadeStatus>();
  const onStatus = (key: CascadeKey, status: ModelCascadeStatus): void => {
    const before = previous.get(key);
    previous.set(key, status);
    for (const t of status.tiers ?? []) {
      const was = before?.tiers?.find((b) => b.name === t.name);
      if (was && was.desiredReplicas !== t.desiredReplicas) {
        log.info({ cascade: key, tier: t.name, from: was.desiredReplicas, to: t.desiredReplicas, reason: t.scalingReason }, `${key} tier ${t.name}: ${was.desiredReplicas} -> ${t.desiredReplicas} replicas`);
      }
    }
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    const wasReady = before?.conditions?.find((c) => c.type === 'Ready');
    if (ready && (ready.status !== wasReady?.status || ready.reason !== wasReady?.reason)) {
      log[ready.reason === 'InvalidSpec' ? 'error' : 'info']({ cascade: key, ready: ready.status, reason: ready.reason }, `${key}: Ready=${ready.status} (${ready.reason}): ${ready.message}`);
    }
  };
  try {
    local = await startLocalController({
      config,
      cascadeFiles: opts.cascadeFiles,
      routerConfigFile: opts.routerConfigOut,
      engine,
      simulatorArgs,
      ...(wiring.scaling ? { scaling: wiring.scaling } : {}),
      meter: wiring.meter,
      now,
      process: { now, ...(opts.logDir ? { logDir: opts.logDir } : {}) },
      log: (line) => log.info(line),
      onStatus,
    });
  } catch (err) {
    if (err instanceof CascadeFileError) throw new ControllerCliError(err.message);
    throw err;
  }
  const running = local;
  wiring.start();
  let stopping = false;
  const http = await startControllerHttp({
    host: opts.bindAddress,
    metricsPort: opts.metricsPort,
    healthPort: opts.healthPort,
    registry,
    probes: { healthy: () => !stopping, ready: () => !stopping },
    json: {
      '/cascades': (): CascadeView[] =>
        running.runtime.cascades().map(({ key, mc }) => ({
          namespace: mc.metadata.namespace ?? 'default',
          name: mc.metadata.name,
          generation: mc.metadata.generation ?? 1,
          status: running.runtime.status(key) ?? null,
          autoscaler: wiring.scaling?.desired(key) ?? null,
        })),
      // Each replica process: which tier it serves, its port and PID (for logs and `kill`).
      '/processes': () => running.runtime.processes().map((p) => ({ ...p, pid: running.runtime.pid(p.id) ?? null })),
    },
  });
  const host = opts.bindAddress === '0.0.0.0' || opts.bindAddress === '::' ? '127.0.0.1' : opts.bindAddress;
  const metricsUrl = `http://${host.includes(':') ? `[${host}]` : host}:${http.metricsPort}`;
  log.info(
    { runtime: 'local', engine, metricsUrl, metricsPort: http.metricsPort, healthPort: http.healthPort, routerConfig: opts.routerConfigOut, cascadeFiles: opts.cascadeFiles },
    'controller started',
  );
  return {
    local: running,
    http,
    metricsUrl,
    async stop() {
      if (stopping) return;
      stopping = true;
      await wiring.stop();
      await running.stop();
      await http.close();
      log.info('controller stopped');
    },
  };
}
