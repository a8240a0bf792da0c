import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { parsePrometheusText, readEngine, scrapeEngines } from '../../../../controller/signals/index.js';
import { SimMetrics } from '../../../../router/sim/metrics.js';

/** The tiermix vLLM simulator's own /metrics registry (vLLM v1 names), with a batch and some tokens behind it. */
function simulator(running: number, waiting: number, kvUsage: number, itls: number[]): SimMetrics {
  const m = new SimMetrics({ modelName: 'm', profile: '7b', timeScale: 1 }, () => ({ running, waiting, kvTokens: 0, kvUsage }));
  const ev = m.events();
  for (const s of itls) ev.onInterToken?.(s);
  return m;
}

async function serve(body: () => Promise<string> | string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(await body()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

test("the simulator's vLLM v1 metrics: batch, queue, KV use and the inter-token latency histogram's sum and count", async () => {
  const m = simulator(12, 3, 0.25, [0.02, 0.03, 0.025]);
  const r = readEngine('u', parsePrometheusText(await m.text()));
  assert.equal(r.id, 'u');
  assert.equal(r.running, 12);
  assert.equal(r.waiting, 3);
  assert.equal(r.kvCacheUsage, 0.25);
  assert.equal(r.itlCount, 3);
  assert.ok(Math.abs(r.itlSeconds! - 0.075) < 1e-9);
});

test('older vLLM names (gpu_cache_usage_perc, time_per_output_token_seconds); engines summed; nothing exported reads as null', () => {
  const text = [
    'vllm:num_requests_running{engine="0"} 4',
    'vllm:num_requests_running{engine="1"} 6',
    'vllm:gpu_cache_usage_perc{engine="0"} 0.2',
    'vllm:gpu_cache_usage_perc{engine="1"} 0.4',
    'vllm:time_per_output_token_seconds_sum{engine="0"} 1.5',
    'vllm:time_per_output_token_seconds_count{engine="0"} 50',
  ].join('\n');
  const r = readEngine('u', parsePrometheusText(text));
  assert.deepEqual({ ...r, kvCacheUsage: Math.round(r.kvCacheUsage! * 100) / 100 }, { id: 'u', running: 10, waiting: 0, kvCacheUsage: 0.3, itlSeconds: 1.5, itlCount: 50 });
  assert.deepEqual(readEngine('u', []), { id: 'u', running: 0, waiting: 0, kvCacheUsage: null, itlSeconds: null, itlCount: null });
});

test('scrapeEngines: one reading per replica that answers, named by its URL; none answering is null', async () => {
  const a = simulator(5, 0, 0.1, [0.02]);
  const b = simulator(7, 2, 0.3, []);
  const sa = await serve(() => a.text());
  const sb = await serve(() => b.text());
  try {
    const got = await scrapeEngines([sa.url, sb.url, 'http://127.0.0.1:1/metrics'], 1000);
    // b has produced no token yet: its histogram has no series, so no latency reading (not a zero one).
    assert.deepEqual(got?.map((e) => [e.id, e.running, e.waiting, e.itlCount]), [[sa.url, 5, 0, 1], [sb.url, 7, 2, null]]);
    assert.equal(await scrapeEngines(['http://127.0.0.1:1/metrics'], 1000), null);
  } finally {
    await sa.close();
    await sb.close();
  }
});
