// vLLM's Prometheus metrics (the v1 engine names, labels model_name and engine), in a registry of this
// simulator's own so that several simulators can run in one process. prom-client does not append _total
// to counters, so the counter names carry it. Latencies are wall time as clients see it (after
// --time-scale), so they agree with what a client measures. The histograms and counters are bound to their
// label sets once (metric-cells.ts): they are touched for every token.
import { Gauge, Registry } from 'prom-client';
import type { EngineEvents, EngineStats } from './engine.js';
import { BoundCounter, BoundHistogram, type CounterCell } from './metric-cells.js';

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
  private readonly ttft: BoundHistogram;
  private readonly itl: BoundHistogram;
  private readonly e2e: BoundHistogram;
  private readonly queue: BoundHistogram;
  private readonly promptTokens: CounterCell;
  private readonly generationTokens: CounterCell;
  private readonly success: Readonly<Record<'stop' | 'length' | 'abort', CounterCell>>;

  constructor(info: SimMetricsInfo, stats: () => EngineStats) {
    const labels = { model_name: info.modelName, engine: '0' };
    const labelNames = ['model_name', 'engine'];
    const registry = this.registry;
    const registers = [registry];
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
    const histogram = (name: string, help: string, buckets: number[]) => new BoundHistogram(name, help, buckets, labels, registry);
    this.ttft = histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', TTFT_BUCKETS);
    this.itl = histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS);
    this.e2e = histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', REQUEST_BUCKETS);
    this.queue = histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', REQUEST_BUCKETS);
    this.promptTokens = new BoundCounter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.', registry).cell(labels);
    this.generationTokens = new BoundCounter('vllm:generation_tokens_total', 'Number of generation tokens processed.', registry).cell(labels);
    const success = new BoundCounter('vllm:request_success_total', 'Count of successfully processed requests.', registry);
    this.success = {
      stop: success.cell({ ...labels, finished_reason: 'stop' }),
      length: success.cell({ ...labels, finished_reason: 'length' }),
      abort: success.cell({ ...labels, finished_reason: 'abort' }),
    };
    // Not a vLLM metric: says plainly that this endpoint is a simulator.
    new Gauge({
      name: 'tiermix_simulator_info',
      help: 'Set to 1: this server is the tiermix vLLM simulator, not vLLM.',
      labelNames: ['model_name', 'profile', 'time_scale', 'simulated'],
      registers,
    }).set({ model_name: info.modelName, profile: info.profile, time_scale: String(info.timeScale), simulated: 'true' }, 1);
  }

  events(): EngineEvents {
    return {
      onAdmitted: (queueSeconds, promptTokens) => {
        this.queue.observe(queueSeconds);
        this.promptTokens.inc(promptTokens);
      },
      onFirstToken: (s) => this.ttft.observe(s),
      onInterToken: (s, times) => this.itl.observe(s, times),
      onGeneratedTokens: (count) => this.generationTokens.inc(count),
      onFinished: (e2e, reason) => {
        this.e2e.observe(e2e);
        this.success[reason].inc(1);
      },
    };
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
