// Data loading, verifier observations and the cost model.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { interTokenMs, PROFILES, serviceMs, prefillMs } from '../../../router/sim/latency.js';
import { auroc } from '../../../router/verify/simulated-verifier.js';
import { defaultGpus, meanPromptTokens, tierCost, tierSpec, FALLBACK_PROMPT_TOKENS, VERIFY_PROMPT_OVERHEAD_TOKENS } from '../../../router/train/cost.js';
import { hasObservations, observe, observationCounts, parseVerifierMode, verifierLabel } from '../../../router/train/observe.js';
import { DataError, loadEvalRows, parseRow, resolveTiers, splitOfId } from '../../../router/train/rows.js';
import { fixtureRows, writeJsonl } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tiermix-train-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('rows', () => {
  it('splits by the integer at the end of the id: test when divisible by 5', () => {
    assert.deepEqual(splitOfId(10), { key: '10', test: true });
    assert.deepEqual(splitOfId(12), { key: '12', test: false });
    assert.equal(splitOfId('q-00045').test, true);
    assert.equal(splitOfId('mmlu/7/3').test, false);
    assert.equal(splitOfId('x123456789012345678901235').test, true, 'only the last digit matters, no overflow');
    for (const bad of ['abc', -5, 1.5, null, undefined]) assert.throws(() => splitOfId(bad), DataError);
  });

  it('resolves tier names exactly, ignoring case, or by the part after the last "/"', () => {
    const models = ['Mistral-7B-v0.1', 'Llama-2-70b-hf'];
    assert.deepEqual(resolveTiers(models, ['mistral-7b-v0.1', 'meta-llama/Llama-2-70b-hf']), models);
    assert.throws(() => resolveTiers(models, ['gpt-5']), /unknown tier "gpt-5": the data has pred__ columns for Mistral-7B-v0.1, Llama-2-70b-hf/);
  });

  it('parses outcomes; null counts as wrong; conf__ must be in [0,1]', () => {
    const row = parseRow({ id: 'a5', pred__m: null, correct__m: null, conf__m: 0.25, question: 'q?' }, ['m']);
    assert.deepEqual(row, { key: 'a5', test: true, tiers: [{ pred: null, correct: false, conf: 0.25 }], question: 'q?' });
    assert.throws(() => parseRow({ id: 1, pred__m: 'A' }, ['m']), /correct__m is missing/);
    assert.throws(() => parseRow({ id: 1, pred__m: 'A', correct__m: 2 }, ['m']), /correct__m is 2/);
    assert.throws(() => parseRow({ id: 1, pred__m: 'A', correct__m: 1, conf__m: 1.5 }, ['m']), /conf__m is 1.5/);
    assert.throws(() => parseRow({ id: 1, pred__m: 3, correct__m: 1 }, ['m']), /pred__m is 3/);
  });

  it('reads plain and gzip JSON lines alike, and names the file and line of a bad row', async () => {
    const rows = fixtureRows({ models: ['s', 'l'], accuracy: [0.3, 0.5], n: 40 });
    writeJsonl(join(dir, 'a.jsonl'), rows);
    writeJsonl(join(dir, 'a.jsonl.gz'), rows);
    const plain = await loadEvalRows(join(dir, 'a.jsonl'), ['s', 'l']);
    const gz = await loadEvalRows(join(dir, 'a.jsonl.gz'), ['S', 'L']);
    assert.deepEqual(plain, gz);
    assert.equal(plain.rows.length, 40);
    assert.equal(plain.rows.filter((r) => r.test).length, 8);
    writeJsonl(join(dir, 'bad.jsonl'), [rows[0]!, { ...rows[1]!, 'correct__l': 'yes' }]);
    await assert.rejects(loadEvalRows(join(dir, 'bad.jsonl'), ['s', 'l']), /bad\.jsonl:2: correct__l is "yes"/);
  });
});

describe('verifier observations', () => {
  const raw = fixtureRows({ models: ['s', 'l'], accuracy: [0.4, 0.6], n: 3000, seed: 3 });
  const rows = raw.map((r) => parseRow(r, ['s', 'l']));

  it('none gives no observation; simulated is labelled, seeded, and independent of row order', () => {
    const none = observe(rows, ['s', 'l'], parseVerifierMode('none'));
    assert.equal(verifierLabel(parseVerifierMode('none')), 'none');
    assert.ok(none.every((r) => r.confidence.every((c) => c === null)));
    assert.equal(hasObservations(none, [0]), false);
    const mode = parseVerifierMode('simulated:pc=0.8', 8, 5);
    assert.equal(verifierLabel(mode), 'simulated:pc=0.8,pw=0.4,kappa=2');
    const a = observe(rows, ['s', 'l'], mode);
    const b = observe([...rows].reverse(), ['s', 'l'], mode).reverse();
    assert.deepEqual(a.map((r) => r.confidence), b.map((r) => r.confidence));
    assert.ok(a.every((r) => r.confidence.every((c) => c !== null && Number.isInteger(c * 8))));
    assert.notDeepEqual(a.map((r) => r.confidence), observe(rows, ['s', 'l'], parseVerifierMode('simulated:pc=0.8', 8, 6)).map((r) => r.confidence));
  });

  it('simulated confidences separate correct from wrong answers as the stated model says (AUROC ~0.75)', () => {
    const obs = observe(rows, ['s', 'l'], parseVerifierMode('simulated'));
    const pos = obs.filter((r) => r.tiers[0]!.correct).map((r) => r.confidence[0]!);
    const neg = obs.filter((r) => !r.tiers[0]!.correct).map((r) => r.confidence[0]!);
    const a = auroc(pos, neg);
    assert.ok(a > 0.71 && a < 0.79, `AUROC ${a}`);
  });

  it('a real conf__ wins over the simulated one and is counted as real', () => {
    const withConf = fixtureRows({ models: ['s', 'l'], accuracy: [0.4, 0.6], n: 20, conf: true }).map((r) => parseRow(r, ['s', 'l']));
    const obs = observe(withConf, ['s', 'l'], parseVerifierMode('none'));
    assert.deepEqual(obs.map((r) => r.confidence[0]), withConf.map((r) => r.tiers[0]!.conf));
    assert.deepEqual(observationCounts(obs, 2)[0], { real: 20, simulated: 0, none: 0 });
    assert.equal(hasObservations(obs, [0]), true);
  });
});

describe('cost model (modelled GPU-seconds)', () => {
  it('charges gpus / batch x service time, at the batch load factor', () => {
    const spec = tierSpec('Llama-2-70b-hf');
    assert.deepEqual(spec, { name: 'Llama-2-70b-hf', gpusPerReplica: 4, profile: '70b' });
    assert.equal(defaultGpus('mistral-7b'), 1);
    const settings = { batchSize: 16, verifySamples: 8, verifyTokensPerSample: 30 };
    const c = tierCost(spec, { promptTokens: 200, answerTokens: 100 }, settings);
    const ctx = { profile: PROFILES['70b'], maxNumSeqs: 32, running: 16, timeScale: 1, slowFactor: 1 };
    assert.ok(Math.abs(c.answer - (4 / 16) * serviceMs(200, 100, ctx) / 1000) < 1e-12);
    const verifyMs = prefillMs(VERIFY_PROMPT_OVERHEAD_TOKENS + 300, ctx) + 8 * 29 * interTokenMs(ctx);
    assert.ok(Math.abs(c.verify - (4 / 16) * verifyMs / 1000) < 1e-12);
    assert.ok(VERIFY_PROMPT_OVERHEAD_TOKENS > 300, 'the few-shot verification prompt is long');
  });

  it('cannot batch beyond max-num-seqs; more GPUs cost proportionally more', () => {
    const tokens = { promptTokens: 200, answerTokens: 100 };
    const s = (batchSize: number) => ({ batchSize, verifySamples: 8, verifyTokensPerSample: 30 });
    assert.equal(tierCost(tierSpec('x-70b'), tokens, s(1000)).answer, tierCost(tierSpec('x-70b'), tokens, s(32)).answer);
    const one = tierCost(tierSpec('m-7b', 1), tokens, s(8)).answer;
    assert.ok(Math.abs(tierCost(tierSpec('m-7b', 2), tokens, s(8)).answer - 2 * one) < 1e-12);
  });

  it('prompt tokens come from the questions, else a measured constant', () => {
    assert.equal(meanPromptTokens([{ key: '1', test: false, tiers: [] }]), FALLBACK_PROMPT_TOKENS);
    const n = meanPromptTokens([{ key: '1', test: false, tiers: [], question: 'What is two plus two?', options: ['3', '4'] }]);
    assert.ok(n > 10 && n < 40, String(n));
  });
});
