// vLLM's Prometheus metrics (the v1 engine names, labels model_name and engine), in a registry of this
// simulator's own so that several simulators can run in one process. prom-client does not append _total
// to counters, so the counter names carry it. Latencies are wall time as clients see it (after
// --time-scale), so they agree with what a client measures.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineEvents, EngineStats } from './engine.js';

// vLLM's bucket boundaries for these families.
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const REQUEST_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

export interface SimMetricsInfo {
  modelName: string;
  profile: string;
  timeScale: number;
}

export class SimMetrics {
  readonly registry = new Registry();
  private readonly labels: { model_name: string; engine: string };
  private readonly ttft: Histogram<string>;
  private readonly itl: Histogram<string>;
  private readonly e2e: Histogram<string>;
  private readonly queue: Histogram<string>;
  private readonly promptTokens: Counter<string>;
  private readonly generationTokens: Counter<string>;
  private readonly success: Counter<string>;

  constructor(info: SimMetricsInfo, stats: () => EngineStats) {
    const labels = { model_name: info.modelName, engine: '0' };
    this.labels = labels;
    const labelNames = ['model_name', 'engine'];
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: (s: EngineStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.set(labels, read(stats()));
        },
      });
    gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', (s) => s.running);
    gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', (s) => s.waiting);
    gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', (s) => s.kvUsage);
    const histogram = (name: string, help: string, buckets: number[]) =>
      new Histogram({ name, help, labelNames, buckets, registers });
    this.ttft = histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', TTFT_BUCKETS);
    this.itl = histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS);
    this.e2e = histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', REQUEST_BUCKETS);
    this.queue = histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', REQUEST_BUCKETS);
    this.promptTokens = new Counter({ name: 'vllm:prompt_tokens_total', help: 'Number of prefill tokens processed.', labelNames, registers });
    this.generationTokens = new Counter({
      name: 'vllm:generation_tokens_total',
      help: 'Number of generation tokens processed.',
      labelNames,
      registers,
    });
    this.success = new Counter({
      name: 'vllm:request_success_total',
      help: 'Count of successfully processed requests.',
      labelNames: [...labelNames, 'finished_reason'],
      registers,
    });
    // Not a vLLM metric: says plainly that this endpoint is a simulator.
    new Gauge({
      name: 'tiermix_simulator_info',
      help: 'Set to 1: this server is the tiermix vLLM simulator, not vLLM.',
      labelNames: ['model_name', 'profile', 'time_scale', 'simulated'],
      registers,
    }).set({ model_name: info.modelName, profile: info.profile, time_scale: String(info.timeScale), simulated: 'true' }, 1);
  }

  events(): EngineEvents {
    const l = this.labels;
    return {
      onAdmitted: (queueSeconds, promptTokens) => {
        this.queue.observe(l, queueSeconds);
        this.promptTokens.inc(l, promptTokens);
      },
      onFirstToken: (s) => this.ttft.observe(l, s),
      onInterToken: (s) => this.itl.observe(l, s),
      onGeneratedToken: () => this.generationTokens.inc(l, 1),
      onFinished: (e2e, reason) => {
        this.e2e.observe(l, e2e);
        this.success.inc({ ...l, finished_reason: reason }, 1);
      },
    };
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
