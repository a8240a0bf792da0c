// The GPU-seconds meter: pure per-tier counters (serving / idle / loading) from pod lifecycle timestamps and
// the routers' in-flight signal. The MeterSource around it (prom-client counters) is in controller/scaling.
export { advanceMeter, newTierMeter, totalOf, METER_STATES, type GpuSecondsByState, type MeterState, type MeterUpdate, type PodPhase, type TierMeter } from './meter.js';
export { podFacts, toMs, type PodFacts } from './pod-facts.js';
