// The router's own metrics logic: in-flight per tier summed over tier clients, held requests inside it, and
// the usage of a streamed pass-through read from its tail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouterMetrics } from '../../../router/metrics/router-metrics.js';
import { SseUsageTap } from '../../../router/server/sse-usage.js';

async function inFlight(m: RouterMetrics): Promise<Record<string, number>> {
  const g = (await m.registry.getMetricsAsJSON()).find((x) => x.name === 'tiermix_tier_in_flight_requests')!;
  return Object.fromEntries((g.values as { labels: { tier: string }; value: number }[]).map((v) => [v.labels.tier, v.value]));
}

test('in flight per tier is the sum over tier clients (an old and a new client of a reloaded tier), plus held requests', async () => {
  const m = new RouterMetrics({ processMetrics: false });
  const oldClient = m.upstreamHooks();
  const newClient = m.upstreamHooks();
  oldClient.onInFlight!('large', 3);
  newClient.onInFlight!('large', 1);
  newClient.onInFlight!('large', 2);
  oldClient.onInFlight!('large', 2);
  newClient.onInFlight!('small', 5);
  assert.deepEqual(await inFlight(m), { large: 4, small: 5 });
  m.holdStarted('large');
  m.holdStarted('medium');
  assert.deepEqual(await inFlight(m), { large: 5, small: 5, medium: 1 });
  m.holdEnded('medium', 'endpoint', 0.5);
  oldClient.onInFlight!('large', 0);
  assert.deepEqual(await inFlight(m), { large: 3, small: 5, medium: 0 });
});

test('the usage of a streamed answer comes from its last event that carries one', () => {
  const tap = new SseUsageTap(256);
  const filler = `data: ${JSON.stringify({ choices: [{ delta: { content: 'x'.repeat(100) } }] })}\n\n`;
  for (let i = 0; i < 20; i++) tap.push(Buffer.from(filler));
  assert.equal(tap.usageBody(), undefined);
  // The usage event split across chunks, with a multi-byte character cut in two before it.
  const last = Buffer.from(`data: {"choices":[{"delta":{"content":"é"}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34}}\n\ndata: [DONE]\n\n`);
  tap.push(last.subarray(0, 42));
  tap.push(last.subarray(42, 70));
  tap.push(last.subarray(70));
  assert.deepEqual(tap.usageBody(), { usage: { prompt_tokens: 12, completion_tokens: 34 } });
});
