// What the capacity model needs from one vLLM replica's /metrics (controller/autoscale/capacity.ts): the batch
// (running, waiting), the KV cache's use, and the inter-token latency histogram's cumulative sum and count.
// vLLM's v1 engine names first, then the older ones it replaced (gpu_cache_usage_perc,
// time_per_output_token_seconds). Several engines in one server (data parallel) are summed, KV use averaged.
import type { EngineReading } from '../autoscale/types.js';
import type { PromSample } from './prom-text.js';

const sum = (samples: readonly PromSample[], name: string): number | null => {
  const xs = samples.filter((s) => s.name === name && Number.isFinite(s.value));
  return xs.length === 0 ? null : xs.reduce((n, s) => n + s.value, 0);
};

const avg = (samples: readonly PromSample[], name: string): number | null => {
  const xs = samples.filter((s) => s.name === name && Number.isFinite(s.value));
  return xs.length === 0 ? null : xs.reduce((n, s) => n + s.value, 0) / xs.length;
};

/** One replica's reading; `id` names it across ticks (its metrics URL). Missing gauges read as 0, missing histograms as null. */
export function readEngine(id: string, samples: readonly PromSample[]): EngineReading {
  const itl = (base: string) => ({ s: sum(samples, `${base}_sum`), c: sum(samples, `${base}_count`) });
  let h = itl('vllm:inter_token_latency_seconds');
  if (h.s === null || h.c === null) h = itl('vllm:time_per_output_token_seconds');
  return {
    id,
    running: sum(samples, 'vllm:num_requests_running') ?? 0,
    waiting: sum(samples, 'vllm:num_requests_waiting') ?? 0,
    kvCacheUsage: avg(samples, 'vllm:kv_cache_usage_perc') ?? avg(samples, 'vllm:gpu_cache_usage_perc'),
    itlSeconds: h.s !== null && h.c !== null ? h.s : null,
    itlCount: h.s !== null && h.c !== null ? h.c : null,
  };
}
