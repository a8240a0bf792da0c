// Failure injection and lifecycle: 500s, dropped connections, runtime faults, slow replicas, start-up,
// and a client that goes away mid-request.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import OpenAI from 'openai';
import { startSimulator } from '../../../router/sim/server.js';

const MODEL = 'Mistral-7B-v0.1';
const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 5000 });
const ask = (c: OpenAI, max_tokens = 10) => c.completions.create({ model: MODEL, prompt: 'Say hello to the simulator.', max_tokens });

async function postFaults(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('failure injection', () => {
  it('--fail-rate 1 answers 500 with a vLLM-like error body', async () => {
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0, failRate: 1 });
    try {
      await assert.rejects(ask(client(sim.url)), (err: unknown) => err instanceof OpenAI.InternalServerError && err.status === 500);
      const res = await fetch(`${sim.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const body = (await res.json()) as { error: Record<string, unknown> };
      assert.equal(body.error.type, 'InternalServerError');
      assert.equal(body.error.code, 500);
      assert.match(String(body.error.message), /[Ss]imulated/);
      assert.equal((await fetch(`${sim.url}/health`)).status, 200, 'health and metrics are not affected');
    } finally {
      await sim.close();
    }
  });

  it('--drop-rate 1 destroys the connection without an answer', async () => {
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0, dropRate: 1 });
    try {
      await assert.rejects(ask(client(sim.url)), (err: unknown) => err instanceof OpenAI.APIConnectionError);
    } finally {
      await sim.close();
    }
  });

  it('fails about the configured share of requests', async () => {
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0, failRate: 0.5, seed: 3 });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 200 }, () =>
          fetch(`${sim.url}/v1/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: MODEL, prompt: 'x', max_tokens: 1 }),
          }).then((r) => r.status),
        ),
      );
      const failed = statuses.filter((s) => s === 500).length;
      assert.ok(failed > 70 && failed < 130, `${failed} of 200 failed`);
    } finally {
      await sim.close();
    }
  });

  it('POST /admin/faults breaks and repairs a running replica, and validates its body', async () => {
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0 });
    const c = client(sim.url);
    try {
      await ask(c);
      let res = await postFaults(sim.url, { failRate: 1 });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { failRate: 1, slowFactor: 1, dropRate: 0 });
      await assert.rejects(ask(c), (err: unknown) => err instanceof OpenAI.InternalServerError);
      res = await postFaults(sim.url, { failRate: 0, dropRate: 1 });
      await assert.rejects(ask(c), (err: unknown) => err instanceof OpenAI.APIConnectionError);
      await postFaults(sim.url, { dropRate: 0 });
      await ask(c);
      for (const bad of [{ failRate: 2 }, { slowFactor: -1 }, { explode: true }, { dropRate: 'half' }]) {
        res = await postFaults(sim.url, bad);
        assert.equal(res.status, 400, JSON.stringify(bad));
        const body = (await res.json()) as { error: { message: string } };
        assert.ok(body.error.message.length > 0);
      }
      assert.deepEqual(await (await fetch(`${sim.url}/admin/faults`)).json(), { failRate: 0, slowFactor: 1, dropRate: 0 });
    } finally {
      await sim.close();
    }
  });

  it('a slow factor makes the replica slower', async () => {
    // 7b profile, 40 tokens: ~0.75 s modelled, x 0.2 = ~150 ms; x 4 slower = ~600 ms.
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0.2 });
    const c = client(sim.url);
    try {
      await ask(c, 1); // warm up the process, so the first measurement is not the slowest
      const time = async () => {
        const start = performance.now();
        await ask(c, 40);
        return performance.now() - start;
      };
      const normal = await time();
      sim.setFaults({ slowFactor: 4 });
      const slow = await time();
      assert.ok(slow > 2 * normal && slow > 400, `normal ${normal.toFixed(0)} ms, slow ${slow.toFixed(0)} ms`);
    } finally {
      await sim.close();
    }
  });
});

describe('lifecycle', () => {
  it('answers /health 503 while starting, then 200', async () => {
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0, startupSeconds: 0.3 });
    try {
      const starting = await fetch(`${sim.url}/health`);
      assert.equal(starting.status, 503);
      assert.equal((await fetch(`${sim.url}/v1/models`)).status, 503);
      await new Promise((r) => setTimeout(r, 350));
      const up = await fetch(`${sim.url}/health`);
      assert.equal(up.status, 200);
      assert.equal(await up.text(), '');
      assert.equal(up.headers.get('x-tiermix-simulated'), 'true');
    } finally {
      await sim.close();
    }
  });

  it('frees the sequence when the client disconnects', async () => {
    const sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 1 });
    try {
      const abort = new AbortController();
      const pending = fetch(`${sim.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, prompt: 'A long answer, please.', max_tokens: 500, n: 2, stream: true }),
        signal: abort.signal,
      }).then(async (res) => {
        for await (const _ of res.body!) {
          /* read until aborted */
        }
      });
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(sim.stats().running, 2);
      abort.abort();
      await assert.rejects(pending);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(sim.stats(), { running: 0, waiting: 0, kvTokens: 0, kvUsage: 0 });
      const text = await (await fetch(`${sim.url}/metrics`)).text();
      assert.match(text, /vllm:request_success_total\{[^}]*finished_reason="abort"\} 2/);
    } finally {
      await sim.close();
    }
  });

  it('rejects bad options with a message naming the option', async () => {
    await assert.rejects(startSimulator({ model: '' }), /option model/);
    await assert.rejects(startSimulator({ model: 'm', dataDir: null, timeScale: -1 }), /option timeScale/);
    await assert.rejects(startSimulator({ model: 'm', dataDir: null, verifier: 'simulated:pw=9' }), /pw=9 must be between 0 and 1/);
  });
});
