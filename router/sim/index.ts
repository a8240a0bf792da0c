// Public surface of the vLLM simulator for the rest of tiermix (demo, benchmarks, tests).
export { startSimulator, type RunningSimulator } from './server.js';
export type { SimulatorOptions, FaultSettings, SimLogger } from './options.js';
export * from './dataset.js';
export { PROFILES, guessProfile, type ProfileName, type LatencyProfile } from './latency.js';
