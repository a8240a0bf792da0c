// TierHolds: requests held for a tier with no endpoints, released by a state swap (what the reload path calls), by
// their deadline or by the client going away; counted in the router's metrics meanwhile. Real timers, no network.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../../router/config/load.js';
import { RouterMetrics } from '../../../router/metrics/router-metrics.js';
import { TierHolds } from '../../../router/server/holds.js';
import { buildState, type RouterState } from '../../../router/server/state.js';
import { UpstreamError, type TierClient } from '../../../router/upstream/types.js';

const fakeClient = (name: string): TierClient => ({
  tierName: name,
  postJson: () => Promise.reject(new Error('not used')),
  postStream: () => Promise.reject(new Error('not used')),
  inFlight: () => 0,
  readyReplicas: () => 0,
  close: () => {},
});

const stateWith = (largeEndpoints: string[], previous?: RouterState) =>
  buildState(
    validateConfig({
      cascades: [{ name: 'c', tiers: [{ name: 'small', model: 'm', endpoints: ['http://127.0.0.1:1'] }, { name: 'large', model: 'l', endpoints: largeEndpoints }] }],
    }),
    (t) => fakeClient(`${t.name}@${t.endpoints.join(',')}`),
    previous,
    {},
  ).state;

async function gauge(metrics: RouterMetrics, name: string, tier: string): Promise<number | undefined> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values as { labels: { tier?: string }; value: number }[] | undefined)?.find((v) => v.labels.tier === tier)?.value;
}

describe('TierHolds', () => {
  it('a held request gets the tier and client of the state that gave the tier an endpoint', async () => {
    let state = stateWith([]);
    const metrics = new RouterMetrics({ processMetrics: false });
    const holds = new TierHolds(() => state, metrics);
    const held = holds.hold('large', holds.now() + 10_000);
    assert.equal(await gauge(metrics, 'tiermix_tier_held_requests', 'large'), 1);
    assert.equal(await gauge(metrics, 'tiermix_tier_in_flight_requests', 'large'), 1, 'a held request is in flight for its tier');
    assert.deepEqual([...holds.heldCounts()], [['large', 1]]);

    // A reload that changes something else leaves it held.
    state = stateWith([], state);
    holds.published();
    assert.equal(holds.heldCounts().get('large'), 1);

    state = stateWith(['http://10.0.0.7:8000'], state);
    const t0 = performance.now();
    holds.published();
    const got = await held;
    assert.ok(performance.now() - t0 < 50, 'released by the swap itself, not by a poll');
    assert.equal(got!.client, state.tiers.get('large')!.client);
    assert.equal(got!.client.tierName, 'large@http://10.0.0.7:8000');
    assert.equal(await gauge(metrics, 'tiermix_tier_held_requests', 'large'), 0);
    assert.equal(await gauge(metrics, 'tiermix_tier_in_flight_requests', 'large'), 0);
    const hist = (await metrics.holdSeconds.get()).values.find((v) => v.metricName === 'tiermix_hold_seconds_count' && v.labels.outcome === 'endpoint');
    assert.equal(hist?.value, 1);
  });

  it('a tier that already has endpoints in the latest state is not held', async () => {
    const state = stateWith(['http://10.0.0.7:8000']);
    const holds = new TierHolds(() => state);
    assert.equal((await holds.hold('large', holds.now() + 10_000))!.tier.name, 'large');
    assert.equal(holds.heldCounts().size, 0);
  });

  it('the deadline resolves with null; an abort rejects at once; releaseAll ends every hold', async () => {
    const state = stateWith([]);
    const metrics = new RouterMetrics({ processMetrics: false });
    const holds = new TierHolds(() => state, metrics);
    const t0 = performance.now();
    assert.equal(await holds.hold('large', holds.now() + 150), null);
    const waited = performance.now() - t0;
    assert.ok(waited >= 140 && waited < 1000, `expired after ${waited} ms`);

    const ac = new AbortController();
    const aborted = holds.hold('large', holds.now() + 10_000, ac.signal);
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(aborted, (e: unknown) => e instanceof UpstreamError && e.kind === 'aborted');
    assert.equal(holds.heldCounts().size, 0);
    await assert.rejects(holds.hold('large', holds.now() + 10_000, ac.signal), (e: unknown) => e instanceof UpstreamError && e.kind === 'aborted');

    const a = holds.hold('large', holds.now() + 10_000);
    const b = holds.hold('large', holds.now() + 10_000);
    assert.equal(await gauge(metrics, 'tiermix_tier_held_requests', 'large'), 2);
    holds.releaseAll();
    assert.deepEqual(await Promise.all([a, b]), [null, null]);
    assert.equal(await gauge(metrics, 'tiermix_tier_held_requests', 'large'), 0);
    const outcomes = (await metrics.holdSeconds.get()).values
      .filter((v) => v.metricName === 'tiermix_hold_seconds_count')
      .map((v) => [v.labels.outcome, v.value]);
    assert.deepEqual(outcomes.sort(), [['aborted', 1], ['expired', 3]]);
  });
});
