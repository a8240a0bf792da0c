import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createTierClient, type InspectableTierClient, type TierClientOptions } from '../../../router/upstream/tier-client.js';
import { answerOk, answerStatus, retryOf, sleep, startFakeReplica, tierOf, waitFor, type FakeReplica, type Handler } from './fake-replica.js';

const opened: { replicas: FakeReplica[]; clients: InspectableTierClient[] } = { replicas: [], clients: [] };
afterEach(async () => {
  for (const c of opened.clients.splice(0)) c.close();
  await Promise.all(opened.replicas.splice(0).map((r) => r.close()));
});

async function replicas(...handlers: Handler[]): Promise<FakeReplica[]> {
  const started = await Promise.all(handlers.map((h) => startFakeReplica(h)));
  opened.replicas.push(...started);
  return started;
}

function client(endpoints: string[], options: TierClientOptions): InspectableTierClient {
  const c = createTierClient(tierOf(endpoints), retryOf(2), options);
  opened.clients.push(c);
  return c;
}

const fastChecks = { intervalSeconds: 0.04, path: '/health' };
const body = { model: 'm', prompt: 'hi' };
const answer = { purpose: 'answer' } as const;

test('health checks turn replicas ready and unready', async () => {
  const [a, b] = await replicas(answerOk(), answerOk());
  b!.healthStatus = 503;
  const c = client([a!.url, b!.url], { healthCheck: fastChecks });
  await waitFor(() => c.readyReplicas() === 1);
  assert.deepEqual(c.replicaStatus().map((s) => s.ready), [true, false]);
  for (let k = 0; k < 4; k++) assert.equal((await c.postJson('/v1/completions', body, answer)).replica, a!.url);
  b!.healthStatus = 200;
  await waitFor(() => c.readyReplicas() === 2);
  a!.healthStatus = 500;
  await waitFor(() => c.readyReplicas() === 1 && c.replicaStatus()[1]!.ready);
});

test('with checks on, replicas start unready until their first check passes', async () => {
  const [a] = await replicas(answerOk());
  const c = client([a!.url], { healthCheck: { intervalSeconds: 60, path: '/health' } });
  assert.equal(c.readyReplicas(), 0);
  await waitFor(() => c.readyReplicas() === 1);
  assert.equal(a!.healthChecks, 1, 'the first check runs right away');
});

test('a replica that fails its health check still serves when nothing else is ready', async () => {
  const [a] = await replicas(answerOk());
  a!.healthStatus = 503;
  const c = client([a!.url], { healthCheck: fastChecks });
  await waitFor(() => a!.healthChecks >= 2);
  assert.equal(c.readyReplicas(), 0);
  assert.equal((await c.postJson('/v1/completions', body, answer)).status, 200);
});

test('a replica ejected by a failed call comes back after a passing health check', async () => {
  let failNext = true;
  const flaky: Handler = (req, res, raw) => {
    if (failNext) {
      failNext = false;
      return answerStatus(503)(req, res, raw);
    }
    answerOk()(req, res, raw);
  };
  const [a, b] = await replicas(flaky, answerOk());
  // The cooldown alone would keep it out for a minute; only the health check can bring it back.
  const c = client([a!.url, b!.url], { healthCheck: { intervalSeconds: 0.15, path: '/health' }, ejection: { baseSeconds: 60, maxSeconds: 60 } });
  await waitFor(() => c.readyReplicas() === 2);
  const res = await c.postJson('/v1/completions', body, answer);
  assert.equal(res.replica, b!.url, 'retried on b');
  assert.equal(c.readyReplicas(), 1);
  assert.ok(c.replicaStatus()[0]!.ejectedForSeconds > 50);
  await waitFor(() => c.readyReplicas() === 2);
});

test('with checks off, an ejected replica returns when its cooldown expires', async () => {
  let failNext = true;
  const [a, b] = await replicas((req, res, raw) => {
    if (failNext) {
      failNext = false;
      return answerStatus(500)(req, res, raw);
    }
    answerOk()(req, res, raw);
  }, answerOk());
  const c = client([a!.url, b!.url], { healthCheck: false, ejection: { baseSeconds: 0.1, maxSeconds: 1 } });
  assert.equal(c.readyReplicas(), 2, 'ready from the start');
  await c.postJson('/v1/completions', body, answer);
  assert.equal(c.readyReplicas(), 1);
  await sleep(120);
  assert.equal(c.readyReplicas(), 2);
  const replicasUsed = new Set<string>();
  for (let k = 0; k < 4; k++) replicasUsed.add((await c.postJson('/v1/completions', body, answer)).replica);
  assert.equal(replicasUsed.size, 2, 'traffic spreads over both again');
});

test('close() stops the health checks', async () => {
  const [a] = await replicas(answerOk());
  const c = client([a!.url], { healthCheck: fastChecks });
  await waitFor(() => a!.healthChecks >= 2);
  c.close();
  await sleep(20);
  const seen = a!.healthChecks;
  await sleep(150);
  assert.equal(a!.healthChecks, seen);
});

test('a client that is never closed does not keep the process alive', async () => {
  const [a] = await replicas(answerOk());
  const moduleUrl = new URL('../../../router/upstream/tier-client.js', import.meta.url).href;
  const script = `
    const { createTierClient } = await import(${JSON.stringify(moduleUrl)});
    const tier = { name: 't', model: 'm', endpoints: [${JSON.stringify(a!.url)}], gpusPerReplica: 1, timeouts: { connectSeconds: 1, requestSeconds: 60 } };
    const c = createTierClient(tier, { attemptsPerTier: 2, tierFallbacks: 0 }, { healthCheck: { intervalSeconds: 1, path: '/health' } });
    await c.postJson('/v1/completions', { model: 'm' }, { purpose: 'answer' });
    await new Promise((r) => setTimeout(r, 50));`;
  const started = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const killer = setTimeout(() => child.kill(), 5000);
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      clearTimeout(killer);
      resolve(exitCode);
    });
  });
  assert.equal(code, 0);
  assert.ok(Date.now() - started < 3000, `exited after ${Date.now() - started} ms`);
});
