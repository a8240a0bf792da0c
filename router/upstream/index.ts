// The upstream layer: talk to one tier's vLLM replicas.
export * from './types.js';
export { createTierClient, type InspectableTierClient, type ReplicaSnapshot, type TierClientOptions, type UpstreamLogger } from './tier-client.js';
export { DEFAULT_EJECTION, type EjectionPolicy } from './replica-set.js';
export { DEFAULT_HEALTH_CHECK, type HealthCheckOptions } from './health.js';
