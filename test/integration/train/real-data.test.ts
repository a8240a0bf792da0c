// The harness on the real MMLU-Pro outcomes (skipped with a message when the data is absent).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runOfflineEvaluation } from '../../../router/train/index.js';
import { parseVerifierMode } from '../../../router/train/observe.js';
import { NO_DATA, realDataDir } from '../../unit/sim/data-dir.js';

const dir = realDataDir();
const TIERS = ['Mistral-7B-v0.1', 'Llama-2-13b-hf', 'Llama-2-70b-hf'];

describe('tiermix eval on the real MMLU-Pro outcomes', { skip: dir ? false : NO_DATA }, () => {
  it('reports the test split with the recorded accuracies and the chord as zero lift', async () => {
    const rep = await runOfflineEvaluation({ data: join(dir!, 'outcomes.jsonl.gz'), tiers: TIERS, mode: parseVerifierMode('simulated') });
    assert.equal(rep.n, 2409);
    assert.equal(rep.trainN, 9623);
    const acc = Object.fromEntries(rep.policies.map((p) => [p.name, p]));
    // The data's overall accuracies are 0.298 / 0.235 / 0.363; the test split is close to them.
    assert.ok(Math.abs(acc['always-smallest']!.accuracy - 0.298) < 0.02);
    assert.ok(Math.abs(acc['always-largest']!.accuracy - 0.363) < 0.02);
    assert.equal(acc['random-mix']!.deltaIbc, 0);
    assert.ok(acc['automix-pomdp'] && acc['chained-automix'] && acc['live-threshold']);
    assert.ok(rep.tiers.every((t) => t.answerTokensFrom.startsWith('outputs/')), 'answer lengths measured from the recorded outputs');
    // The middle tier is weaker than the smallest here: the chord-relative lift of always-13B is negative.
    assert.ok(acc['always-Llama-2-13b-hf']!.deltaIbc! < 0);
  });
});
