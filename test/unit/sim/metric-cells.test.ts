// The bound histograms and counters against prom-client's own Histogram and Counter: the same
// observations must give the same /metrics text and the same JSON.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { BoundCounter, BoundHistogram } from '../../../router/sim/metric-cells.js';
import { SimMetrics } from '../../../router/sim/metrics.js';
import { seededRng } from '../../../router/sim/rng.js';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];
const labels = { model_name: 'm "quoted"\\x', engine: '0' };

function pair() {
  const ours = new Registry();
  const theirs = new Registry();
  const labelNames = ['model_name', 'engine'];
  return {
    ours,
    theirs,
    histogram: new BoundHistogram('h_seconds', 'A histogram.', BUCKETS, labels, ours),
    promHistogram: new Histogram({ name: 'h_seconds', help: 'A histogram.', labelNames, buckets: BUCKETS, registers: [theirs] }),
    counter: new BoundCounter('c_total', 'A counter.', ours),
    promCounter: new Counter({ name: 'c_total', help: 'A counter.', labelNames: [...labelNames, 'reason'], registers: [theirs] }),
  };
}

async function assertSameExport(ours: Registry, theirs: Registry): Promise<void> {
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
}

describe('bound metric cells', () => {
  it('export nothing but the headers before the first observation, as prom-client does', async () => {
    const p = pair();
    await assertSameExport(p.ours, p.theirs);
    assert.doesNotMatch(await p.ours.metrics(), /h_seconds_count|c_total\{/);
  });

  it('export what prom-client exports for the same observations, repeated ones and zero increments included', async () => {
    const p = pair();
    const rng = seededRng(11);
    const stop = p.counter.cell({ ...labels, reason: 'stop' });
    const abort = p.counter.cell({ ...labels, reason: 'abort' });
    for (let i = 0; i < 500; i++) {
      // Values in every bucket, on the bounds, above the last bound, and zeros.
      const value = [0, 0.001, 0.5, 20, rng() * 12, rng() / 100][i % 6]!;
      const times = 1 + Math.floor(rng() * 4);
      p.histogram.observe(value, times);
      for (let k = 0; k < times; k++) p.promHistogram.observe(labels, value);
      const cell = i % 3 === 0 ? abort : stop; // abort is touched first, so it is listed first
      const amount = i % 7 === 0 ? 0 : Math.floor(rng() * 5);
      cell.inc(amount);
      p.promCounter.inc({ ...labels, reason: i % 3 === 0 ? 'abort' : 'stop' }, amount);
    }
    await assertSameExport(p.ours, p.theirs);
  });

  it('refuse what prom-client refuses, and start over after reset', async () => {
    const p = pair();
    assert.throws(() => p.histogram.observe(Number.NaN), TypeError);
    const cell = p.counter.cell({ ...labels, reason: 'stop' });
    assert.throws(() => cell.inc(-1), /decrease/);
    cell.inc(3);
    p.histogram.observe(0.2);
    p.ours.resetMetrics();
    cell.inc(2);
    p.promCounter.inc({ ...labels, reason: 'stop' }, 2);
    await assertSameExport(p.ours, p.theirs);
  });

  it("serve vLLM's metric names in the simulator's registry", async () => {
    const metrics = new SimMetrics({ modelName: 'M', profile: 'zero', timeScale: 0 }, () => ({ running: 1, waiting: 2, kvTokens: 5, kvUsage: 0.5 }));
    const events = metrics.events();
    events.onAdmitted?.(0, 12);
    events.onFirstToken?.(0.002);
    events.onInterToken?.(0, 3);
    events.onGeneratedTokens?.(4);
    events.onFinished?.(0.003, 'length');
    const text = await metrics.text();
    assert.match(text, /^vllm:inter_token_latency_seconds_count\{model_name="M",engine="0"\} 3$/m);
    assert.match(text, /^vllm:time_to_first_token_seconds_bucket\{le="0.005",model_name="M",engine="0"\} 1$/m);
    assert.match(text, /^vllm:generation_tokens_total\{model_name="M",engine="0"\} 4$/m);
    assert.match(text, /^vllm:prompt_tokens_total\{model_name="M",engine="0"\} 12$/m);
    assert.match(text, /^vllm:request_success_total\{model_name="M",engine="0",finished_reason="length"\} 1$/m);
    assert.doesNotMatch(text, /finished_reason="stop"/);
    assert.match(text, /^vllm:num_requests_waiting\{model_name="M",engine="0"\} 2$/m);
  });
});
