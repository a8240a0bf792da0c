import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { RouterMetrics } from '../../../../router/metrics/router-metrics.js';
import { cascadeCounters, RouterScraper } from '../../../../controller/signals/index.js';

/** A real HTTP server serving `body()` at /metrics. */
async function serve(body: () => Promise<string> | string, status = 200): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4' }).end(await body());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** A router's metrics with some traffic: in flight per tier, requests, escalations, upstream seconds, calls and tokens. */
function routerWith(inFlight: Record<string, number>, served: Record<string, number>, escalated: number): RouterMetrics {
  const m = new RouterMetrics({ processMetrics: false });
  const hooks = m.upstreamHooks();
  for (const [tier, n] of Object.entries(inFlight)) hooks.onInFlight?.(tier, n);
  for (const [tier, n] of Object.entries(served)) m.requests.inc({ cascade: 'ladder', tier, mode: 'routed', outcome: 'ok' }, n);
  m.escalations.inc({ cascade: 'ladder', from_tier: 'small', to_tier: 'large', reason: 'verify' }, escalated);
  m.escalations.inc({ cascade: 'ladder', from_tier: 'small', to_tier: 'large', reason: 'fallback' }, 1);
  hooks.onAttempt?.({ tier: 'small', replica: 'r', purpose: 'answer', seconds: 2, outcome: 'ok' });
  hooks.onAttempt?.({ tier: 'large', replica: 'r', purpose: 'answer', seconds: 5, outcome: 'ok' });
  m.gpuSeconds.inc({ cascade: 'ladder', tier: 'large', purpose: 'answer' }, 1.25);
  m.recordTierCall({ cascade: 'ladder', tier: 'large', purpose: 'answer' }, { usage: { prompt_tokens: 200, completion_tokens: 50 } });
  m.recordTierCall({ cascade: 'ladder', tier: 'large', purpose: 'verify' }, { usage: { prompt_tokens: 300, completion_tokens: 80 } });
  return m;
}

test('scrapes two real routers over HTTP and sums their readings', async () => {
  const a = routerWith({ small: 10, large: 2 }, { small: 90, large: 5 }, 5);
  const b = routerWith({ small: 4 }, { small: 10 }, 3);
  const sa = await serve(() => a.registry.metrics());
  const sb = await serve(() => b.registry.metrics());
  try {
    const scraper = new RouterScraper({ urls: () => [sa.url, sb.url] });
    const r = await scraper.scrape();
    assert.equal(r.hasData, true);
    assert.equal(r.staleNote, undefined);
    assert.deepEqual(r.reading.inFlight, { small: 14, large: 2 });
    assert.deepEqual(r.reading.served, { small: 100, large: 5 });
    assert.deepEqual(r.reading.upstreamSeconds, { small: 4, large: 10 });
    // Calls that reached the tier count answers (and pass-throughs), not verifications.
    assert.deepEqual(r.reading.tierRequests, { large: 2 });
    // 5 + 3 verify escalations and one fallback per router: 10 requests moved from small to large. Arrivals:
    // the answer calls where the router counts them (large: 2), else rebuilt (105 routed at small, 10 escalated).
    const c = cascadeCounters(r.reading, ['small', 'large']);
    assert.deepEqual(c, { arrivals: [0, 2], escalations: [[0, 10], [0, 0]], upstreamSeconds: [4, 10], upstreamCalls: [2, 2] });
    const older = cascadeCounters({ ...r.reading, tierRequests: {}, pinned: { large: 7 } }, ['small', 'large']);
    assert.deepEqual(older.arrivals, [105, 17]);
  } finally {
    await sa.close();
    await sb.close();
  }
});

test('a router that stops answering keeps its last reading, marked stale, until it is dropped', async () => {
  let now = 1_000_000;
  const a = routerWith({ small: 10 }, { small: 50 }, 5);
  const b = routerWith({ small: 4 }, { small: 10 }, 3);
  const sa = await serve(() => a.registry.metrics());
  const sb = await serve(() => b.registry.metrics());
  const scraper = new RouterScraper({ urls: () => [sa.url, sb.url], dropAfterSeconds: 60, timeoutMs: 1000, now: () => now });
  try {
    assert.deepEqual((await scraper.scrape()).reading.inFlight, { small: 14 });
    await sb.close();
    now += 30_000;
    const kept = await scraper.scrape();
    assert.deepEqual(kept.reading.inFlight, { small: 14 });
    assert.match(kept.staleNote ?? '', new RegExp(`router ${sb.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} not answering \\(ECONNREFUSED\\); its reading from 1970-01-01T00:16:40.000Z is kept`));
    assert.deepEqual(kept.sources.map((s) => [s.ok, s.lastOkMs]), [[true, now], [false, 1_000_000]]);
    now += 60_000;
    const dropped = await scraper.scrape();
    assert.deepEqual(dropped.reading.inFlight, { small: 10 });
    assert.match(dropped.staleNote ?? '', /not answering \(ECONNREFUSED\); dropped after 60s/);
  } finally {
    await sa.close();
  }
});

test('garbage and HTTP errors are failed scrapes, not zeros; with no router at all there is no data', async () => {
  const garbage = await serve(() => 'this is { not metrics');
  const failing = await serve(() => 'oops', 500);
  try {
    const r = await new RouterScraper({ urls: () => [garbage.url, failing.url] }).scrape();
    assert.equal(r.hasData, false);
    assert.deepEqual(r.sources.map((s) => s.error), ['line 1: expected "value [timestamp]" after this', 'HTTP 500']);
  } finally {
    await garbage.close();
    await failing.close();
  }
});

test('headless Service names expand to one URL per address; IP literals and unknown names stay as given', async () => {
  const { expandHeadless } = await import('../../../../controller/signals/index.js');
  assert.deepEqual(await expandHeadless('http://10.1.2.3:8080/metrics'), ['http://10.1.2.3:8080/metrics']);
  assert.deepEqual(await expandHeadless('http://[::1]:8080/metrics'), ['http://[::1]:8080/metrics']);
  assert.deepEqual(await expandHeadless('not a url'), ['not a url']);
  // .invalid never resolves (RFC 2606): kept as given, so the scrape reports the real connection error.
  assert.deepEqual(await expandHeadless('http://tiermix-router.invalid:8080/metrics'), ['http://tiermix-router.invalid:8080/metrics']);
  const scraper = new RouterScraper({ urls: () => ['http://svc:1/metrics'], expand: async () => ['http://127.0.0.1:9/a', 'http://127.0.0.1:9/a'] });
  const r = await scraper.scrape();
  assert.deepEqual(r.sources.map((s) => s.url), ['http://127.0.0.1:9/a']);
});
