// Metrics and queueing over real HTTP: the vllm:* names, counts that move, a waiting queue under load.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROFILES, serviceMs, type StepContext } from '../../../router/sim/latency.js';
import { startSimulator } from '../../../router/sim/server.js';

const MODEL = 'Llama-2-13b-hf';

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  const line = lines.find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

async function complete(url: string, body: Record<string, unknown>): Promise<{ ms: number; json: Record<string, unknown> }> {
  const start = performance.now();
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, ...body }),
  });
  assert.equal(res.status, 200);
  const json = (await res.json()) as Record<string, unknown>;
  return { ms: performance.now() - start, json };
}

describe('simulator under load', () => {
  it('exposes the vLLM metric names with model_name and engine labels, and the counts move', async () => {
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0 });
    const other = await startSimulator({ model: 'Llama-2-7b-hf', dataDir: null, timeScale: 0 });
    try {
      const before = await (await fetch(`${sim.url}/metrics`)).text();
      for (const name of [
        'vllm:num_requests_running',
        'vllm:num_requests_waiting',
        'vllm:kv_cache_usage_perc',
        'vllm:time_to_first_token_seconds',
        'vllm:e2e_request_latency_seconds',
        'vllm:inter_token_latency_seconds',
        'vllm:request_queue_time_seconds',
        'vllm:prompt_tokens_total',
        'vllm:generation_tokens_total',
        'vllm:request_success_total',
      ]) {
        assert.match(before, new RegExp(`^# TYPE ${name} `, 'm'), name);
      }
      assert.match(before, /vllm:num_requests_running\{model_name="Llama-2-13b-hf",engine="0"\} 0/);
      assert.match(before, /tiermix_simulator_info\{.*simulated="true"\} 1/);

      await complete(sim.url, { prompt: 'Tell me about bridges.', max_tokens: 5, n: 2 });
      await complete(sim.url, { prompt: 'And tunnels?', max_tokens: 200 });
      const text = await (await fetch(`${sim.url}/metrics`)).text();
      const labels = { model_name: MODEL, engine: '0' };
      assert.equal(metricValue(text, 'vllm:request_success_total', { ...labels, finished_reason: 'length' }), 2);
      assert.equal(metricValue(text, 'vllm:request_success_total', { ...labels, finished_reason: 'stop' }), 1);
      assert.equal(metricValue(text, 'vllm:e2e_request_latency_seconds_count', labels), 3);
      assert.equal(metricValue(text, 'vllm:time_to_first_token_seconds_count', labels), 3);
      assert.ok(metricValue(text, 'vllm:generation_tokens_total', labels) > 10);
      assert.ok(metricValue(text, 'vllm:prompt_tokens_total', labels) > 5);
      // A second simulator in the same process keeps its own registry.
      const otherText = await (await fetch(`${other.url}/metrics`)).text();
      assert.ok(!otherText.includes('vllm:request_success_total{model_name="Llama-2-7b-hf",engine="0",finished_reason="length"} 2'));
      assert.ok(!otherText.includes(MODEL));
    } finally {
      await sim.close();
      await other.close();
    }
  });

  it('queues beyond max-num-seqs: waiting > 0 is observed and later requests take longer', async () => {
    // 13b profile: 45 ms + 0.6 ms/prompt token, then 28 ms per token; 20 tokens ~ 0.58 s, x 0.4 = ~230 ms each.
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0.4, maxNumSeqs: 1 });
    try {
      let maxWaiting = 0;
      let maxRunning = 0;
      let maxKv = 0;
      await complete(sim.url, { prompt: 'Warm up the process first.', max_tokens: 1 });
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const text = await (await fetch(`${sim.url}/metrics`)).text();
          maxWaiting = Math.max(maxWaiting, metricValue(text, 'vllm:num_requests_waiting', { model_name: MODEL }));
          maxRunning = Math.max(maxRunning, metricValue(text, 'vllm:num_requests_running', { model_name: MODEL }));
          maxKv = Math.max(maxKv, metricValue(text, 'vllm:kv_cache_usage_perc', { model_name: MODEL }));
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const results = await Promise.all(
        [0, 1, 2, 3].map((i) => complete(sim.url, { prompt: `Request number ${i} about queues.`, max_tokens: 20 })),
      );
      polling = false;
      await poller;
      const ms = results.map((r) => r.ms).sort((a, b) => a - b);
      assert.ok(maxWaiting >= 1, `waiting peaked at ${maxWaiting}`);
      assert.equal(maxRunning, 1);
      assert.ok(maxKv > 0 && maxKv < 1);
      assert.ok(ms[0]! > 100, `fastest ${ms[0]} ms`);
      // Each request holds the only slot for ~230 ms, so the last one waits for three others.
      assert.ok(ms[3]! - ms[0]! > 450, `latencies ${ms.map((m) => m.toFixed(0)).join(', ')} ms`);
      const text = await (await fetch(`${sim.url}/metrics`)).text();
      const queueSum = metricValue(text, 'vllm:request_queue_time_seconds_sum', { model_name: MODEL });
      assert.ok(queueSum > 0.6, `total queue time ${queueSum} s`);
      assert.equal(metricValue(text, 'vllm:num_requests_waiting', { model_name: MODEL }), 0);
    } finally {
      await sim.close();
    }
  });

  it('runs a request with n samples as n sequences', async () => {
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0.5, maxNumSeqs: 2 });
    try {
      const pending = complete(sim.url, { prompt: 'Many samples please.', max_tokens: 30, n: 5 });
      // Each sequence takes ~0.4 s here, so the first state seen is the whole request admitted at once.
      while (sim.stats().running === 0) await new Promise((r) => setTimeout(r, 2));
      assert.deepEqual([sim.stats().running, sim.stats().waiting], [2, 3]);
      const { json } = await pending;
      assert.equal((json.choices as unknown[]).length, 5);
    } finally {
      await sim.close();
    }
  });

  it('answers 503 when the waiting queue is full (--max-waiting)', async () => {
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0.1, maxNumSeqs: 1, maxWaiting: 0 });
    try {
      const first = complete(sim.url, { prompt: 'Occupy the engine.', max_tokens: 20 });
      await new Promise((r) => setTimeout(r, 20));
      const res = await fetch(`${sim.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, prompt: 'Me too.', max_tokens: 5 }),
      });
      assert.equal(res.status, 503);
      const body = (await res.json()) as { error: { code: number; message: string } };
      assert.equal(body.error.code, 503);
      assert.match(body.error.message, /waiting queue is full/);
      await first;
    } finally {
      await sim.close();
    }
  });

  it('streams tokens at the modelled times', async () => {
    const sim = await startSimulator({ model: 'Llama-2-70b-hf', dataDir: null, timeScale: 0.2 });
    try {
      const start = performance.now();
      const res = await fetch(`${sim.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'Stream a story about a ship.', max_tokens: 30, stream: true, stream_options: { include_usage: true } }),
      });
      const arrivals: number[] = [];
      let body = '';
      const decoder = new TextDecoder();
      for await (const bytes of res.body!) {
        body += decoder.decode(bytes as Uint8Array);
        arrivals.push(performance.now() - start);
      }
      const usage = JSON.parse(body.split('\n\n').filter((l) => l.includes('"usage":{'))[0]!.slice(6)).usage;
      const ctx: StepContext = { profile: PROFILES['70b'], maxNumSeqs: 32, running: 1, timeScale: 0.2, slowFactor: 1 };
      const total = serviceMs(usage.prompt_tokens, 30, ctx);
      const last = arrivals[arrivals.length - 1]!;
      assert.ok(arrivals[0]! < last / 2, `first bytes after ${arrivals[0]} ms of ${last} ms`);
      assert.ok(last > 0.9 * total && last < 1.5 * total + 50, `stream took ${last.toFixed(0)} ms, modelled ${total.toFixed(0)} ms`);
      assert.ok(new Set(arrivals.map((t) => Math.round(t / 5))).size > 10, 'tokens arrive spread over time, not at once');
    } finally {
      await sim.close();
    }
  });
});
