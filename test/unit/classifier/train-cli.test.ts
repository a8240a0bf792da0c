// `tiermix train` as a child process on a small generated file, then `tiermix eval --classifier` on its output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixtureRows, writeJsonl } from '../train/fixtures.js';

const cli = fileURLToPath(new URL('../../../router/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tiermix-train-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'outcomes.jsonl.gz');
const TIERS = 'Small-7B,Mid-13B,Big-70B';
writeJsonl(data, fixtureRows({ models: TIERS.split(','), accuracy: [0.35, 0.3, 0.5], n: 300 }));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('tiermix train', () => {
  const out = join(dir, 'clf');

  it('writes model.onnx and a manifest with per-tier test AUROC and ECE', () => {
    const r = run('train', '--data', data, '--tiers', TIERS, '--out', out, '--hash-bits', '10', '--epochs', '3', '--compare-independent');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote .*model\.onnx/);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.deepEqual(m.tiers, TIERS.split(','));
    assert.equal(m.featureDim, 1024 + m.denseFeatures.length);
    assert.equal(m.metrics.test.rows, 60);
    for (const t of m.metrics.test.tiers) assert.ok(Number.isFinite(t.auroc) && Number.isFinite(t.ece));
    assert.equal(m.metrics.independentBaseline.tiers.length, 3);
    assert.ok(m.parity.maxAbsDiff < 1e-5);
    assert.equal(statSync(join(out, 'model.onnx')).size, m.onnx.bytes);
  });

  it('the model it wrote runs as the classifier-threshold policy in tiermix eval', () => {
    const r = run('eval', '--data', data, '--tiers', TIERS, '--classifier', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.ok(!report.pending.some((p: { name: string }) => p.name === 'classifier-threshold'));
    assert.match(JSON.stringify(report), /classifier-threshold/);
  });

  it('exits 2 on unusable input', () => {
    const r = run('train', '--data', data, '--tiers', 'Small-7B,Huge-400B', '--out', join(dir, 'x'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown tier "Huge-400B"/);
    assert.equal(run('train', '--data', data, '--tiers', TIERS).status, 2, 'missing --out');
  });
});
