// `tiermix eval` as a child process over data generated here: the JSON shape, labels, the image, and usage errors.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixtureRows, writeJsonl } from '../../unit/train/fixtures.js';

const cli = fileURLToPath(new URL('../../../router/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tiermix-eval-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'outcomes.jsonl.gz');
writeJsonl(data, fixtureRows({ models: ['Small-7B', 'Mid-13B', 'Big-70B'], accuracy: [0.35, 0.3, 0.5], n: 500, stringIds: true }));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'eval', ...args], { encoding: 'utf8', timeout: 60_000 });
/** The same, without blocking, so that independent runs overlap. */
const runAsync = (...args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [cli, 'eval', ...args], { encoding: 'utf8', timeout: 60_000 }, (_err, stdout, stderr) =>
      resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
const TIERS = 'Small-7B,Mid-13B,Big-70B';

describe('tiermix eval', () => {
  it('--json prints one object with every field the issue asks for', () => {
    const r = run('--data', data, '--tiers', TIERS, '--verifier', 'simulated', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.split, 'test');
    assert.equal(out.n, 100);
    assert.equal(out.verifier, 'simulated:pc=0.7,pw=0.4,kappa=2');
    assert.equal(out.costModel.modelled, true);
    assert.deepEqual(out.tiers.map((t: { gpusPerReplica: number }) => t.gpusPerReplica), [1, 1, 4]);
    const names = out.policies.map((p: { name: string }) => p.name);
    for (const n of ['always-smallest', 'always-largest', 'random-mix', 'agreement', 'extraction', 'automix-threshold', 'automix-pomdp', 'chained-automix', 'live-threshold', 'tiermix']) {
      assert.ok(names.includes(n), n);
    }
    for (const p of out.policies) {
      for (const k of ['name', 'accuracy', 'gpuSecondsPerRequest', 'deltaIbc', 'apgr', 'cpt50', 'cpt80', 'costAt98', 'escalation']) assert.ok(k in p, `${p.name}.${k}`);
      assert.equal(typeof p.escalation.rate, 'number');
    }
    // The POMDP runs without a classifier; the classifier-threshold policy needs --classifier.
    assert.deepEqual(out.pending.map((p: { name: string }) => p.name), ['classifier-threshold']);
    const largest = out.policies.find((p: { name: string }) => p.name === 'always-largest');
    assert.equal(largest.costAt98, largest.gpuSecondsPerRequest);
  });

  it('--verifier none says so, runs only real-signal policies, and draws the curves', () => {
    const png = join(dir, 'curves.png');
    const r = run('--data', data, '--tiers', TIERS, '--verifier', 'none', '--gpus', '1,2,8', '--plot', png);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /verifier: none \(real signals only/);
    assert.match(r.stdout, /not applicable: automix-pomdp: needs verifier observations/);
    assert.match(r.stdout, /classifier-threshold: pending/);
    assert.match(r.stdout, /Big-70B \(8 GPU/);
    assert.doesNotMatch(r.stdout, /^automix/m);
    assert.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const svg = join(dir, 'curves.svg');
    assert.equal(run('--data', data, '--tiers', 'Small-7B,Big-70B', '--plot', svg).status, 0);
    assert.match(readFileSync(svg, 'utf8'), /^<svg[^>]*>[\s\S]*verifier: none[\s\S]*<\/svg>\n$/);
  });

  it('is deterministic for a seed', async () => {
    const args = ['--data', data, '--tiers', TIERS, '--verifier', 'simulated:kappa=3', '--seed', '4', '--json'];
    const [a, b] = await Promise.all([runAsync(...args), runAsync(...args)]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
  });

  it('exits 2 with a message on bad flags and unusable data', async () => {
    const cases: [string[], RegExp][] = [
      [['--tiers', TIERS], /required option '--data <file>'/],
      [['--data', data, '--tiers', 'Small-7B'], /at least 2 model names/],
      [['--data', data, '--tiers', 'Small-7B,Huge-400B'], /unknown tier "Huge-400B": the data has pred__ columns for Small-7B, Mid-13B, Big-70B/],
      [['--data', data, '--tiers', TIERS, '--verifier', 'oracle'], /unknown kind "oracle".*or "none"/],
      [['--data', data, '--tiers', TIERS, '--gpus', '1,1'], /--gpus lists 2 values for 3 tiers/],
      [['--data', data, '--tiers', TIERS, '--gpus', '1,x,4'], /comma-separated list of GPU counts/],
      [['--data', data, '--tiers', TIERS, '--classifier', dir], /no manifest\.json; expected a classifier folder written by tiermix train/],
      [['--data', join(dir, 'missing.jsonl'), '--tiers', TIERS], /no such file/],
    ];
    const results = await Promise.all(cases.map(([args]) => runAsync(...args)));
    cases.forEach(([args, message], i) => {
      const r = results[i]!;
      assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status} stderr ${r.stderr}`);
      assert.match(r.stderr, message);
    });
  });

  it('--help states that GPU-seconds are modelled and names the verifier choices', () => {
    const r = run('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout.replace(/\s+/g, ' '), /MODELLED/);
    assert.match(r.stdout, /--verifier <spec>/);
  });
});
