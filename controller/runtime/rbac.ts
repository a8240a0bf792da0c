// CONTRACT: every Kubernetes API call the controller makes, as RBAC rules. The Helm chart's ClusterRole must grant
// exactly these (a test compares them); the Kubernetes runtime must not call anything outside them.
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export const CONTROLLER_RULES: readonly PolicyRule[] = [
  { apiGroups: ['tiermix.dev'], resources: ['modelcascades'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['tiermix.dev'], resources: ['modelcascades/status'], verbs: ['get', 'patch', 'update'] },
  // No call uses it: owned objects carry blockOwnerDeletion, and clusters running the
  // OwnerReferencesPermissionEnforcement admission plugin require update on the owner's finalizers for that.
  { apiGroups: ['tiermix.dev'], resources: ['modelcascades/finalizers'], verbs: ['update'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/**
 * Only for `tiermix controller --install-crd` (local use against a test or dev cluster): install or update the
 * ModelCascade CRD and wait until it is Established. The chart ships the CRD under crds/ and does NOT grant these.
 */
export const CRD_INSTALL_RULES: readonly PolicyRule[] = [
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['get', 'patch'] },
];
