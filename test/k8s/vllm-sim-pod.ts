// What process plays a tier pod: the pod's vLLM container (`vllm serve <model> --served-model-name ... --port 8000`)
// becomes `tiermix sim` playing the same model under the same served name, listening on the pod's IP at the
// container's port, with readiness probed where the pod's readinessProbe says. Pure: the pod in, a command out.
// The argument mapping is the local runtime's own (controller/runtime/local launchFor), so both stay in step.
import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import { LABELS, VLLM_PORT } from '../../controller/api/types.js';
import { launchFor, simulatorCommand } from '../../controller/runtime/local/index.js';

/** A process standing in for one container of a pod. */
export interface PodProcess {
  /** The container it plays. */
  container: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Readiness probe target on the pod IP. */
  port: number;
  path: string;
  /** Consecutive failed probes before the pod is not Ready (the probe's failureThreshold). */
  failureThreshold: number;
}

export interface SimPodOptions {
  /** --time-scale of the simulator (latencies x this). */
  timeScale: number;
  /** MMLU-Pro folder (--data), or null for generated questions. */
  dataDir: string | null;
  /** More simulator flags (e.g. --startup-seconds 1). */
  extraArgs?: string[];
  /** The simulator command up to its flags; default `node dist/router/cli/main.js sim`. */
  simulatorCommand?: string[];
}

/** A tier pod the controller created: labelled with its cascade and tier, with a container named vllm. */
export function isTierPod(pod: V1Pod): boolean {
  const labels = pod.metadata?.labels ?? {};
  return Boolean(labels[LABELS.cascade] && labels[LABELS.tier]) && vllmContainer(pod) !== undefined;
}

function vllmContainer(pod: V1Pod): V1Container | undefined {
  return pod.spec?.containers.find((c) => c.name === 'vllm');
}

/** The port a probe or the server uses: a number, a container port name, or the vLLM default. */
function resolvePort(c: V1Container, port: number | string | undefined): number {
  if (typeof port === 'number') return port;
  const named = (c.ports ?? []).find((p) => p.name === port) ?? (c.ports ?? []).find((p) => p.name === 'http');
  return named?.containerPort ?? VLLM_PORT;
}

/** Replaces the value after `flag` (present in the local runtime's simulator command). */
function setFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  if (i < 0 || i + 1 >= args.length) return [...args, flag, value];
  const out = [...args];
  out[i + 1] = value;
  return out;
}

/** The simulator for a tier pod on `ip`, or undefined for any other pod. */
export function simulatorForPod(pod: V1Pod, ip: string, opts: SimPodOptions): PodProcess | undefined {
  if (!isTierPod(pod)) return undefined;
  const c = vllmContainer(pod)!;
  const port = resolvePort(c, 'http');
  const launch = launchFor({ spec: { selector: {}, template: { spec: { containers: [c] } } } }, {
    engine: 'simulator',
    simulatorCommand: opts.simulatorCommand ?? simulatorCommand(),
    simulatorArgs: ['--time-scale', String(opts.timeScale), '--data', opts.dataDir ?? 'none', ...(opts.extraArgs ?? [])],
  });
  const args = setFlag(setFlag(launch.args, '--host', ip), '--port', String(port));
  const probe: V1Probe = c.readinessProbe ?? { httpGet: { path: '/health', port } };
  return {
    container: c.name,
    command: launch.command,
    args,
    port: resolvePort(c, probe.httpGet?.port),
    path: probe.httpGet?.path ?? '/health',
    failureThreshold: Math.max(1, probe.failureThreshold ?? 3),
  };
}
