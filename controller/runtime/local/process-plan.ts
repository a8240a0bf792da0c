// The local runtime's pure core: from the planned Deployments to the processes that should run, and from the
// processes that run to what to start and stop. The same rollout rule as the Deployment (maxSurge 0,
// maxUnavailable 1): never more processes than replicas, replace an outdated one only while the others are ready.
import { createHash } from 'node:crypto';
import type { V1Deployment } from '@kubernetes/client-node';
import { LABELS } from '../../api/types.js';

/** Stands for the process's own port in LaunchSpec.args; the adapter substitutes a free port. */
export const PORT_PLACEHOLDER = '{port}';

export interface LaunchSpec {
  command: string;
  args: string[];
}

/** One planned Deployment, as processes. */
export interface ProcessGroup {
  /** "<namespace>/<deployment name>" */
  key: string;
  /** "<namespace>/<cascade>" (the CascadeKey) and tier, from the Deployment's labels. */
  cascade: string;
  tier: string;
  replicas: number;
  launch: LaunchSpec;
  /** Changes when the launch changes: processes with another hash are outdated and get replaced. */
  hash: string;
}

export interface ProcessState {
  id: string;
  group: string;
  hash: string;
  ready: boolean;
  startedAtMs: number;
}

export interface ProcessPlan {
  start: { group: ProcessGroup; count: number }[];
  stop: string[];
}

export interface LaunchOptions {
  /** Run `vllm serve` (a vllm binary on PATH) or the project's simulator. */
  engine: 'vllm' | 'simulator';
  /** The simulator command up to its flags, e.g. [process.execPath, '<repo>/dist/router/cli/main.js', 'sim']. */
  simulatorCommand: string[];
  /** Extra simulator flags for every process (e.g. --time-scale 0.01 --data none). */
  simulatorArgs?: string[];
}

function flagValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`${flag}=`));
  return eq?.slice(flag.length + 1);
}

/** Replace the value of `flag` (both `--flag v` and `--flag=v` forms). */
function withFlag(args: readonly string[], flag: string, value: string): string[] {
  const out = [...args];
  const i = out.indexOf(flag);
  if (i >= 0 && i + 1 < out.length) out[i + 1] = value;
  else {
    const j = out.findIndex((a) => a.startsWith(`${flag}=`));
    if (j >= 0) out[j] = `${flag}=${value}`;
    else out.push(flag, value);
  }
  return out;
}

/**
 * The command for one replica of a planned Deployment. vllm: the container's own `vllm serve` command line, on
 * 127.0.0.1 and the process's port. simulator: `tiermix sim` playing the same model under the same served name.
 */
export function launchFor(deployment: V1Deployment, opts: LaunchOptions): LaunchSpec {
  const c = deployment.spec?.template.spec?.containers[0];
  const args = c?.args ?? [];
  if (opts.engine === 'vllm') {
    const [cmd, ...sub] = c?.command ?? ['vllm', 'serve'];
    return { command: cmd ?? 'vllm', args: withFlag(withFlag([...sub, ...args], '--port', PORT_PLACEHOLDER), '--host', '127.0.0.1') };
  }
  const model = args[0] ?? 'unknown';
  const sim = ['--model', model, '--served-model-name', flagValue(args, '--served-model-name') ?? model, '--host', '127.0.0.1', '--port', PORT_PLACEHOLDER];
  const maxLen = flagValue(args, '--max-model-len');
  if (maxLen !== undefined) sim.push('--max-model-len', maxLen);
  const [cmd, ...pre] = opts.simulatorCommand;
  return { command: cmd ?? process.execPath, args: [...pre, ...sim, ...(opts.simulatorArgs ?? [])] };
}

export function groupFor(deployment: V1Deployment, opts: LaunchOptions): ProcessGroup {
  const labels = deployment.metadata?.labels ?? {};
  const ns = deployment.metadata?.namespace ?? 'default';
  const launch = launchFor(deployment, opts);
  return {
    key: `${ns}/${deployment.metadata?.name ?? ''}`,
    cascade: `${ns}/${labels[LABELS.cascade] ?? ''}`,
    tier: labels[LABELS.tier] ?? '',
    replicas: Math.max(0, deployment.spec?.replicas ?? 0),
    launch,
    hash: createHash('sha256').update(JSON.stringify(launch)).digest('hex').slice(0, 16),
  };
}

/** Stop order among candidates: not ready first, then the newest (it has served least). */
function stopOrder(a: ProcessState, b: ProcessState): number {
  if (a.ready !== b.ready) return a.ready ? 1 : -1;
  return b.startedAtMs - a.startedAtMs || (a.id < b.id ? -1 : 1);
}

/**
 * What to start and stop. `holdUntilMs[group]`: no starts before then (crash-loop back-off, decided by the adapter
 * from exit times).
 */
export function planProcesses(groups: readonly ProcessGroup[], running: readonly ProcessState[], nowMs: number, holdUntilMs: Readonly<Record<string, number>> = {}): ProcessPlan {
  const plan: ProcessPlan = { start: [], stop: [] };
  const wanted = new Map(groups.map((g) => [g.key, g]));
  for (const p of running) if (!wanted.has(p.group)) plan.stop.push(p.id);

  for (const g of groups) {
    const mine = running.filter((p) => p.group === g.key);
    const current = mine.filter((p) => p.hash === g.hash).sort(stopOrder);
    let outdated = mine.filter((p) => p.hash !== g.hash).sort(stopOrder);
    // Too many current ones (scale down): stop the extras.
    const extra = Math.max(0, current.length - g.replicas);
    plan.stop.push(...current.slice(0, extra).map((p) => p.id));
    const keptCurrent = current.length - extra;
    // Never more than `replicas` processes in total: outdated ones beyond that go first.
    const room = Math.max(0, g.replicas - keptCurrent);
    plan.stop.push(...outdated.slice(0, Math.max(0, outdated.length - room)).map((p) => p.id));
    outdated = outdated.slice(Math.max(0, outdated.length - room));
    const missing = g.replicas - keptCurrent - outdated.length;
    if (missing > 0) {
      if (nowMs >= (holdUntilMs[g.key] ?? 0)) plan.start.push({ group: g, count: missing });
    } else if (outdated.length > 0 && mine.every((p) => p.ready)) {
      // Rolling replacement, one at a time, only while everything else serves (maxUnavailable 1, maxSurge 0).
      plan.stop.push(outdated[0]!.id);
    }
  }
  return plan;
}
