// Scale from zero, one piece at a time (no network): the choice of the warm tier, a request's access to its tiers
// (hold, budget, cold tiers) with a scripted TierSource, and the cascade loop around it with scripted clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { executeCascade, type CascadeRuntime } from '../../../router/cascade/execute.js';
import { completionQuery } from '../../../router/cascade/query.js';
import { TierAccess, type ReadyTier, type TierSource } from '../../../router/cascade/tier-access.js';
import { nearestWarmTier } from '../../../router/cascade/warm-tier.js';
import { RetrySchema, VerificationSchema, type TierConfig } from '../../../router/config/schema.js';
import { RouterMetrics } from '../../../router/metrics/router-metrics.js';
import { ThresholdPolicy } from '../../../router/policy/threshold.js';
import { UpstreamError, type TierClient, type UpstreamJsonResult } from '../../../router/upstream/types.js';
import { verdictLine } from '../../../router/verify/prompt.js';

describe('nearestWarmTier', () => {
  const W = true;
  const C = false;
  const cases: [string, boolean[], number, number, number[], number][] = [
    ['the largest warm tier below', [W, W, C], 2, -1, [], 1],
    ['skips cold tiers below', [W, C, C], 2, -1, [], 0],
    ['none below: the smallest warm one above', [C, C, W, W], 0, -1, [], 2],
    ['tiers at or below the floor are not candidates (a routed request never asks a tier twice)', [W, W, C, W], 2, 1, [], 3],
    ['skipped tiers are not candidates', [W, W, C], 2, -1, [1], 0],
    ['nothing warm', [C, C, C], 1, -1, [], -1],
    ['nothing warm above the floor', [W, W, C], 2, 1, [], -1],
    ['a one-tier cascade', [C], 0, -1, [], -1],
  ];
  for (const [what, warm, asked, floor, skip, want] of cases) {
    it(what, () => assert.equal(nearestWarmTier(warm, asked, floor, new Set(skip)), want));
  }
});

// --- scripted tiers -----------------------------------------------------------------------------------------------

const ok = (body: unknown, gpuSeconds = 1): UpstreamJsonResult => ({ status: 200, body, replica: 'r', seconds: 0.5, gpuSeconds, attempts: 1 });
const answer = (text: string) => ok({ id: 'x', choices: [{ index: 0, text, finish_reason: 'stop' }] });
const verdicts = (correct: number, total: number) => ok({ choices: Array.from({ length: total }, (_, i) => ({ text: ` ok.\n${verdictLine(i < correct)}` })) }, 0.25);

function client(name: string, calls: string[], confident = true): TierClient {
  return {
    tierName: name,
    async postJson<T>(_path: string, body: Record<string, unknown>) {
      calls.push(`${name}:${body.n ? 'verify' : 'answer'}:${String(body.model)}`);
      return (body.n ? verdicts(confident ? 4 : 0, 4) : answer(`from ${name}`)) as UpstreamJsonResult<T>;
    },
    postStream: () => Promise.reject(new Error('not used')),
    inFlight: () => 0,
    readyReplicas: () => 1,
    close: () => {},
  };
}

const tier = (i: number, endpoints: string[]): TierConfig => ({
  name: `t${i}`, model: `m${i}`, endpoints, gpusPerReplica: 1, timeouts: { connectSeconds: 1, requestSeconds: 1 },
});

/** A cascade whose tier i has endpoints when warm[i]. */
function runtime(warm: boolean[], calls: string[], confident = true): CascadeRuntime {
  const tiers = warm.map((w, i) => tier(i, w ? ['http://127.0.0.1:1'] : []));
  return {
    config: { name: 'c', tiers },
    view: { name: 'c', tiers: tiers.map((t, index) => ({ index, name: t.name, gpusPerReplica: 1 })) },
    clients: tiers.map((t) => client(t.name, calls, confident)),
  };
}

/** A TierSource driven by hand: a fake clock, holds resolved by `appear` or at the deadline by `advance`. */
class ScriptedSource implements TierSource {
  t = 0;
  readonly latestTiers = new Map<string, ReadyTier>();
  readonly held: { tier: string; deadline: number; resolve: (r: ReadyTier | null) => void; reject: (e: unknown) => void }[] = [];
  onHold: (tier: string) => void = () => {};
  now = () => this.t;
  latest(name: string) {
    return this.latestTiers.get(name);
  }
  hold(name: string, deadline: number, signal?: AbortSignal): Promise<ReadyTier | null> {
    return new Promise((resolve, reject) => {
      this.held.push({ tier: name, deadline, resolve, reject });
      signal?.addEventListener('abort', () => reject(new UpstreamError('aborted', 'gone', name)));
      queueMicrotask(() => this.onHold(name));
    });
  }
  /** A reload gives the tier an endpoint. */
  appear(name: string, ready: ReadyTier, afterMs: number): void {
    this.t += afterMs;
    this.latestTiers.set(name, ready);
    for (const h of this.held.splice(0).filter((x) => x.tier === name)) h.resolve(ready);
  }
  /** Time passes: holds whose deadline is reached resolve with null. */
  advance(ms: number): void {
    this.t += ms;
    for (const h of [...this.held]) {
      if (h.deadline <= this.t) {
        this.held.splice(this.held.indexOf(h), 1);
        h.resolve(null);
      }
    }
  }
}

const verification = VerificationSchema.parse({ samples: 4 });
const route = (rt: CascadeRuntime, source: TierSource | undefined, holdSeconds: number, threshold = 0.5, metrics?: RouterMetrics, signal?: AbortSignal) =>
  executeCascade(rt, completionQuery({ model: 'c', prompt: 'What is 2+2?' }), { prompt: 'What is 2+2?' }, {
    policy: new ThresholdPolicy(threshold),
    verification,
    retry: RetrySchema.parse({}),
    ...(metrics ? { metrics } : {}),
    ...(signal ? { signal } : {}),
    ...(source ? { scaleFromZero: { source, holdSeconds } } : {}),
  });

describe('TierAccess', () => {
  it('a tier with endpoints is used at once, without holding', async () => {
    const source = new ScriptedSource();
    const access = new TierAccess(runtime([true, false], []), source, 30);
    const got = await access.get(0);
    assert.equal(got.kind, 'ready');
    assert.equal(source.held.length, 0);
  });

  it('a tier that has endpoints in a newer state is used from that state, without holding', async () => {
    const source = new ScriptedSource();
    const newer = { tier: tier(1, ['http://10.0.0.9:8000']), client: client('t1-new', []) };
    source.latestTiers.set('t1', newer);
    const got = await new TierAccess(runtime([true, false], []), source, 30).get(1);
    assert.ok(got.kind === 'ready' && got.ready === newer);
  });

  it('holds for a tier with no endpoints and continues on the client of the state that brought one', async () => {
    const source = new ScriptedSource();
    const newer = { tier: tier(1, ['http://10.0.0.9:8000']), client: client('t1-new', []) };
    source.onHold = () => source.appear('t1', newer, 500);
    const access = new TierAccess(runtime([true, false], []), source, 30);
    const got = await access.get(1);
    assert.ok(got.kind === 'ready' && got.ready === newer);
    assert.equal(got.heldSeconds, 0.5);
    assert.deepEqual(access.holds, [{ tier: 't1', seconds: 0.5, outcome: 'endpoint' }]);
  });

  it('when the hold expires: the nearest warm tier, and that tier is not held for again', async () => {
    const source = new ScriptedSource();
    source.onHold = () => source.advance(30_000);
    const access = new TierAccess(runtime([true, true, false], []), source, 30);
    const got = await access.get(2);
    assert.deepEqual(got, { kind: 'cold', index: 2, fallback: 1, heldSeconds: 30 });
    assert.deepEqual(access.holds, [{ tier: 't2', seconds: 30, outcome: 'expired' }]);
    const again = await access.get(2);
    assert.equal(again.kind, 'cold');
    assert.equal(source.held.length, 0, 'no second hold');
    assert.equal(access.holds.length, 1);
  });

  it('one hold budget per request: a second cold tier is held only for what is left', async () => {
    const source = new ScriptedSource();
    const deadlines: number[] = [];
    source.onHold = () => {
      deadlines.push(source.held[0]!.deadline);
      source.advance(source.held[0]!.deadline - source.t);
    };
    const access = new TierAccess(runtime([false, false, true], []), source, 10);
    source.t = 1000;
    await access.get(0);
    await access.get(1);
    assert.deepEqual(deadlines, [11_000], 'the second tier found the budget spent and was not held');
    assert.deepEqual(access.holds.map((h) => h.tier), ['t0']);
  });

  it('holdSeconds 0 or no source: no hold, straight to the nearest warm tier', async () => {
    const source = new ScriptedSource();
    assert.deepEqual(await new TierAccess(runtime([true, false], []), source, 0).get(1), { kind: 'cold', index: 1, fallback: 0, heldSeconds: 0 });
    assert.deepEqual(await new TierAccess(runtime([true, false], []), undefined, 30).get(1), { kind: 'cold', index: 1, fallback: 0, heldSeconds: 0 });
    assert.equal(source.held.length, 0);
  });

  it('a client gone before or while held: aborted', async () => {
    const source = new ScriptedSource();
    const ac = new AbortController();
    const pending = Promise.resolve(new TierAccess(runtime([true, false], []), source, 30, ac.signal).get(1));
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await assert.rejects(pending, (e: unknown) => e instanceof UpstreamError && e.kind === 'aborted');
    await assert.rejects(Promise.resolve(new TierAccess(runtime([true, false], []), source, 30, ac.signal).get(1)), (e: unknown) => e instanceof UpstreamError && e.kind === 'aborted');
  });
});

describe('a routed request and tiers with no replica', () => {
  it('a cold first tier: held, then answered by the replica that appeared (new client, new model name), and verified', async () => {
    const calls: string[] = [];
    const source = new ScriptedSource();
    const fresh = { tier: { ...tier(0, ['http://10.0.0.9:8000']), model: 'm0-new' }, client: client('t0-new', calls) };
    source.onHold = () => source.appear('t0', fresh, 500);
    const out = await route(runtime([false, true], calls), source, 30);
    assert.deepEqual(calls, ['t0-new:answer:m0-new', 't0-new:verify:m0-new']);
    assert.equal(out.tier, 't0');
    assert.equal(out.steps[0]!.heldSeconds, 0.5);
    assert.deepEqual(out.holds, [{ tier: 't0', seconds: 0.5, outcome: 'endpoint' }]);
    assert.deepEqual(out.coldTiers, []);
  });

  it('a cold first tier whose hold expires: the smallest warm tier above serves it, counted as a fallback escalation', async () => {
    const calls: string[] = [];
    const source = new ScriptedSource();
    source.onHold = () => source.advance(30_000);
    const metrics = new RouterMetrics({ processMetrics: false });
    const out = await route(runtime([false, true, true], calls), source, 30, 0.5, metrics);
    assert.deepEqual(calls, ['t1:answer:m1', 't1:verify:m1']);
    assert.equal(out.tier, 't1');
    assert.deepEqual(out.coldTiers, ['t0']);
    assert.match(out.steps[0]!.error!, /no_replica: tier t0 has no replica after holding 30.0s/);
    assert.match(out.steps[1]!.reason, /scale from zero: tier t0 has no replica after holding 30.0s; served by warm tier t1/);
    const esc = (await metrics.escalations.get()).values.map((v) => [v.labels.from_tier, v.labels.to_tier, v.labels.reason]);
    assert.deepEqual(esc, [['t0', 't1', 'fallback']]);
  });

  it('an escalation to a cold top tier whose hold expires: the largest warm tier below that was not asked yet', async () => {
    const calls: string[] = [];
    const source = new ScriptedSource();
    source.onHold = () => source.advance(30_000);
    // Never confident: the threshold policy asks t0, then t1, then t2 (cold).
    const out = await route(runtime([true, true, false], calls, false), source, 30);
    assert.deepEqual(calls, ['t0:answer:m0', 't0:verify:m0', 't1:answer:m1', 't1:verify:m1']);
    assert.equal(out.tier, 't1', 'the best answer so far');
    assert.deepEqual(out.coldTiers, ['t2']);
    assert.match(out.reason, /tier t2 has no replica after holding 30.0s; returning the best answer so far, from tier t1/);
  });

  it('the policy skipping to a cold tier falls back below it, and does not hold again when it asks that tier again', async () => {
    const calls: string[] = [];
    const source = new ScriptedSource();
    let holds = 0;
    source.onHold = () => {
      holds++;
      source.advance(30_000);
    };
    const rt = runtime([true, true, false], calls, false);
    // A policy that goes straight to the top tier, then asks it again after whatever answered.
    const policy = { name: 'top', decide: (s: { observations: { tier: number }[] }) => (s.observations.length === 0 ? { action: 'ask', tier: 2, verify: false, reason: 'top' } : s.observations[0]!.tier < 2 ? { action: 'ask', tier: 2, verify: false, reason: 'top again' } : { action: 'return', observation: 0, confidence: null, reason: 'done' }), describe: () => ({}) };
    const out = await executeCascade(rt, completionQuery({ model: 'c', prompt: 'q' }), { prompt: 'q' }, {
      policy: policy as never, verification, retry: RetrySchema.parse({}), scaleFromZero: { source, holdSeconds: 30 },
    });
    assert.equal(holds, 1);
    assert.equal(out.tier, 't1');
    assert.deepEqual(out.coldTiers, ['t2']);
    assert.deepEqual(calls, ['t1:answer:m1', 't1:verify:m1']);
  });

  it('no tier has a replica: no_replica (503) after the hold, with what was tried in the message', async () => {
    const source = new ScriptedSource();
    source.onHold = () => source.advance(5_000);
    await assert.rejects(route(runtime([false, false], []), source, 5), (e: unknown) => {
      assert.ok(e instanceof UpstreamError);
      assert.equal(e.kind, 'no_replica');
      assert.match(e.message, /tier t0 has no replica \(held 5.0s for one to start\), and no other tier of cascade c has one/);
      return true;
    });
  });

  it('without a TierSource (no holding), a tier with no endpoints goes straight to the nearest warm tier', async () => {
    const calls: string[] = [];
    const out = await route(runtime([false, true], calls), undefined, 30);
    assert.equal(out.tier, 't1');
    assert.deepEqual(out.holds, []);
  });
});
