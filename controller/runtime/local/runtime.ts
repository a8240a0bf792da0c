// The `local` runtime: the planner's plan run as processes on this machine, for demos and development without a
// cluster. Per planned Deployment, `replicas` processes of `vllm serve` (when vllm is on PATH) or of the simulator,
// each on its own port; the router's configuration written to a file that `tiermix router --config <file>` hot-reloads;
// statuses kept in memory. Decisions are the planner's and planProcesses'; this file only sequences them.
import { accessSync, constants, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelCascade, ModelCascadeStatus } from '../../api/types.js';
import type { ControllerConfig } from '../../config/types.js';
import { sameJson } from '../../plan/canonical.js';
import { planner, ROUTER_CONFIG_KEY } from '../../plan/index.js';
import { cascadeKey } from '../../plan/names.js';
import type { PlannerApi } from '../../plan/types.js';
import type { CascadeKey, CascadeSnapshot, MeterSource, ScalingSource } from '../hooks.js';
import { observeCascade, type RunningProcess } from './observe.js';
import { groupFor, planProcesses, type LaunchOptions, type ProcessGroup } from './process-plan.js';
import { ProcessRunner, type ProcessRunnerOptions } from './processes.js';

export interface LocalRuntimeOptions {
  config: ControllerConfig;
  /** Where the router's configuration (router.yaml of planRouterConfigMap) is written. */
  routerConfigFile: string;
  /** auto (default): vllm when a `vllm` executable is on PATH, else the simulator. */
  engine?: 'auto' | 'vllm' | 'simulator';
  /** Extra flags for every simulator process, e.g. ['--time-scale', '0.01', '--data', 'none']. */
  simulatorArgs?: string[];
  scaling?: ScalingSource;
  meter?: MeterSource;
  now?: () => number;
  process?: ProcessRunnerOptions;
  planner?: PlannerApi;
  log?: (line: string) => void;
  /** Called when a cascade's status changed (what the Kubernetes runtime would write to the status subresource). */
  onStatus?: (key: CascadeKey, status: ModelCascadeStatus) => void;
}

export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** dist/router/cli/main.js, from dist/controller/runtime/local/. */
export function simulatorCommand(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [process.execPath, resolve(here, '../../../router/cli/main.js'), 'sim'];
}

export class LocalRuntime {
  private readonly specs = new Map<CascadeKey, ModelCascade>();
  private readonly statuses = new Map<CascadeKey, ModelCascadeStatus>();
  private readonly runner: ProcessRunner;
  private readonly launch: LaunchOptions;
  private readonly planner: PlannerApi;
  private readonly now: () => number;
  private readonly unsubscribe: (() => void)[] = [];
  private groups: ProcessGroup[] = [];
  private readonly validGroups = new Map<CascadeKey, ProcessGroup[]>();
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private holdTimer: NodeJS.Timeout | undefined;
  private lastRouterYaml: string | undefined;

  constructor(private readonly opts: LocalRuntimeOptions) {
    this.now = opts.now ?? Date.now;
    this.planner = opts.planner ?? planner;
    const engine = opts.engine === undefined || opts.engine === 'auto' ? (findOnPath('vllm') ? 'vllm' : 'simulator') : opts.engine;
    this.launch = { engine, simulatorCommand: simulatorCommand(), simulatorArgs: opts.simulatorArgs };
    this.runner = new ProcessRunner({ now: this.now, ...opts.process });
    this.unsubscribe.push(this.runner.onChange(() => this.kick()));
    if (opts.scaling) this.unsubscribe.push(opts.scaling.onChange(() => this.kick()));
    this.opts.log?.(`local runtime: tiers run as ${engine === 'vllm' ? '`vllm serve` processes' : 'SIMULATED vLLM processes (tiermix sim)'}`);
  }

  get engine(): 'vllm' | 'simulator' {
    return this.launch.engine;
  }

  /** Add or update a ModelCascade (generation moves when its spec changes, as on an API server). */
  apply(mc: ModelCascade): Promise<void> {
    const key = cascadeKey(mc);
    const before = this.specs.get(key);
    const copy = structuredClone(mc);
    copy.metadata.namespace ??= 'default';
    const generation = before ? (sameJson(before.spec, copy.spec) ? before.metadata.generation : (before.metadata.generation ?? 1) + 1) : 1;
    copy.metadata.generation = generation;
    copy.metadata.creationTimestamp ??= before?.metadata.creationTimestamp ?? new Date(this.now()).toISOString();
    copy.status = this.statuses.get(key);
    this.specs.set(key, copy);
    return this.reconcile();
  }

  delete(key: CascadeKey): Promise<void> {
    this.specs.delete(key);
    this.statuses.delete(key);
    this.validGroups.delete(key);
    this.opts.meter?.forget(key);
    return this.reconcile();
  }

  status(key: CascadeKey): ModelCascadeStatus | undefined {
    return this.statuses.get(key);
  }

  processes(): RunningProcess[] {
    return this.runner.list();
  }

  pid(id: string): number | undefined {
    return this.runner.pid(id);
  }

  /** Every cascade with its tiers as observed now (Deployments and pods standing for the process groups). */
  cascades(): CascadeSnapshot[] {
    const processes = this.runner.list();
    const crashes = this.runner.crashLooping();
    return [...this.specs.entries()].map(([key, mc]) => ({ key, mc, observed: observeCascade(mc, this.groups, processes, crashes) }));
  }

  /** Run one reconcile (coalesced: calls during a run make one more run after it). */
  reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.reconcileOnce();
        } while (this.again && !this.closed);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const u of this.unsubscribe) u();
    if (this.holdTimer) clearTimeout(this.holdTimer);
    await this.running?.catch(() => undefined);
    await this.runner.close();
  }

  private kick(): void {
    if (!this.closed) void this.reconcile().catch((err) => this.opts.log?.(`local runtime: reconcile failed: ${(err as Error).message}`));
  }

  private async reconcileOnce(): Promise<void> {
    if (this.closed) return;
    const { config } = this.opts;
    const problems = new Map<CascadeKey, ReturnType<PlannerApi['validateCascade']>>();
    const groups: ProcessGroup[] = [];
    for (const [key, mc] of this.specs) {
      const p = this.planner.validateCascade(mc, config);
      problems.set(key, p);
      if (p.length > 0) {
        // As on a cluster: an invalid spec changes nothing; what the last valid spec started keeps running.
        groups.push(...(this.validGroups.get(key) ?? []));
        continue;
      }
      const decisions = this.opts.scaling?.desired(key);
      const desired = decisions && Object.fromEntries(Object.entries(decisions).map(([tier, d]) => [tier, d.desired]));
      const planned = this.planner.planCascade(mc, config, desired).deployments.map((d) => groupFor(d, this.launch));
      this.validGroups.set(key, planned);
      groups.push(...planned);
    }
    this.groups = groups;

    const now = this.now();
    const hold = this.runner.holdUntil();
    const plan = planProcesses(groups, this.runner.list().filter((p) => !p.stopping), now, hold);
    await Promise.all(plan.stop.map((id) => this.runner.stop(id)));
    for (const { group, count } of plan.start) {
      for (let i = 0; i < count; i++) {
        const p = await this.runner.start(group);
        this.opts.log?.(`local runtime: started ${p.id} (${group.tier} of ${group.cascade}) on port ${p.port}`);
      }
    }
    for (const id of plan.stop) this.opts.log?.(`local runtime: stopped ${id}`);
    this.scheduleHoldExpiry(hold, now);
    this.publish(problems);
  }

  /** Router configuration file and statuses from what runs now. */
  private publish(problems: Map<CascadeKey, ReturnType<PlannerApi['validateCascade']>>): void {
    const { config } = this.opts;
    const processes = this.runner.list();
    const now = this.now();
    const crashes = this.runner.crashLooping();
    const inputs = [...this.specs.values()].map((mc) => {
      const costMultiplier = this.opts.scaling?.routingCostMultiplier?.(cascadeKey(mc));
      return { mc, observed: observeCascade(mc, this.groups, processes, crashes), ...(costMultiplier !== undefined ? { costMultiplier } : {}) };
    });
    const yaml = this.planner.planRouterConfigMap(inputs, config).data?.[ROUTER_CONFIG_KEY] ?? '';
    this.writeRouterConfig(yaml);
    for (const { mc, observed } of inputs) {
      const key = cascadeKey(mc);
      if (this.opts.meter) {
        for (const o of observed) {
          const gpus = mc.spec.tiers.find((t) => t.name === o.name)?.gpusPerReplica ?? 1;
          this.opts.meter.observePods(key, o.name, gpus, o.pods, now);
        }
      }
      const gpuSeconds = this.opts.meter?.gpuSeconds(key, now) ?? {};
      const reasons = Object.fromEntries(Object.entries(this.opts.scaling?.desired(key) ?? {}).map(([t, d]) => [t, d.reason]));
      const status = this.planner.summarizeStatus(mc, observed, problems.get(key) ?? [], gpuSeconds, now, reasons);
      if (this.planner.statusChanged(mc.status, status)) {
        mc.status = status;
        this.statuses.set(key, status);
        this.opts.onStatus?.(key, status);
      }
    }
  }

  /** Atomic replace (write + rename), and only when the content changed: the router reloads on change. */
  private writeRouterConfig(yaml: string): void {
    const file = this.opts.routerConfigFile;
    if (this.lastRouterYaml === undefined) {
      try {
        this.lastRouterYaml = readFileSync(file, 'utf8');
      } catch {
        this.lastRouterYaml = '';
      }
    }
    if (yaml === this.lastRouterYaml) return;
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, yaml);
    renameSync(tmp, file);
    this.lastRouterYaml = yaml;
  }

  /** A group held back after crashes needs a reconcile when its hold ends. */
  private scheduleHoldExpiry(hold: Record<string, number>, now: number): void {
    const next = Math.min(...Object.values(hold).filter((t) => t > now));
    if (!Number.isFinite(next) || this.closed) return;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => this.kick(), next - now + 10);
    this.holdTimer.unref();
  }
}
