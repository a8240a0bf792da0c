// What the demo hands the controller (pure; tested): the 3-tier ladder as a ModelCascade, and the controller
// configuration whose router.base becomes the router's settings and policy. All times in them are modelled seconds:
// the controller runs with --time-scale, so its clock, windows and delays are the simulators' modelled time.
import { API_VERSION, KIND, type ModelCascade } from '../../controller/api/types.js';
import { readPomdpParams } from '../policy/pomdp/params.js';
import { resolveModelDir } from '../server/routing-models.js';
import type { DemoPolicy, DemoTier } from './types.js';

export interface DemoScaling {
  /** spec.tiers[].autoscaling.scaleDownDelaySeconds of every tier (modelled seconds). */
  scaleDownDelaySeconds: number;
  /** The controller's autoscalerIntervalSeconds (modelled seconds). */
  intervalSeconds: number;
}

/**
 * Short enough that tiers scale down within the demo, long enough that a lull between requests does not. And longer
 * than a replica's cold start as the autoscaler measures it here (10 s of --cold-start plus the simulator's own start,
 * about 60 modelled seconds in all at time scale 0.1 with the real data), because the autoscaler holds replicas for the
 * longer of the two: the delay is a whole number of ticks, which its scale-down window needs to fill.
 */
export const DEMO_SCALING: DemoScaling = { scaleDownDelaySeconds: 90, intervalSeconds: 5 };

/** The ladder as a ModelCascade (no spec.routing: the router's policy comes from router.base, see controllerConfig). */
export function demoCascade(name: string, tiers: readonly DemoTier[], scaling: DemoScaling = DEMO_SCALING): ModelCascade {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace: 'default' },
    spec: {
      tiers: tiers.map((t) => ({
        name: t.tier,
        model: t.hfModel,
        servedModelName: t.model,
        gpusPerReplica: t.gpusPerReplica,
        replicas: { ...t.replicas },
        autoscaling: { targetInFlightPerReplica: t.targetInFlightPerReplica, scaleDownDelaySeconds: scaling.scaleDownDelaySeconds },
      })),
    },
  };
}

/**
 * The controller configuration: A100-80GB placement (the simulators' latency profiles), the autoscaler's interval,
 * and router.base, which the controller copies into the router configuration it writes: the server, the
 * verification samples and the demo's policy (lambda, budget and cost estimates converted for the time scale).
 */
export function controllerConfig(
  o: { samples: number; policy: DemoPolicy; timeScale: number },
  occupancy?: { answer: readonly number[]; verify: readonly number[] },
  scaling: DemoScaling = DEMO_SCALING,
): Record<string, unknown> {
  return {
    defaultGpuProfile: 'nvidia-a100-80gb',
    autoscalerIntervalSeconds: scaling.intervalSeconds,
    router: {
      configMapNamespace: 'default',
      configMapName: 'tiermix-router',
      base: {
        server: { host: '127.0.0.1', port: 0, shutdownGraceSeconds: 1 },
        verification: { samples: o.samples },
        policy: routerPolicy(o.policy, o.timeScale, occupancy),
      },
    },
    leaderElection: { enabled: false },
  };
}

/**
 * The router's policy block. The simulators run at time scale s, so the router meters s wall GPU-seconds for
 * every modelled one: the POMDP gets lambda / s, a budget x s, and (when known) its cost estimate starts at the
 * fitted occupancy seconds x s, so that the demo's flags mean modelled GPU-seconds.
 */
export function routerPolicy(policy: DemoPolicy, timeScale: number, occupancy?: { answer: readonly number[]; verify: readonly number[] }) {
  if (policy.type === 'threshold') return policy;
  const objective = 'lambda' in policy.objective ? { lambda: policy.objective.lambda / timeScale } : { gpuSecondsPerRequest: policy.objective.gpuSecondsPerRequest * timeScale };
  const { costs, ...rest } = policy;
  return {
    ...rest,
    objective,
    costs: {
      source: costs,
      // The router publishes its cost estimate every 10 modelled seconds.
      publishSeconds: 10 * timeScale,
      ...(occupancy ? { answerSeconds: occupancy.answer.map((x) => x * timeScale), verifySeconds: occupancy.verify.map((x) => x * timeScale) } : {}),
    },
  };
}

/** The fitted occupancy seconds of the demo's POMDP model, if its folder can be read (else the router will say why). */
export function fittedOccupancy(policy: DemoPolicy): { answer: number[]; verify: number[] } | undefined {
  if (policy.type !== 'pomdp') return undefined;
  try {
    return readPomdpParams(resolveModelDir(policy.model)).params.occupancySeconds;
  } catch {
    return undefined;
  }
}
