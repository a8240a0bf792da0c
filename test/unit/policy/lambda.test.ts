// The lambda controller that holds a GPU-second budget per request.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialLambdaState, LambdaController, stepLambda, type LambdaControllerConfig } from '../../../router/policy/pomdp/lambda.js';

const cfg: LambdaControllerConfig = { targetGpuSeconds: 1, initialLambda: 0.01, minLambda: 1e-4, maxLambda: 10, gain: 0.05, halfLifeMs: 10_000 };

/** A plant: the cost per request a policy spends at lambda (falls as lambda rises). */
const plant = (lambda: number) => 2.5 / (1 + 40 * lambda);

describe('lambda controller', () => {
  it('starts at the initial lambda with no average', () => {
    assert.deepEqual(initialLambdaState(cfg), { lambda: 0.01, average: null, weight: 0, lastMs: null });
  });

  it('raises lambda when over budget, lowers it when under, within its bounds', () => {
    const s0 = initialLambdaState(cfg);
    assert.ok(stepLambda(s0, cfg, 3, 0).lambda > 0.01);
    assert.ok(stepLambda(s0, cfg, 0.2, 0).lambda < 0.01);
    let s = s0;
    for (let i = 0; i < 10_000; i++) s = stepLambda(s, cfg, 100, i);
    assert.equal(s.lambda, cfg.maxLambda);
    for (let i = 0; i < 100_000; i++) s = stepLambda(s, cfg, 0, 10_000 + i);
    assert.equal(s.lambda, cfg.minLambda);
  });

  it('holds the target on a plant (injected clock: one request every 50 ms)', () => {
    let now = 0;
    const c = new LambdaController(cfg, () => now);
    const spent: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const cost = plant(c.lambda);
      spent.push(cost);
      c.record(cost);
      now += 50;
    }
    const tail = spent.slice(-5000);
    const mean = tail.reduce((a, b) => a + b, 0) / tail.length;
    assert.ok(Math.abs(mean - 1) < 0.03, `mean cost ${mean}`);
    // lambda where plant(lambda) = 1: 2.5 / (1 + 40 l) = 1 -> l = 0.0375
    assert.ok(Math.abs(c.lambda - 0.0375) / 0.0375 < 0.1, `lambda ${c.lambda}`);
  });

  it('the average forgets with the half-life of the clock, not the request count', () => {
    let s = initialLambdaState(cfg);
    s = stepLambda(s, cfg, 10, 0);
    const soon = stepLambda(s, cfg, 0, 1);
    const late = stepLambda(s, cfg, 0, 100_000);
    assert.ok(Math.abs(soon.average! - 5) < 0.01, `soon ${soon.average}`);
    assert.ok(late.average! < 0.01, `late ${late.average}`);
  });

  it('ignores broken readings and refuses bad configuration', () => {
    const s = initialLambdaState(cfg);
    assert.equal(stepLambda(s, cfg, Number.NaN, 0), s);
    assert.equal(stepLambda(s, cfg, -1, 0), s);
    assert.throws(() => initialLambdaState({ ...cfg, targetGpuSeconds: 0 }), RangeError);
    assert.throws(() => initialLambdaState({ ...cfg, initialLambda: 100 }), RangeError);
    assert.throws(() => initialLambdaState({ ...cfg, minLambda: 2, maxLambda: 1 }), RangeError);
  });
});
