// The POMDP policy live in the router: the shipped model (builtin:default-ladder: classifier + pomdp.json),
// real HTTP, the openai SDK as client, simulated vLLM tiers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../router/config/load.js';
import { formatMmluPrompt } from '../../../router/sim/dataset.js';
import { generatedQuestions } from '../../../router/sim/generated-questions.js';
import { LADDER, startStack, type Stack } from '../../helpers/stack.js';

const NAMES = LADDER.map((t) => t.name);
const QUESTIONS = generatedQuestions(40, 1);
const POMDP = { type: 'pomdp', model: 'builtin:default-ladder', classifier: true, objective: { lambda: 0.05 } };

interface Tiermix {
  tier: string;
  confidence: number | null;
  gpu_seconds: number;
  prior: { per_tier: number[]; classifier_seconds: number };
  policy: { policy: string; lambda: number; classifier: string | null; costs: { measured_calls: { answer: number[] } } };
  steps: { tier: string; gpu_seconds: number }[];
}

interface Route {
  decision: { action: string; tier: string; verify?: boolean; confidence?: number; reason: string };
  belief: {
    prior: { source: string; per_tier: Record<string, number>; joint: { correct: string[]; p: number }[] };
    classifier: { per_tier: Record<string, number>; joint: { correct: string[]; p: number }[] };
    posterior: { observations: number; per_tier: Record<string, number>; joint: { correct: string[]; p: number }[] };
  };
  lambda: number;
  objective: { lambda?: number; gpu_seconds_per_request?: number; running_average?: number | null };
  costs: { source: string; answer_gpu_seconds: Record<string, number>; verify_gpu_seconds: Record<string, number> };
  policy: { policy: string };
  policy_seconds: number;
  classifier_seconds: number;
}

async function route(stack: Stack, body: Record<string, unknown>): Promise<Route> {
  const res = await fetch(`${stack.router.url}/v1/route`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Route;
}

describe('the POMDP policy in the router', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { policy: POMDP } });
  });
  after(async () => {
    await stack.close();
  });

  test('routes chat requests with the classifier prior, and says how', async () => {
    const tiersAnswering = new Set<string>();
    for (const q of QUESTIONS.slice(0, 12)) {
      const { data, response } = await stack.openai.chat.completions
        .create({ model: 'ladder', messages: [{ role: 'user', content: formatMmluPrompt(q) }], temperature: 0 })
        .withResponse();
      const t = (data as unknown as { tiermix: Tiermix }).tiermix;
      assert.equal(t.policy.policy, 'pomdp');
      assert.equal(t.policy.classifier, 'onnx:mmlu-pro-mistral7b-llama13b-llama70b');
      assert.equal(t.prior.per_tier.length, 3);
      assert.ok(t.prior.per_tier.every((p) => p > 0 && p < 1));
      assert.ok(t.steps.length >= 1 && NAMES.includes(t.steps[0]!.tier));
      assert.equal(response.headers.get('x-tiermix-tier'), t.tier);
      assert.ok(t.gpu_seconds > 0);
      assert.ok(Math.abs(t.steps.reduce((s, x) => s + x.gpu_seconds, 0) - t.gpu_seconds) < 1e-9);
      tiersAnswering.add(t.tier);
    }
    // Every finished request fed the live cost estimate of the tiers it asked.
    const last = await stack.openai.chat.completions.create({ model: 'ladder', messages: [{ role: 'user', content: 'What is 2+2?' }] });
    const calls = (last as unknown as { tiermix: Tiermix }).tiermix.policy.costs.measured_calls.answer;
    assert.ok(calls.reduce((a, b) => a + b, 0) >= 12, `answer calls measured: ${calls}`);
  });

  test('/v1/route shows the prior (per tier and joint), the posterior after observations, lambda, costs, action and reason', async () => {
    const q = QUESTIONS[20]!;
    const body = { model: 'ladder', messages: [{ role: 'user', content: formatMmluPrompt(q) }] };
    const r0 = await route(stack, body);
    assert.equal(r0.policy.policy, 'pomdp');
    assert.deepEqual(Object.keys(r0.belief.prior.per_tier), NAMES);
    assert.equal(r0.belief.prior.joint.length, 8);
    assert.ok(Math.abs(r0.belief.prior.joint.reduce((s, x) => s + x.p, 0) - 1) < 1e-9);
    assert.deepEqual(r0.belief.prior.joint[5]!.correct, ['mistral-7b', 'llama-2-70b'], 'bit i = tier i');
    // Tilted to the classifier's marginals, rounded to policy.priorQuantum (0.02 by default).
    for (const n of NAMES) assert.ok(Math.abs(r0.belief.prior.per_tier[n]! - r0.belief.classifier.per_tier[n]!) <= 0.0101, 'tilted to the classifier marginals');
    assert.equal(r0.belief.posterior.observations, 0);
    assert.deepEqual(r0.belief.posterior.per_tier, r0.belief.prior.per_tier);
    assert.equal(r0.lambda, 0.05);
    assert.deepEqual(r0.objective, { lambda: 0.05 });
    assert.equal(r0.costs.source, 'measured');
    assert.ok(r0.costs.answer_gpu_seconds['llama-2-70b']! > r0.costs.answer_gpu_seconds['mistral-7b']!);
    assert.equal(r0.decision.action, 'ask');
    assert.match(r0.decision.reason, /expected reward .* at lambda 0.05/);
    assert.ok(r0.policy_seconds >= 0 && r0.classifier_seconds > 0);

    // The smallest tier gave no answer letter and its verifier rejected it: that tier becomes unlikely.
    const r1 = await route(stack, { ...body, tiermix: { observations: [{ tier: 'mistral-7b', answer: 'I am not sure.', confidence: 0 }] } });
    assert.equal(r1.belief.posterior.observations, 1);
    assert.ok(r1.belief.posterior.per_tier['mistral-7b']! < r0.belief.prior.per_tier['mistral-7b']! / 2, JSON.stringify(r1.belief.posterior.per_tier));
    assert.deepEqual(r1.belief.prior.per_tier, r0.belief.prior.per_tier, 'the prior is the same request\'s');
    // A confident, extracted answer is returned.
    const r2 = await route(stack, { ...body, tiermix: { observations: [{ tier: 'mistral-7b', answer: 'So the answer is (B).', confidence: 1 }] } });
    assert.equal(r2.decision.action, 'return');
    assert.equal(r2.decision.tier, 'mistral-7b');
    assert.ok(r2.decision.confidence! > r0.belief.prior.per_tier['mistral-7b']!);
  });
});

describe('a GPU-seconds budget', () => {
  test('the budget controller runs on each finished request, and /v1/route shows its running average', async () => {
    const stack = await startStack({ config: { policy: { ...POMDP, objective: { gpuSecondsPerRequest: 0.2, initialLambda: 0.01 } } } });
    try {
      const before = await route(stack, { model: 'ladder', prompt: 'What is 2+2?' });
      assert.equal(before.objective.running_average, null);
      assert.ok(Math.abs(before.lambda - 0.01) / 0.01 < 0.011, `lambda reaches the policy in 2% steps: ${before.lambda}`);
      for (const q of QUESTIONS.slice(0, 8)) {
        await stack.openai.completions.create({ model: 'ladder', prompt: formatMmluPrompt(q), max_tokens: 64 });
      }
      const r = await route(stack, { model: 'ladder', prompt: 'What is 2+2?' });
      assert.equal(r.objective.gpu_seconds_per_request, 0.2);
      assert.ok(typeof r.objective.running_average === 'number' && r.objective.running_average > 0);
      // Over budget (the simulated tiers cost more than 0.2 GPU-s here) raises lambda; under lowers it.
      assert.equal(r.lambda > before.lambda, r.objective.running_average > 0.2, `lambda ${r.lambda}, average ${r.objective.running_average}`);
    } finally {
      await stack.close();
    }
  });
});

describe('a bad POMDP configuration is refused with the path of the problem', () => {
  test('a cascade with another number of tiers than the model (start and reload)', async () => {
    await assert.rejects(startStack({ tiers: LADDER.slice(0, 2), config: { policy: POMDP } }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /cascades\.0\.tiers: cascade "ladder" has 2 tiers, but the POMDP model at policy\.model \(builtin:default-ladder\) was fitted for 3/);
      return true;
    });
    // A running threshold router keeps its configuration when a reload asks for an impossible POMDP.
    const stack = await startStack({ tiers: LADDER.slice(0, 2) });
    try {
      const bad = structuredClone(stack.config);
      bad.policy = { ...POMDP, costs: { source: 'measured', window: 50 } } as typeof bad.policy;
      await assert.rejects(stack.router.reload(bad), /cascades\.0\.tiers/);
      assert.equal(stack.router.getState().routing.get('ladder')!.policy.name, 'threshold');
      const r = await stack.openai.completions.create({ model: 'ladder', prompt: 'hi', max_tokens: 8 });
      assert.ok(r.choices.length === 1);
    } finally {
      await stack.close();
    }
  });

  test('tiermix router exits 2 and names the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiermix-pomdp-cfg-'));
    try {
      const file = join(dir, 'router.yaml');
      writeFileSync(
        file,
        [
          'policy: { type: pomdp, model: ./no-such-model }',
          'cascades:',
          '  - name: ladder',
          '    tiers: [{ name: a, model: m }]',
        ].join('\n'),
      );
      const cli = fileURLToPath(new URL('../../../router/cli/main.js', import.meta.url));
      const r = spawnSync(process.execPath, [cli, 'router', '--config', file, '--port', '0'], { encoding: 'utf8', timeout: 30_000, cwd: dir });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /invalid configuration in .*router\.yaml:\n {2}- policy\.model: cannot load "\.\/no-such-model": .*no-such-model is not a folder/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
