// The thin loops around the pure autoscaler and meter: the ScalingSource (AutoscalerLoop) and the MeterSource
// (GpuSecondsMeter) the runtime consumes. controller/cli/scaling.ts wires them into both runtimes.
export { AutoscalerLoop, observedReplicas, routerTierNames, vllmMetricsUrls, type AutoscalerLoopOptions, type ScaledCascade } from './loop.js';
export { GpuSecondsMeter, GPU_SECONDS_METRIC, type GpuSecondsMeterOptions } from './meter-source.js';
