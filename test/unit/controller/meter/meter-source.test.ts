import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { GpuSecondsMeter, GPU_SECONDS_METRIC } from '../../../../controller/scaling/index.js';
import { parsePrometheusText } from '../../../../controller/signals/index.js';

const S = 1000;
/** A pod scheduled at `at` s and, when `readyAt` is given, Ready from then. */
const tierPod = (name: string, at: number, readyAt?: number): V1Pod =>
  ({
    metadata: { name, uid: name },
    spec: { containers: [], nodeName: 'gpu-1' },
    status: {
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(at * S) },
        readyAt === undefined
          ? { type: 'Ready', status: 'False', lastTransitionTime: new Date(at * S) }
          : { type: 'Ready', status: 'True', lastTransitionTime: new Date(readyAt * S) },
      ],
    },
  }) as V1Pod;

async function exported(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of parsePrometheusText(await registry.metrics())) {
    if (s.name === GPU_SECONDS_METRIC) out[`${s.labels.cascade} ${s.labels.tier} ${s.labels.state}`] = s.value;
  }
  return out;
}

test('MeterSource: counters in the given registry, advanced to now on every scrape, summed into status', async () => {
  const registry = new Registry();
  let now = 0;
  const meter = new GpuSecondsMeter({ registry, now: () => now });
  // Scheduled at 0, Ready at 30 s, 2 GPUs; 1 request in flight from 40 s.
  meter.observePods('ns/c', 'big', 2, [tierPod('p', 0)], 0);
  meter.observeInFlight('ns/c', 'big', 0, 0);
  meter.observePods('ns/c', 'big', 2, [tierPod('p', 0, 30)], 30 * S); // the informer's Ready event
  now = 40 * S;
  meter.observeInFlight('ns/c', 'big', 1, now);
  now = 100 * S;
  assert.deepEqual(await exported(registry), { 'ns/c big serving': 120, 'ns/c big idle': 20, 'ns/c big loading': 60 });
  assert.deepEqual(meter.gpuSeconds('ns/c', now), { big: 200 });
  now = 110 * S;
  assert.deepEqual(meter.gpuSeconds('ns/c', now), { big: 220 });
  assert.equal((await exported(registry))['ns/c big serving'], 140);
});

test('MeterSource: a baseline seeded from status continues the total across restarts; forget keeps the exported series', async () => {
  const registry = new Registry();
  let now = 0;
  const meter = new GpuSecondsMeter({ registry, now: () => now });
  meter.seed('ns/c', { big: 5000, gone: 12 });
  meter.seed('ns/c', { big: 1 }); // already seeded: ignored
  meter.observePods('ns/c', 'big', 1, [tierPod('p', -100, -70)], 0); // running before this process: counted from now on
  now = 10 * S;
  assert.deepEqual(meter.gpuSeconds('ns/c', now), { big: 5010, gone: 12 });
  meter.forget('ns/c');
  assert.deepEqual(meter.gpuSeconds('ns/c', now), {});
  assert.equal((await exported(registry))['ns/c big idle'], 10);
  // Re-created under the same key: the series counts on (monotonic), from the new pods.
  meter.observePods('ns/c', 'big', 1, [tierPod('q', 10)], now);
  meter.observePods('ns/c', 'big', 1, [tierPod('q', 10, 40)], 40 * S);
  now = 60 * S;
  const after = await exported(registry);
  assert.equal(after['ns/c big idle'], 10 + 20);
  assert.equal(after['ns/c big loading'], 30);
});
