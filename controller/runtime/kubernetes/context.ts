// What a reconcile reads and writes through: the informer caches, the REST client, the pure planner, the optional
// autoscaler and meter, and the bookkeeping that keeps steady state write-free.
import type { Logger } from 'pino';
import type { ModelCascade } from '../../api/types.js';
import type { ControllerConfig } from '../../config/types.js';
import type { PlannerApi } from '../../plan/types.js';
import type { MeterSource, ScalingSource } from '../hooks.js';
import type { Clock } from './clock.js';
import type { EventRecorder } from './events.js';
import type { ApplyLoopGuard, FreshnessOverlay } from './freshness.js';
import type { Store } from './informer.js';
import type { WireObject } from './resources.js';
import type { KubeRest } from './rest.js';

export type CascadeObject = ModelCascade & WireObject;

export interface Stores {
  cascades: Store<CascadeObject>;
  deployments: Store<WireObject>;
  services: Store<WireObject>;
  pods: Store<WireObject>;
  configMaps: Store<WireObject>;
}

export interface ReconcileContext {
  planner: PlannerApi;
  config: ControllerConfig;
  stores: Stores;
  rest: KubeRest;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  overlay: FreshnessOverlay;
  guard: ApplyLoopGuard;
  scaling?: ScalingSource;
  meter?: MeterSource;
  enqueueRouter: () => void;
}

/** Queue key of a cascade. */
export const cascadeKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
