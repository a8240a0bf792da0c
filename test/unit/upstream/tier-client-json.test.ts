import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createTierClient, type InspectableTierClient, type TierClientOptions } from '../../../router/upstream/tier-client.js';
import { UpstreamError, type UpstreamHooks } from '../../../router/upstream/types.js';
import { answerOk, answerStatus, hang, refusedUrl, retryOf, sleep, startFakeReplica, tierOf, type FakeReplica, type Handler } from './fake-replica.js';

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

function client(endpoints: string[], attempts = 2, options: TierClientOptions = {}, requestSeconds = 2): InspectableTierClient {
  const c = createTierClient(tierOf(endpoints, requestSeconds), retryOf(attempts), { healthCheck: false, ...options });
  opened.clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UpstreamError, `expected UpstreamError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

const body = { model: 'm', prompt: 'hi', max_tokens: 5 };
const answer = { purpose: 'answer' } as const;

test('posts JSON and returns the parsed answer with timing and GPU-seconds', async () => {
  const [r] = await replicas(answerOk());
  const c = client([r!.url + '/']);
  const res = await c.postJson<{ id: string }>('/v1/completions', body, answer);
  assert.equal(res.status, 200);
  assert.equal(res.body.id, 'cmpl-1');
  assert.equal(res.replica, r!.url);
  assert.equal(res.attempts, 1);
  assert.ok(res.seconds > 0 && res.gpuSeconds > 0);
  assert.deepEqual(r!.bodies, [body]);
  assert.equal(c.inFlight(), 0);
});

test('spreads concurrent calls over the least loaded replicas', async () => {
  // Each replica holds its answers until all 30 calls have arrived, so all are in flight at once.
  const held: (() => void)[] = [];
  const holdAll: Handler = (req, res, raw) => {
    held.push(() => answerOk()(req, res, raw));
    if (held.length === 30) for (const release of held) release();
  };
  const rs = await replicas(holdAll, holdAll, holdAll);
  const c = client(rs.map((r) => r.url), 2, {}, 10);
  await Promise.all(Array.from({ length: 30 }, () => c.postJson('/v1/completions', body, answer)));
  assert.deepEqual(rs.map((r) => r.posts), [10, 10, 10]);
  assert.deepEqual(rs.map((r) => r.maxActive), [10, 10, 10]);
});

test('sends new calls away from a replica that is busy', async () => {
  const [slow, fast] = await replicas(hang, answerOk());
  const c = client([slow!.url, fast!.url], 1, {}, 2);
  const controller = new AbortController();
  const stuck = c.postJson('/v1/completions', body, { purpose: 'answer', signal: controller.signal }).catch((e) => e);
  for (let k = 0; k < 4; k++) assert.equal((await c.postJson('/v1/completions', body, answer)).replica, fast!.url);
  assert.equal(slow!.posts, 1);
  controller.abort();
  await stuck;
});

test('connection refused on one replica is retried on another, which then takes the traffic', async () => {
  const dead = await refusedUrl();
  const [live] = await replicas(answerOk());
  const outcomes: string[] = [];
  const hooks: UpstreamHooks = { onAttempt: (e) => outcomes.push(`${e.replica === dead ? 'dead' : 'live'}:${e.outcome}`) };
  const c = client([dead, live!.url], 2, { hooks, ejection: { baseSeconds: 60, maxSeconds: 60 } });
  const first = await c.postJson('/v1/completions', body, answer);
  assert.equal(first.attempts, 2);
  assert.equal(first.replica, live!.url);
  for (let k = 0; k < 3; k++) assert.equal((await c.postJson('/v1/completions', body, answer)).attempts, 1);
  assert.deepEqual(outcomes, ['dead:connect', 'live:ok', 'live:ok', 'live:ok', 'live:ok']);
  assert.equal(c.readyReplicas(), 1);
});

test('a 5xx is retried on another replica', async () => {
  const [bad, good] = await replicas(answerStatus(503), answerOk());
  const c = client([bad!.url, good!.url]);
  const res = await c.postJson('/v1/chat/completions', body, answer);
  assert.equal(res.attempts, 2);
  assert.equal(res.replica, good!.url);
  assert.equal(bad!.posts, 1);
});

test('a single replica is retried after a 5xx', async () => {
  let calls = 0;
  const [only] = await replicas((req, res, raw) => (++calls === 1 ? answerStatus(500)(req, res, raw) : answerOk()(req, res, raw)));
  const res = await client([only!.url]).postJson('/v1/completions', body, answer);
  assert.equal(res.attempts, 2);
  assert.equal(only!.posts, 2);
});

test('a 2xx answer that is not JSON counts as a replica fault', async () => {
  const [garbled, good] = await replicas((_q, res) => res.writeHead(200).end('<html>'), answerOk());
  const res = await client([garbled!.url, good!.url]).postJson('/v1/completions', body, answer);
  assert.equal(res.replica, good!.url);
});

test('a timeout is retried, then reported as timeout', async () => {
  const [a, b] = await replicas(hang, hang);
  const c = client([a!.url, b!.url], 2, {}, 0.15);
  const started = Date.now();
  const err = await rejection(c.postJson('/v1/completions', body, answer));
  assert.equal(err.kind, 'timeout');
  assert.equal(err.attempts, 2);
  assert.equal(err.canFallBack, true);
  assert.ok(Date.now() - started >= 280);
  assert.deepEqual([a!.posts, b!.posts], [1, 1]);
  assert.ok(err.gpuSeconds > 0.25, 'failed attempts are metered too');
});

test('a timeout on one replica falls through to a good one', async () => {
  const [slow, good] = await replicas(hang, answerOk());
  const res = await client([slow!.url, good!.url], 2, {}, 0.15).postJson('/v1/completions', body, answer);
  assert.equal(res.replica, good!.url);
  assert.equal(res.attempts, 2);
});

test('when every replica fails the error carries the attempts and can fall back', async () => {
  const rs = await replicas(answerStatus(500), answerStatus(502), answerStatus(500));
  const err = await rejection(client(rs.map((r) => r.url), 3).postJson('/v1/completions', body, answer));
  assert.equal(err.kind, 'status_5xx');
  assert.equal(err.attempts, 3);
  assert.equal(err.canFallBack, true);
  assert.equal(err.tier, 'small');
  assert.deepEqual(rs.map((r) => r.posts), [1, 1, 1]);
  assert.match(err.message, /3 attempts failed/);
});

test('a 4xx is not retried and keeps the replica error body', async () => {
  const vllmError = { object: 'error', message: 'max_tokens is too large', type: 'BadRequestError', code: 400 };
  const [bad, other] = await replicas(answerStatus(400, vllmError), answerOk());
  const c = client([bad!.url, other!.url], 3);
  const err = await rejection(c.postJson('/v1/completions', body, answer));
  assert.equal(err.kind, 'status_4xx');
  assert.equal(err.status, 400);
  assert.deepEqual(err.body, vllmError);
  assert.equal(err.attempts, 1);
  assert.equal(err.canFallBack, false);
  assert.equal(other!.posts, 0);
  assert.equal(c.readyReplicas(), 2, 'a 4xx does not eject');
});

test('aborting via the signal stops the call and closes the upstream request', async () => {
  const [r] = await replicas(hang);
  const c = client([r!.url], 3, {}, 5);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  const err = await rejection(c.postJson('/v1/completions', body, { purpose: 'verify', signal: controller.signal }));
  assert.equal(err.kind, 'aborted');
  assert.equal(err.attempts, 1);
  assert.equal(err.canFallBack, false);
  assert.equal(c.readyReplicas(), 1, 'an abort does not eject');
  for (let k = 0; k < 50 && r!.active > 0; k++) await sleep(10);
  assert.equal(r!.active, 0, 'the replica saw the connection close');
});

test('an already aborted signal sends nothing', async () => {
  const [r] = await replicas(answerOk());
  const err = await rejection(client([r!.url]).postJson('/v1/completions', body, { purpose: 'answer', signal: AbortSignal.abort() }));
  assert.equal(err.kind, 'aborted');
  assert.equal(err.attempts, 0);
  assert.equal(r!.posts, 0);
});

test('a tier without endpoints fails with no_replica', async () => {
  const err = await rejection(client([]).postJson('/v1/completions', body, answer));
  assert.equal(err.kind, 'no_replica');
  assert.equal(err.canFallBack, true);
});

test('a body that cannot be serialized is rejected as a 400 without contacting a replica', async () => {
  const [r] = await replicas(answerOk());
  const deep = JSON.parse(`{"x":${'['.repeat(20000)}${']'.repeat(20000)}}`) as Record<string, unknown>;
  const c = client([r!.url]);
  for (const call of [() => c.postJson('/v1/completions', deep, answer), () => c.postStream('/v1/completions', deep, answer)]) {
    const err = await rejection(call());
    assert.equal(err.kind, 'status_4xx');
    assert.equal(err.status, 400);
    assert.equal(err.attempts, 0);
    assert.equal((err.body as { type: string }).type, 'BadRequestError');
  }
  assert.equal(r!.posts, 0);
});

test('postJson refuses stream: true', async () => {
  await assert.rejects(client(['http://127.0.0.1:9']).postJson('/v1/completions', { ...body, stream: true }, answer), TypeError);
});

test('reports in-flight changes and every attempt', async () => {
  const [a, b] = await replicas(answerOk(20), answerOk(20));
  const inFlight: number[] = [];
  const attempts: string[] = [];
  const hooks: UpstreamHooks = {
    onInFlight: (tier, n) => inFlight.push(n),
    onAttempt: (e) => attempts.push(`${e.tier}/${e.purpose}/${e.outcome}/${e.seconds > 0}`),
  };
  const c = client([a!.url, b!.url], 2, { hooks });
  await Promise.all([c.postJson('/v1/completions', body, answer), c.postJson('/v1/completions', body, { purpose: 'verify' })]);
  assert.deepEqual(inFlight.slice(0, 2), [1, 2]);
  assert.equal(inFlight.at(-1), 0);
  assert.deepEqual(attempts.sort(), ['small/answer/ok/true', 'small/verify/ok/true']);
});

test('GPU-seconds of concurrent calls on one replica share its GPUs', async () => {
  const [r] = await replicas(answerOk(100));
  const c = createTierClient(tierOf([r!.url], 5, 2), retryOf(1), { healthCheck: false });
  opened.clients.push(c);
  const [x, y] = await Promise.all([0, 1].map(() => c.postJson('/v1/completions', body, answer)));
  const total = x!.gpuSeconds + y!.gpuSeconds;
  // Shares add up to 2 GPUs x busy time, which lies between the longer call and both calls end to end.
  assert.ok(total >= 2 * Math.max(x!.seconds, y!.seconds) - 1e-9 && total <= 2 * (x!.seconds + y!.seconds) + 1e-9);
  // Overlapping calls each pay less than the whole replica for their own time.
  assert.ok(x!.gpuSeconds < 2 * x!.seconds && y!.gpuSeconds < 2 * y!.seconds);
  assert.ok(Math.abs(total - c.replicaStatus()[0]!.gpuSeconds) < 1e-9);
});

test('accepts a pino logger and never logs bodies', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
  const dead = await refusedUrl();
  const [live] = await replicas(answerOk());
  await client([dead, live!.url], 2, { logger }).postJson('/v1/completions', { ...body, prompt: 'SECRET' }, answer);
  assert.ok(lines.some((l) => l.includes('replica ejected')));
  assert.ok(!lines.some((l) => l.includes('SECRET')));
});

test('a keep-alive connection the replica closes as the call is written is retried without ejecting the replica', async () => {
  // Serves one request per connection, then drops the connection when the next request arrives on it.
  const servedOn = new WeakMap<object, number>();
  const [r] = await replicas((req, res, raw) => {
    const served = (servedOn.get(req.socket) ?? 0) + 1;
    servedOn.set(req.socket, served);
    if (served > 1) return void req.socket.destroy();
    answerOk()(req, res, raw);
  });
  const outcomes: string[] = [];
  const c = client([r!.url], 2, { hooks: { onAttempt: (e) => outcomes.push(e.outcome) } });
  assert.equal((await c.postJson('/v1/completions', body, answer)).attempts, 1);
  // undici hands a keep-alive connection back to its pool one event-loop turn after the response.
  await new Promise((resolve) => setImmediate(resolve));
  const second = await c.postJson('/v1/completions', body, answer);
  assert.equal(second.attempts, 2, 'the stale connection failed, a new one served');
  assert.deepEqual(outcomes, ['ok', 'connect', 'ok']);
  assert.equal(c.readyReplicas(), 1, 'not ejected');
});
