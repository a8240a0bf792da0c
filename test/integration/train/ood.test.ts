// The out-of-domain check (`tiermix eval --ood-test-categories`): whole categories are held out, and nothing
// that is fitted (the query classifier trained in the run, the POMDP, every policy's knobs) sees a row of
// them. Checked on small generated data where the held-out category is easy to recognise and easy for the
// smallest tier: a classifier that had seen it would say so.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fitModel } from '../../../router/policy/pomdp/model.js';
import { seededRng } from '../../../router/sim/rng.js';
import { pomdpProvider, type TiermixProvider } from '../../../router/train/extensions.js';
import { applySplit, runOfflineEvaluation, trainQueryClassifier } from '../../../router/train/index.js';
import { labelledOutcomes } from '../../../router/train/pomdp-params.js';
import { parseRow, DataError, type EvalRow } from '../../../router/train/rows.js';
import { writeJsonl } from '../../unit/train/fixtures.js';

const MODELS = ['Small-7B', 'Mid-13B', 'Big-70B'];
const CATS = ['alpha', 'beta', 'gamma', 'zoology'];

/** 'zoology' questions mention zebras and the smallest tier always gets them right; elsewhere it rarely does. */
function rowsOf(n: number): Record<string, unknown>[] {
  const rng = seededRng(21);
  return Array.from({ length: n }, (_, i) => {
    const category = CATS[i % CATS.length]!;
    const zoo = category === 'zoology';
    const correct = [zoo || rng() < 0.2, rng() < 0.3, rng() < 0.5];
    const row: Record<string, unknown> = {
      question_id: i,
      category,
      question: zoo ? `How many stripes does zebra number ${i} have?` : `In ${category}, what is the value of item ${i}?`,
      options: ['one', 'two', 'three', 'four'],
      answer: 'A',
    };
    MODELS.forEach((m, j) => {
      row[`pred__${m}`] = correct[j] ? 'A' : 'BCD'[Math.floor(rng() * 3)];
      row[`correct__${m}`] = correct[j] ? 1 : 0;
    });
    return row;
  });
}

const RAW = rowsOf(800);
const ROWS: EvalRow[] = RAW.map((r) => parseRow(r, MODELS));
const dir = mkdtempSync(join(tmpdir(), 'tiermix-ood-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'outcomes.jsonl');
writeJsonl(data, RAW);

describe('out-of-domain split', () => {
  it('puts every row of the listed categories in test and no other', () => {
    const split = applySplit(ROWS, { kind: 'categories', test: ['zoology'] });
    assert.equal(split.filter((r) => r.test).length, 200);
    assert.ok(split.every((r) => r.test === (r.category === 'zoology')));
    assert.ok(ROWS.some((r) => r.test && r.category !== 'zoology'), 'the input keeps its id split');
    assert.throws(() => applySplit(ROWS, { kind: 'categories', test: ['botany'] }), (e: unknown) => e instanceof DataError && /unknown category botany; the data has alpha, beta, gamma, zoology/.test(e.message));
    assert.throws(() => applySplit(ROWS, { kind: 'categories', test: CATS }), /leave at least one/);
    assert.throws(() => applySplit([{ ...ROWS[0]!, category: undefined }], { kind: 'categories', test: ['x'] }), /has no category/);
  });

  it('the classifier trained on the split has not seen the held-out category (it would recognise it otherwise)', () => {
    const zoo = ROWS.find((r) => r.category === 'zoology')!;
    const ood = trainQueryClassifier(applySplit(ROWS, { kind: 'categories', test: ['zoology'] }), MODELS, 'ood');
    assert.equal(ood.manifest.training.trainRows, 600);
    const inDomain = trainQueryClassifier(ROWS, MODELS, 'id-split');
    const pOod = ood.score(zoo)[0]!;
    const pIn = inDomain.score(zoo)[0]!;
    assert.ok(pIn > 0.6, `trained with zoology rows: P(smallest right | zebra question) = ${pIn}`);
    assert.ok(pOod < 0.45, `trained without them: ${pOod} (about the 0.2 base rate of the other categories)`);
  });

  it('the evaluation fits the POMDP and every knob on the other categories only, and reports on the held-out one', async () => {
    const seen = new Set<string>();
    const base = pomdpProvider([0, 0.05, 1]);
    const spy: TiermixProvider = {
      name: base.name,
      fit(fit, classifier) {
        for (const r of fit.train) seen.add(r.category!);
        // The POMDP fitted on these rows: its prior is their empirical joint (here, the smallest tier's share right).
        const model = fitModel(labelledOutcomes(fit.train));
        const smallRight = fit.train.filter((r) => r.tiers[0]!.correct).length / fit.train.length;
        assert.ok(Math.abs(model.jointPrior.filter((_, s) => s & 1).reduce((a, b) => a + b, 0) - smallRight) < 0.01);
        return base.fit(fit, classifier);
      },
    };
    const report = await runOfflineEvaluation({
      data,
      tiers: MODELS,
      mode: { kind: 'none' },
      split: { kind: 'categories', test: ['zoology'] },
      trainClassifier: true,
      extensions: { tiermix: spy },
    });
    assert.deepEqual([...seen].sort(), ['alpha', 'beta', 'gamma']);
    assert.equal(report.n, 200);
    assert.equal(report.trainN, 600);
    assert.match(report.splitRule, /out of domain: test = categories zoology/);
    assert.match(report.classifier ?? '', /trained in this run: .*600 train rows/);
    assert.equal(report.tiers[0]!.testAccuracy, 1, 'the test rows are the zoology rows');
    assert.ok(report.policies.some((p) => p.name === 'tiermix') && report.policies.some((p) => p.name === 'classifier-threshold'));
  });

  it('tiermix eval --ood-test-categories prints the split, and refuses a shipped classifier', () => {
    const cli = fileURLToPath(new URL('../../../router/cli/main.js', import.meta.url));
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'eval', '--data', data, '--tiers', MODELS.join(','), ...args], { encoding: 'utf8', timeout: 120_000 });
    const r = run('--ood-test-categories', 'zoology,gamma', '--no-classifier', '--json');
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as { n: number; trainN: number; classifier: string | null; splitRule: string };
    assert.deepEqual([rep.n, rep.trainN, rep.classifier], [400, 400, null]);
    assert.match(rep.splitRule, /zoology, gamma/);
    const bad = run('--ood-test-categories', 'zoology', '--classifier', dir);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /a shipped classifier has seen the test categories/);
    const unknown = run('--ood-test-categories', 'botany');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown category botany/);
  });
});
