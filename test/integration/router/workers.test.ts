// `tiermix router --workers N` as a process: the workers share one port and each serves requests, /metrics from
// any of them is the sum over all of them, a worker that dies is replaced, SIGTERM stops every process, and a bad
// --workers value exits 2 naming the flag. Real HTTP to a simulator; the openai SDK as one of the clients.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { startSimulator } from '../../../router/sim/index.js';
import { isAlive } from '../../helpers/processes.js';

const CLI = fileURLToPath(new URL('../../../router/cli/main.js', import.meta.url));

const until = async (cond: () => Promise<boolean> | boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`${what}: not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** One request on a new connection (no keep-alive), so the primary hands each one to the next worker. */
function fresh(url: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(`${url}${path}`, { method: payload ? 'POST' : 'GET', agent: false, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const pidOf = async (url: string) => (JSON.parse((await fresh(url, '/readyz')).text) as { pid: number }).pid;

function metricTotal(text: string, name: string, filter = ''): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(filter))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

function workerPids(primary: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(primary)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

describe('tiermix router --workers', () => {
  it('two workers share the port, /metrics sums both, a killed worker is replaced, SIGTERM stops all', async () => {
    const sim = await startSimulator({ model: 'Mistral-7B-v0.1', dataDir: null, timeScale: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'tiermix-workers-'));
    const file = join(dir, 'router.yaml');
    writeFileSync(file, stringify({ cascades: [{ name: 'solo', tiers: [{ name: 'small', model: 'Mistral-7B-v0.1', endpoints: [sim.url] }] }] }));
    const child: ChildProcess = spawn(process.execPath, [CLI, 'router', '--config', file, '--host', '127.0.0.1', '--port', '0', '--workers', '2', '--no-health-checks'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let pids: number[] = [];
    try {
      await until(() => (out.match(/tiermix router listening/g) ?? []).length === 2, 30_000, 'both workers listening');
      const urls = [...out.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]!);
      assert.equal(new Set(urls).size, 1, `one port for both workers: ${urls.join(', ')}`);
      const url = urls[0]!;
      pids = workerPids(child.pid!);
      assert.equal(pids.length, 2);

      // New connections go to both workers.
      const answered = new Set<number>();
      for (let i = 0; i < 10; i++) answered.add(await pidOf(url));
      assert.deepEqual([...answered].sort(), [...pids].sort());

      // 12 pinned requests on new connections and 3 through the SDK (keep-alive); any worker's /metrics counts all 15.
      for (let i = 0; i < 12; i++) {
        const r = await fresh(url, '/v1/completions', { model: 'small', prompt: `Say ${i}.`, max_tokens: 4 });
        assert.equal(r.status, 200, r.text);
      }
      const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
      for (let i = 0; i < 3; i++) {
        const c = await openai.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: `hello ${i}` }], max_tokens: 4 });
        assert.equal(c.object, 'chat.completion');
      }
      for (let i = 0; i < 4; i++) {
        const m = await fresh(url, '/metrics');
        assert.equal(m.status, 200);
        assert.equal(metricTotal(m.text, 'tiermix_requests_total', 'outcome="ok"'), 15, 'requests summed over the workers');
        assert.equal(metricTotal(m.text, 'tiermix_tier_requests_total', 'tier="small"'), 15, 'tier calls summed over the workers');
        assert.equal(metricTotal(m.text, 'tiermix_tier_in_flight_requests'), 0, 'nothing in flight');
      }

      // A worker that dies is replaced; the other keeps serving meanwhile.
      const killed = pids[0]!;
      process.kill(killed, 'SIGKILL');
      await until(() => /router worker exited: starting another/.test(out), 10_000, 'exit noticed');
      assert.equal((await fresh(url, '/v1/completions', { model: 'small', prompt: 'Still there?', max_tokens: 4 })).status, 200);
      await until(() => (out.match(/tiermix router listening/g) ?? []).length === 3, 30_000, 'replacement listening');
      pids = workerPids(child.pid!);
      assert.equal(pids.length, 2);
      assert.ok(!pids.includes(killed), 'the killed worker was replaced by a new process');
      const serving = new Set<number>();
      for (let i = 0; i < 10; i++) serving.add(await pidOf(url));
      assert.deepEqual([...serving].sort(), [...pids].sort(), 'the replacement serves too');
    } finally {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
      if (code === 'timeout') child.kill('SIGKILL');
      await sim.close();
      assert.equal(code, 0, out.slice(-2000));
    }
    await until(() => pids.every((p) => !isAlive(p)), 5000, 'every worker gone');
  });

  it('a --workers value out of range exits 2 and names the flag', () => {
    const r = spawnSync(process.execPath, [CLI, 'router', '--config', '/nonexistent.yaml', '--workers', '0'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--workers/);
  });
});
