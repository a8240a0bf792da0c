// The router's configuration for every cascade the controller manages: one router cascade per ModelCascade, its
// tiers named `<cascade>/<tier>` with the base URLs of their Ready pods. Rendered as YAML into a ConfigMap (key
// router.yaml) that the router's pods mount and hot-reload, or into a file by the local runtime.
//
// Deterministic: cascades sorted by namespace/name, endpoints sorted, keys sorted. An unchanged world renders the same
// bytes, so the runtime writes nothing in steady state.
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { LABELS, MANAGER, VLLM_PORT, type ModelCascade } from '../api/types.js';
import type { ControllerConfig } from '../config/types.js';
import { canonical } from './canonical.js';
import { resolveTier } from './defaults.js';
import { cascadeKey } from './names.js';
import { cascadePolicy } from './routing.js';
import type { ObservedTier } from './types.js';
import { validateCascade } from './validate.js';

export const ROUTER_CONFIG_KEY = 'router.yaml';

function isReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false; // Terminating: stop sending it new requests
  if (!pod.status?.podIP || pod.status.phase !== 'Running') return false;
  return (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The pod's vLLM port: its container port named http (the local runtime gives each process its own), else 8000. */
function portOf(pod: V1Pod): number {
  for (const c of pod.spec?.containers ?? []) {
    const p = (c.ports ?? []).find((port) => port.name === 'http');
    if (p) return p.containerPort;
  }
  return VLLM_PORT;
}

function hostOf(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip; // IPv6 literal in a URL
}

/** Base URLs (http://<podIP>:<port>) of the Ready, not Terminating pods, sorted and without duplicates. */
export function readyEndpoints(pods: readonly V1Pod[]): string[] {
  const urls = pods.filter(isReady).map((p) => `http://${hostOf(p.status!.podIP!)}:${portOf(p)}`);
  return [...new Set(urls)].sort();
}

/**
 * Router cascade names: the ModelCascade's name, which is what clients send as `model`. Names must be unique in the
 * router, so a name used in more than one namespace is qualified as `<namespace>/<name>` for every use of it.
 */
export function routerCascadeNames(cascades: readonly ModelCascade[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const mc of cascades) count.set(mc.metadata.name, (count.get(mc.metadata.name) ?? 0) + 1);
  return new Map(cascades.map((mc) => [cascadeKey(mc), (count.get(mc.metadata.name) ?? 0) > 1 ? cascadeKey(mc) : mc.metadata.name]));
}

export interface RouterConfigInput {
  mc: ModelCascade;
  observed: ObservedTier[];
  /** From the autoscaler when the cascade's GPU cap binds (ScalingSource.routingCostMultiplier); default 1. */
  costMultiplier?: number;
}

/**
 * The router configuration as a plain object (what RouterConfigSchema parses). Each router cascade carries its own
 * policy from its spec.routing (routing.ts). The verification settings are router-wide: the first cascade (by
 * namespace/name) that sets spec.routing.verifier decides them; config.router.base gives the rest. Cascades whose
 * spec is invalid are left out, so one bad ModelCascade cannot make the whole file invalid for the others.
 */
export function buildRouterConfig(cascades: readonly RouterConfigInput[], config: ControllerConfig): Record<string, unknown> {
  const valid = cascades
    .filter((c) => validateCascade(c.mc, config).length === 0)
    .sort((a, b) => (cascadeKey(a.mc) < cascadeKey(b.mc) ? -1 : cascadeKey(a.mc) > cascadeKey(b.mc) ? 1 : 0));
  const names = routerCascadeNames(valid.map((c) => c.mc));
  const base = structuredClone(config.router.base ?? {});
  const out: Record<string, unknown> = { ...base };
  const verifier = valid.find((c) => c.mc.spec.routing?.verifier !== undefined)?.mc.spec.routing?.verifier;
  if (verifier?.samples !== undefined || verifier?.temperature !== undefined) {
    out.verification = { ...((base.verification as Record<string, unknown> | undefined) ?? {}), samples: verifier.samples, temperature: verifier.temperature };
  }
  out.cascades = valid.map(({ mc, observed, costMultiplier }) => {
    const name = names.get(cascadeKey(mc))!;
    return {
      name,
      policy: cascadePolicy(mc, base.policy, costMultiplier),
      tiers: mc.spec.tiers.map((spec) => {
        const tier = resolveTier(spec, config);
        const pods = observed.find((o) => o.name === spec.name)?.pods ?? [];
        return { name: `${name}/${tier.name}`, model: tier.servedModelName, endpoints: readyEndpoints(pods), gpusPerReplica: tier.gpusPerReplica };
      }),
    };
  });
  return canonical(out);
}

export function renderRouterYaml(cascades: readonly RouterConfigInput[], config: ControllerConfig): string {
  return '# Written by the tiermix controller from the ModelCascades it manages; edits are overwritten.\n' + stringify(buildRouterConfig(cascades, config), { lineWidth: 0 });
}

export function buildRouterConfigMap(cascades: readonly RouterConfigInput[], config: ControllerConfig): V1ConfigMap {
  return canonical({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: config.router.configMapName,
      namespace: config.router.configMapNamespace,
      labels: { [LABELS.managedBy]: MANAGER, [LABELS.component]: 'router-config', 'app.kubernetes.io/name': 'tiermix' },
    },
    data: { [ROUTER_CONFIG_KEY]: renderRouterYaml(cascades, config) },
  } satisfies V1ConfigMap);
}
