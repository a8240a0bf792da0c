// The demo's serving stack on this machine, as an operator would run it without a cluster: `tiermix controller
// --runtime local` on the ladder's ModelCascade (it starts each tier's replicas as simulator processes, autoscales
// them from the router's /metrics and meters their GPU-seconds) and `tiermix router` on the configuration file the
// controller writes. Both are child processes; the simulators are the controller's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CascadeView } from '../../controller/cli/run-local.js';
import { freePort } from '../../controller/runtime/local/processes.js';
import { controllerConfig, demoCascade, fittedOccupancy, type DemoScaling } from './cascade.js';
import { ChildProcesses, indent, waitForOk, type ManagedChild } from './children.js';
import type { DemoPolicy, DemoTier } from './types.js';

export interface StackOptions {
  tiers: readonly DemoTier[];
  cascade: string;
  /** mmlu-pro folder, or null for the generated set. */
  dataDir: string | null;
  generatedSeed: number;
  timeScale: number;
  verifier: string;
  samples: number;
  policy: DemoPolicy;
  /** Modelled seconds a new replica takes to load (the simulators' --startup-seconds, times the time scale). */
  coldStartSeconds: number;
  scaling: DemoScaling;
  startupTimeoutMs: number;
  /** Temporary folder for the cascade, the configurations and the replicas' logs (the caller removes it). */
  workDir: string;
  signal?: AbortSignal;
  /** Status lines (stderr in the CLI). */
  log: (line: string) => void;
  /** Called once the controller serves /cascades (to record replicas over time from the start). */
  onController?: (controllerUrl: string, startedAt: number) => void;
}

export interface Stack {
  routerUrl: string;
  /** The controller's /metrics and /cascades. */
  controllerUrl: string;
  /** performance.now() when the controller was started (the clock of the replicas-over-time report). */
  startedAt: number;
}

/** Steady-batch GPU-seconds per call by tier name, from the policy's pomdp.json (the shipped one for threshold). */
export function modelledPrices(policy: DemoPolicy, tiers: readonly DemoTier[]): Record<string, { answer: number; verify: number }> | undefined {
  const occ = fittedOccupancy(policy.type === 'pomdp' ? policy : { type: 'pomdp', model: 'builtin:default-ladder', classifier: false, objective: { lambda: 0 }, costs: 'configured' });
  if (!occ || occ.answer.length !== tiers.length) return undefined;
  return Object.fromEntries(tiers.map((t, i) => [t.name, { answer: occ.answer[i]! * t.gpusPerReplica, verify: occ.verify[i]! * t.gpusPerReplica }]));
}

/** Flags of every simulated replica (the controller adds --time-scale itself). */
export function simulatorArgs(o: Pick<StackOptions, 'dataDir' | 'generatedSeed' | 'verifier' | 'coldStartSeconds' | 'timeScale'>): string[] {
  return [
    // A data folder whose path has spaces goes through TIERMIX_DATA instead (the flags are one space-separated string).
    ...(o.dataDir === null ? ['--data', 'none'] : /\s/.test(o.dataDir) ? [] : ['--data', o.dataDir]),
    '--generated-seed', String(o.generatedSeed),
    '--verifier', o.verifier,
    '--startup-seconds', String(Number((o.coldStartSeconds * o.timeScale).toFixed(3))),
  ];
}

/** The controller's command line (pure; tested). */
export function controllerArgs(o: Pick<StackOptions, 'timeScale' | 'workDir' | 'dataDir' | 'generatedSeed' | 'verifier' | 'coldStartSeconds'>, routerPort: number): string[] {
  return [
    'controller', '--runtime', 'local', '--engine', 'simulator',
    '--cascade', join(o.workDir, 'ladder.yaml'),
    '--config', join(o.workDir, 'controller.yaml'),
    '--router-config-out', join(o.workDir, 'router.yaml'),
    '--time-scale', String(o.timeScale),
    '--simulator-args', simulatorArgs(o).join(' '),
    '--router-metrics-url', `http://127.0.0.1:${routerPort}/metrics`,
    '--log-dir', join(o.workDir, 'replicas'),
    '--metrics-port', '0', '--health-port', '0', '--bind-address', '127.0.0.1',
  ];
}

const CONTROLLER_URL = /"metricsUrl":"(http:\/\/[^"]+)".*"controller started"/;
const ROUTER_URL = /"url":"(http:\/\/[^"]+)".*tiermix router listening/;

/** One cascade as the controller's /cascades shows it. */
export async function fetchCascade(controllerUrl: string, cascade: string, signal?: AbortSignal): Promise<CascadeView | undefined> {
  const res = await fetch(`${controllerUrl}/cascades`, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(2000)]) : AbortSignal.timeout(2000) });
  const all = (await res.json()) as CascadeView[];
  return all.find((c) => c.name === cascade);
}

/** Wait until the controller reports the cascade Ready (every tier has a ready replica). */
async function waitForCascadeReady(controller: ManagedChild, cascade: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const ready = (await fetchCascade(controller.url, cascade, signal))?.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status === 'True') return;
      last = ready ? `Ready=${ready.status} (${ready.reason}): ${ready.message}` : 'no status yet';
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`cascade ${cascade} not ready after ${timeoutMs / 1000} s: ${last}; the controller's last output:\n${indent(controller.tail())}`);
}

/**
 * Start the stack into `children` (the caller stops them, also on failure). Resolves once the controller reports every
 * tier ready and the router answers /readyz on the configuration the controller wrote.
 */
export async function startStack(o: StackOptions, children: ChildProcesses): Promise<Stack> {
  const ladder = demoCascade(o.cascade, o.tiers, o.scaling);
  writeFileSync(join(o.workDir, 'ladder.yaml'), `# Written by tiermix demo; removed when it ends.\n${stringify(ladder)}`);
  writeFileSync(join(o.workDir, 'controller.yaml'), `# Written by tiermix demo; removed when it ends.\n${stringify(controllerConfig(o, fittedOccupancy(o.policy), o.scaling))}`);
  // The router's port is chosen first: the controller's autoscaler scrapes it from the start.
  const routerPort = await freePort();
  o.log(`starting the controller (local runtime): ${o.tiers.map((t) => `${t.tier} = ${t.model} x${t.replicas.min}-${t.replicas.max}`).join(', ')}, SIMULATED replicas`);
  const startedAt = performance.now();
  const env = o.dataDir !== null && /\s/.test(o.dataDir) ? { ...process.env, TIERMIX_DATA: o.dataDir } : undefined;
  const controller = await children.start('controller', controllerArgs(o, routerPort), CONTROLLER_URL, o.startupTimeoutMs, env);
  o.onController?.(controller.url, startedAt);

  // The controller wrote the router's configuration before it logged its start (endpoints fill in as replicas get
  // ready, and the router reloads the file), so the router starts while the replicas load.
  const configFile = join(o.workDir, 'router.yaml');
  o.log(`starting the router on the configuration the controller writes (${configFile}) while the replicas load`);
  const router = await children.start('router', ['router', '--config', configFile, '--host', '127.0.0.1', '--port', String(routerPort)], ROUTER_URL, o.startupTimeoutMs);
  await waitForCascadeReady(controller, o.cascade, o.startupTimeoutMs, o.signal);
  await waitForOk(`${router.url}/readyz`, router, o.startupTimeoutMs, o.signal);
  return { routerUrl: router.url, controllerUrl: controller.url, startedAt };
}
