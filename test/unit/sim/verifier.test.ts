import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRng } from '../../../router/sim/rng.js';
import {
  auroc,
  DEFAULT_SIMULATED_VERIFIER,
  expectedAuroc,
  formatVerifierSpec,
  parseVerifierSpec,
  sampleBeta,
  simulateVerdicts,
} from '../../../router/verify/simulated-verifier.js';

describe('simulated verifier model', () => {
  it('gives the k=8 confidence an AUROC of about 0.75 with the default parameters (Monte Carlo, fixed seed)', () => {
    const rng = seededRng(20240601);
    const k = 8;
    const confidence = (correct: boolean) => simulateVerdicts(DEFAULT_SIMULATED_VERIFIER, correct, k, rng).filter(Boolean).length / k;
    const pos: number[] = [];
    const neg: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      pos.push(confidence(true));
      neg.push(confidence(false));
    }
    const measured = auroc(pos, neg);
    assert.ok(measured >= 0.72 && measured <= 0.78, `AUROC ${measured.toFixed(4)}`);
    // The Monte Carlo agrees with the exact Beta-binomial value.
    const exact = expectedAuroc(DEFAULT_SIMULATED_VERIFIER, k);
    assert.ok(Math.abs(measured - exact) < 0.01, `measured ${measured} vs exact ${exact}`);
    assert.ok(Math.abs(exact - 0.7533) < 0.001, `exact ${exact}`);
  });

  it('makes the verifier more informative with larger kappa and a wider gap', () => {
    const base = expectedAuroc(DEFAULT_SIMULATED_VERIFIER, 8);
    assert.ok(expectedAuroc({ ...DEFAULT_SIMULATED_VERIFIER, kappa: 20 }, 8) > base);
    assert.ok(expectedAuroc({ pCorrect: 0.9, pWrong: 0.1, kappa: 2 }, 8) > base);
    assert.ok(Math.abs(expectedAuroc({ pCorrect: 0.5, pWrong: 0.5, kappa: 2 }, 8) - 0.5) < 1e-9);
  });

  it('samples Beta with the right mean', () => {
    const rng = seededRng(7);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) sum += sampleBeta(0.7 * 2, 0.3 * 2, rng);
    assert.ok(Math.abs(sum / 20_000 - 0.7) < 0.01);
  });

  it('computes AUROC with ties as one half', () => {
    assert.equal(auroc([1, 1], [0, 0]), 1);
    assert.equal(auroc([0.5], [0.5]), 0.5);
    assert.equal(auroc([0, 1], [0.5]), 0.5);
  });

  it('parses specs and keeps defaults for missing keys', () => {
    assert.deepEqual(parseVerifierSpec('simulated'), DEFAULT_SIMULATED_VERIFIER);
    assert.deepEqual(parseVerifierSpec('simulated:pc=0.8,pw=0.3,kappa=5'), { pCorrect: 0.8, pWrong: 0.3, kappa: 5 });
    assert.deepEqual(parseVerifierSpec(' simulated:kappa=3 '), { ...DEFAULT_SIMULATED_VERIFIER, kappa: 3 });
    assert.deepEqual(parseVerifierSpec(formatVerifierSpec({ pCorrect: 0.6, pWrong: 0.5, kappa: 1 })), { pCorrect: 0.6, pWrong: 0.5, kappa: 1 });
  });

  it('rejects bad specs with a message that says what to write', () => {
    const cases: [string, RegExp][] = [
      ['oracle', /unknown kind "oracle"/],
      ['simulated:pc=1.5', /pc=1.5 must be between 0 and 1/],
      ['simulated:kappa=0', /kappa=0 must be greater than 0/],
      ['simulated:pc=x', /pc=x is not a number/],
      ['simulated:foo=1', /unknown parameter "foo"/],
      ['simulated:pc', /"pc" is not key=value/],
      ['simulated:pc=0.5,pc=0.6', /"pc" given twice/],
    ];
    for (const [spec, why] of cases) {
      assert.throws(() => parseVerifierSpec(spec), (err: Error) => why.test(err.message) && /simulated:pc=/.test(err.message), spec);
    }
  });
});
