// The expected Service of one tier: headless (clusterIP: None). The router does not use it: it balances by load
// over the pod IPs the controller writes into its configuration, and a ClusterIP in between would add a second,
// load-blind balancer (kube-proxy picks connections at random) under long-running generation requests. The headless
// Service gives each tier a stable DNS name that resolves to its Ready pods, for people, for tools (Prometheus
// service discovery, curl from a debug pod) and for clients that want to pin one tier without the router.
import type { V1Service } from '@kubernetes/client-node';
import { VLLM_PORT, type ModelCascade } from '../api/types.js';
import { canonical } from './canonical.js';
import type { ResolvedTier } from './defaults.js';
import { ownerReferences, tierLabels, tierObjectName, tierSelector } from './names.js';

export function buildService(mc: ModelCascade, tier: ResolvedTier): V1Service {
  const cascade = mc.metadata.name;
  return canonical({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: tierObjectName(cascade, tier.name),
      namespace: mc.metadata.namespace,
      labels: tierLabels(cascade, tier.name),
      ownerReferences: ownerReferences(mc),
    },
    spec: {
      clusterIP: 'None',
      selector: tierSelector(cascade, tier.name),
      ports: [{ name: 'http', port: VLLM_PORT, targetPort: 'http', protocol: 'TCP' }],
      // Only Ready pods are in DNS (publishNotReadyAddresses defaults to false). It is not written out: the API server
      // drops a false bool that is not a pointer, so applying it would rewrite the Service on every apply.
    },
  } satisfies V1Service);
}
