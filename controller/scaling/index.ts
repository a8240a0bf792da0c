// The thin loops around the pure autoscaler and meter: the ScalingSource (AutoscalerLoop) and the MeterSource
// (GpuSecondsMeter) the runtime consumes, and the wiring helper for the controller's main.
export { AutoscalerLoop, routerTierNames, type AutoscalerLoopOptions, type ScaledCascade } from './loop.js';
export { GpuSecondsMeter, GPU_SECONDS_METRIC, type GpuSecondsMeterOptions } from './meter-source.js';
export { createAutoscaling, observedReplicas, vllmMetricsUrls, type AutoscalingOptions } from './wire.js';
