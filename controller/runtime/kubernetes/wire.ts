// Conversion between client-node's typed models (what the planner, the meter and the autoscaler are written against:
// Date timestamps, V1* classes) and wire JSON (what the API sends and the informers cache).
// client-node 1.4 does not export its ObjectSerializer from the package root; this is the one deep import.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';

export type ModelName = 'V1Deployment' | 'V1Service' | 'V1Pod' | 'V1ConfigMap';

const typedCache = new WeakMap<object, unknown>();

/** Wire JSON -> typed model; memoised per cached object (informer objects are replaced, never mutated). */
export function toTyped<T>(wire: object, model: ModelName): T {
  const hit = typedCache.get(wire);
  if (hit) return hit as T;
  const typed = ObjectSerializer.deserialize(wire, model) as T;
  typedCache.set(wire, typed);
  return typed;
}

/** Typed model (or a plain object with the same field names) -> wire JSON; unknown fields are dropped. */
export function toWire(typed: object, model: ModelName): Record<string, unknown> {
  return ObjectSerializer.serialize(typed, model) as Record<string, unknown>;
}
