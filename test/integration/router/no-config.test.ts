// Starting before the controller has written anything: the router runs without a configuration (not ready, every
// model 404), becomes ready on `cascades: []` (still 404, saying why), and serves once a cascade arrives. Over real
// HTTP with the openai SDK, and the `tiermix router` command itself: exit 2 on a missing file for a human, waiting
// for it with --wait-for-config.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import OpenAI from 'openai';
import pino from 'pino';
import { stringify } from 'yaml';
import { startRouter } from '../../../router/server/start.js';
import { startSimulator } from '../../../router/sim/index.js';

const CLI = fileURLToPath(new URL('../../../router/cli/main.js', import.meta.url));

const until = async (cond: () => Promise<boolean> | boolean, ms = 5000, what = 'condition') => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`${what}: not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

function atomicWrite(file: string, text: string) {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const readyz = async (url: string) => {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; reason?: string; configuration: { loaded: boolean; cascades: number; last_error: unknown } } };
};

async function notFound(openai: OpenAI, model: string): Promise<string> {
  try {
    await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
  } catch (err) {
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    assert.equal((err.error as { code?: string }).code, 'model_not_found');
    assert.equal((err.error as { param?: string }).param, 'model');
    return err.message;
  }
  return assert.fail('expected a 404');
}

describe('a router without a configuration', () => {
  it('waits for the file: not ready and 404 until it appears; ready with zero cascades; serves once a cascade is added', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tiermix-noconfig-')), 'router.yaml');
    const sim = await startSimulator({ model: 'Mistral-7B-v0.1', dataDir: null, timeScale: 0.01 });
    const router = await startRouter({ configFile: file, configFileText: null, waitForConfig: true, host: '127.0.0.1', port: 0, watchIntervalMs: 50, logger: pino({ level: 'silent' }), healthChecks: false });
    const openai = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    try {
      assert.equal((await fetch(`${router.url}/healthz`)).status, 200, 'alive');
      const waiting = await readyz(router.url);
      assert.equal(waiting.status, 503);
      assert.equal(waiting.body.configuration.loaded, false);
      assert.match(waiting.body.reason!, /no configuration loaded yet \(waiting for .*router\.yaml\)/);
      assert.deepEqual((await openai.models.list()).data, []);
      assert.match(await notFound(openai, 'ladder'), /The model 'ladder' does not exist: no cascade is configured yet \(the router has not loaded its configuration yet\)/);

      // What the controller writes before any ModelCascade exists.
      atomicWrite(file, '# Written by the tiermix controller\ncascades: []\n');
      await until(async () => (await readyz(router.url)).status === 200, 5000, 'ready on cascades: []');
      assert.deepEqual((await readyz(router.url)).body.configuration, { loaded: true, file, loaded_at: router.configStatus().loadedAt, last_error: null, cascades: 0 });
      assert.match(await notFound(openai, 'ladder'), /The model 'ladder' does not exist: no cascade is configured yet\. Create a ModelCascade/);
      const route = await fetch(`${router.url}/v1/route`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'ladder', prompt: 'x' }) });
      assert.equal(route.status, 404);

      // An invalid version keeps the router ready on the last valid one, and /readyz shows what was refused.
      atomicWrite(file, 'cascades: [{ name: broken, tiers: [] }]\n');
      await until(() => router.configStatus().lastError !== null, 5000, 'refusal recorded');
      const refused = await readyz(router.url);
      assert.equal(refused.status, 200);
      assert.match(JSON.stringify(refused.body.configuration.last_error), /cascades\.0\.tiers/);

      atomicWrite(file, stringify({ cascades: [{ name: 'ladder', tiers: [{ name: 'small', model: 'Mistral-7B-v0.1', endpoints: [sim.url] }] }] }));
      await until(() => router.getState().cascades.has('ladder'), 5000, 'cascade applied');
      const r = await openai.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
      assert.ok(r.choices[0]!.message.content !== undefined);
      assert.deepEqual((await openai.models.list()).data.map((m) => m.id), ['ladder', 'small']);
    } finally {
      await router.close();
      await sim.close();
    }
  });

  it('tiermix router: a missing file exits 2 with the reason and the flag to use; --wait-for-config starts and waits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiermix-noconfig-cli-'));
    const file = join(dir, 'router.yaml');
    const r = spawnSync(process.execPath, [CLI, 'router', '--config', file, '--port', '0'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /invalid configuration in .*router\.yaml:\n {2}- \(file\): cannot read: ENOENT/);
    assert.match(r.stderr, /pass --wait-for-config/);

    const child = spawn(process.execPath, [CLI, 'router', '--config', file, '--host', '127.0.0.1', '--port', '0', '--wait-for-config', '--no-health-checks'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await until(() => /listening without a configuration/.test(out), 20_000, 'router listening');
      const url = /"url":"([^"]+)"/.exec(out)![1]!;
      assert.equal((await readyz(url)).status, 503);
      atomicWrite(file, 'cascades: []\n');
      await until(async () => (await readyz(url)).status === 200, 10_000, 'ready once the file appears');
      await until(() => /"msg":"configuration loaded"/.test(out), 5000, 'load logged');
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });
});
