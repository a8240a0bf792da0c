// The cascade loop against scripted tier clients (unit test of one piece: no network).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { executeCascade, type CascadeRuntime } from '../../../router/cascade/execute.js';
import { completionQuery } from '../../../router/cascade/query.js';
import { RetrySchema, VerificationSchema, type TierConfig } from '../../../router/config/schema.js';
import { RouterMetrics } from '../../../router/metrics/router-metrics.js';
import { ThresholdPolicy } from '../../../router/policy/threshold.js';
import { UpstreamError, type TierClient, type UpstreamJsonResult } from '../../../router/upstream/types.js';
import { verdictLine } from '../../../router/verify/prompt.js';

type Script = (path: string, body: Record<string, unknown>) => UpstreamJsonResult | UpstreamError;

function scripted(name: string, script: Script, calls: string[]): TierClient {
  return {
    tierName: name,
    async postJson<T>(path: string, body: Record<string, unknown>) {
      calls.push(`${name}:${body.n ? 'verify' : 'answer'}`);
      const r = script(path, body);
      if (r instanceof UpstreamError) throw r;
      return r as UpstreamJsonResult<T>;
    },
    postStream: () => Promise.reject(new Error('not used')),
    inFlight: () => 0,
    readyReplicas: () => 1,
    close: () => {},
  };
}

const ok = (body: unknown, gpuSeconds = 1): UpstreamJsonResult => ({ status: 200, body, replica: 'r', seconds: 0.5, gpuSeconds, attempts: 1 });
const answer = (text: string) => ok({ id: 'x', choices: [{ index: 0, text, finish_reason: 'stop' }] });
const verdicts = (correct: number, total: number) =>
  ok({ choices: Array.from({ length: total }, (_, i) => ({ text: ` ok.\n${verdictLine(i < correct)}` })) }, 0.25);

function runtime(scripts: Script[], calls: string[]): CascadeRuntime {
  const tiers: TierConfig[] = scripts.map((_, i) => ({
    name: `t${i}`, model: `m${i}`, endpoints: ['http://127.0.0.1:1'], gpusPerReplica: 1, timeouts: { connectSeconds: 1, requestSeconds: 1 },
  }));
  return {
    config: { name: 'c', tiers },
    view: { name: 'c', tiers: tiers.map((t, index) => ({ index, name: t.name, gpusPerReplica: 1 })) },
    clients: scripts.map((s, i) => scripted(`t${i}`, s, calls)),
  };
}

const verification = VerificationSchema.parse({ samples: 4 });
const run = (rt: CascadeRuntime, tierFallbacks = 1, metrics?: RouterMetrics) =>
  executeCascade(rt, completionQuery({ model: 'c', prompt: 'What is 2+2?' }), { prompt: 'What is 2+2?', max_tokens: 16 }, {
    policy: new ThresholdPolicy(0.5),
    verification,
    retry: RetrySchema.parse({ tierFallbacks }),
    ...(metrics ? { metrics } : {}),
  });

test('a confident small tier answers alone; answer and verification GPU-seconds add up', async () => {
  const calls: string[] = [];
  const out = await run(runtime([(_, b) => (b.n ? verdicts(3, 4) : answer('four')), () => answer('never')], calls));
  assert.deepEqual(calls, ['t0:answer', 't0:verify']);
  assert.equal(out.tier, 't0');
  assert.equal(out.confidence, 0.75);
  assert.equal(out.gpuSeconds, 1.25);
  assert.equal((out.body.choices as { text: string }[])[0]!.text, 'four');
});

test('low confidence escalates; the verifier is asked with n=k at the configured temperature and stop', async () => {
  const calls: string[] = [];
  let verifyBody: Record<string, unknown> = {};
  const metrics = new RouterMetrics({ processMetrics: false });
  const out = await run(
    runtime([(_, b) => (b.n ? ((verifyBody = b), verdicts(1, 4)) : answer('five')), () => answer('four')], calls),
    1,
    metrics,
  );
  assert.deepEqual(calls, ['t0:answer', 't0:verify', 't1:answer']);
  assert.deepEqual([verifyBody.n, verifyBody.temperature, verifyBody.stop, verifyBody.model], [4, 1, ['---'], 'm0']);
  assert.equal(out.tier, 't1');
  assert.equal(out.steps.length, 2);
  assert.equal(out.gpuSeconds, 2.25);
  const esc = await metrics.escalations.get();
  assert.deepEqual(esc.values.map((v) => [v.labels.from_tier, v.labels.to_tier, v.labels.reason, v.value]), [['t0', 't1', 'verify', 1]]);
});

test('a failing tier falls back to the next one, bounded by tierFallbacks', async () => {
  const down = () => new UpstreamError('connect', 'refused', 't0', undefined, undefined, 2);
  const calls: string[] = [];
  const out = await run(runtime([down, (_, b) => (b.n ? verdicts(4, 4) : answer('four')), () => answer('x')], calls));
  assert.equal(out.tier, 't1');
  assert.equal(out.steps[0]!.outcome, 'failed');
  assert.match(out.steps[1]!.reason, /fallback/);

  await assert.rejects(run(runtime([down, down, () => answer('x')], [])), (e: unknown) => e instanceof UpstreamError && e.kind === 'connect');
  await assert.rejects(run(runtime([down, () => answer('x')], []), 0), UpstreamError);
});

test('when an escalation fails with nowhere left to go, the best answer so far is returned', async () => {
  const tooLong = () => new UpstreamError('status_4xx', 'context too long', 't1', 400, { error: { message: 'too long' } });
  const calls: string[] = [];
  const out = await run(runtime([(_, b) => (b.n ? verdicts(1, 4) : answer('five')), tooLong], calls));
  assert.deepEqual(calls, ['t0:answer', 't0:verify', 't1:answer']);
  assert.equal(out.tier, 't0');
  assert.equal(out.confidence, 0.25);
  assert.match(out.reason, /t1 failed \(status_4xx\); returning the best answer so far, from tier t0/);
  assert.deepEqual(out.steps.map((s) => s.outcome), ['answered', 'failed']);

  const down = () => new UpstreamError('connect', 'refused', 't1');
  const out2 = await run(runtime([(_, b) => (b.n ? verdicts(1, 4) : answer('five')), down], []), 0);
  assert.equal(out2.tier, 't0');
});

test('a 4xx from a tier is the request\'s fault and is not retried elsewhere', async () => {
  const calls: string[] = [];
  const bad = () => new UpstreamError('status_4xx', 'too long', 't0', 400, { error: { message: 'too long' } });
  await assert.rejects(run(runtime([bad, () => answer('x')], calls)), (e: unknown) => e instanceof UpstreamError && e.status === 400);
  assert.deepEqual(calls, ['t0:answer']);
});

test('a failed verification leaves confidence unknown, which escalates', async () => {
  const calls: string[] = [];
  const out = await run(
    runtime([(_, b) => (b.n ? new UpstreamError('timeout', 'slow', 't0') : answer('five')), () => answer('four')], calls),
  );
  assert.equal(out.tier, 't1');
  assert.equal(out.steps[0]!.confidence, null);
  assert.match(out.steps[0]!.error ?? '', /verification failed: timeout/);
});

test('every answered call is counted per tier and purpose, with its usage tokens, next to its GPU-seconds', async () => {
  const metrics = new RouterMetrics({ processMetrics: false });
  const withUsage = (r: UpstreamJsonResult, prompt: number, completion: number) => ({ ...r, body: { ...(r.body as object), usage: { prompt_tokens: prompt, completion_tokens: completion } } });
  await run(
    runtime([(_, b) => (b.n ? withUsage(verdicts(1, 4), 300, 40) : withUsage(answer('five'), 20, 5)), () => withUsage(answer('four'), 20, 7)], []),
    1,
    metrics,
  );
  const calls = (await metrics.tierCalls.get()).values.map((v) => [v.labels.tier, v.labels.purpose, v.value]);
  assert.deepEqual(calls, [['t0', 'answer', 1], ['t0', 'verify', 1], ['t1', 'answer', 1]]);
  const tokens = (await metrics.tierTokens.get()).values.map((v) => [v.labels.tier, v.labels.purpose, v.labels.kind, v.value]);
  assert.deepEqual(tokens, [
    ['t0', 'answer', 'prompt', 20], ['t0', 'answer', 'completion', 5],
    ['t0', 'verify', 'prompt', 300], ['t0', 'verify', 'completion', 40],
    ['t1', 'answer', 'prompt', 20], ['t1', 'answer', 'completion', 7],
  ]);
  const gpu = (await metrics.gpuSeconds.get()).values.map((v) => [v.labels.tier, v.labels.purpose, v.value]);
  assert.deepEqual(gpu, [['t0', 'answer', 1], ['t0', 'verify', 0.25], ['t1', 'answer', 1]]);

  // A failed call used GPU time but answered nothing: GPU-seconds, no call.
  const failing = new RouterMetrics({ processMetrics: false });
  const down = () => Object.assign(new UpstreamError('timeout', 'slow', 't0'), { gpuSeconds: 0.5 });
  await run(runtime([down, (_, b) => (b.n ? verdicts(4, 4) : answer('four'))], []), 1, failing);
  assert.deepEqual((await failing.tierCalls.get()).values.map((v) => [v.labels.tier, v.labels.purpose]), [['t1', 'answer']]);
  assert.equal((await failing.gpuSeconds.get()).values.find((v) => v.labels.tier === 't0')!.value, 0.5);
});
