// Names, labels, selectors and owner references shared by every object the planner builds.
import type { V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND, LABELS, MANAGER, type ModelCascade } from '../api/types.js';

/** Deployment and Service of one tier: `<cascade>-<tier>` (validate.ts keeps it a DNS-1035 label <= 63 chars). */
export function tierObjectName(cascade: string, tier: string): string {
  return `${cascade}-${tier}`;
}

/** "<namespace>/<name>", the CascadeKey of controller/runtime/hooks.ts. */
export function cascadeKey(mc: ModelCascade): string {
  return `${mc.metadata.namespace ?? 'default'}/${mc.metadata.name}`;
}

/** The Deployment selector (immutable once created, so only the two labels that never change). */
export function tierSelector(cascade: string, tier: string): Record<string, string> {
  return { [LABELS.cascade]: cascade, [LABELS.tier]: tier };
}

export function tierLabels(cascade: string, tier: string): Record<string, string> {
  return {
    [LABELS.component]: 'vllm',
    [LABELS.managedBy]: MANAGER,
    'app.kubernetes.io/name': 'tiermix',
    ...tierSelector(cascade, tier),
  };
}

/**
 * The ModelCascade as controlling owner: deleting it garbage-collects the tier objects, and blockOwnerDeletion keeps
 * a foreground deletion waiting for them. Undefined without a uid (the local runtime has no API server).
 */
export function ownerReferences(mc: ModelCascade): V1OwnerReference[] | undefined {
  if (!mc.metadata.uid) return undefined;
  return [{ apiVersion: API_VERSION, kind: KIND, name: mc.metadata.name, uid: mc.metadata.uid, controller: true, blockOwnerDeletion: true }];
}
