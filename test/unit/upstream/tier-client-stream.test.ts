import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { createTierClient, type InspectableTierClient, type TierClientOptions } from '../../../router/upstream/tier-client.js';
import { UpstreamError } from '../../../router/upstream/types.js';
import { answerOk, answerStatus, hang, retryOf, sleep, startFakeReplica, tierOf, waitFor, type FakeReplica, type Handler } from './fake-replica.js';

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

const events = ['data: {"n":0}\n\n', 'data: {"n":1}\n\n', 'data: {"n":2}\n\n', 'data: {"n":3}\n\n', 'data: [DONE]\n\n'];

/** Streams the SSE events with a pause between them, then optionally stalls instead of ending. */
const sse =
  (parts: string[], gapMs = 15, stallAfter = Infinity): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (i >= stallAfter) return;
      if (i === parts.length) return void res.end();
      res.write(parts[i++]);
      setTimeout(next, gapMs);
    };
    next();
  };

async function readAll(stream: Readable): Promise<string[]> {
  const chunks: string[] = [];
  for await (const c of stream) chunks.push(String(c));
  return chunks;
}

const body = { model: 'm', prompt: 'hi', stream: true };
const answer = { purpose: 'answer' } as const;

test('passes SSE chunks through in order and finishes with time and GPU-seconds', async () => {
  const [r] = await replicas(sse(events));
  const c = client([r!.url]);
  const res = await c.postStream('/v1/completions', body, answer);
  assert.equal(res.status, 200);
  assert.equal(res.replica, r!.url);
  assert.equal(res.attempts, 1);
  assert.equal(c.inFlight(), 1, 'in flight until the body ends');
  const chunks = await readAll(res.stream);
  assert.equal(chunks.join(''), events.join(''));
  assert.ok(chunks.length >= 3, 'arrives as separate chunks, not buffered');
  const done = await res.finished;
  assert.equal(done.error, undefined);
  assert.ok(done.seconds >= 0.06);
  assert.ok(done.gpuSeconds > 0);
  assert.equal(c.inFlight(), 0);
});

test('a 5xx before the stream starts is retried on another replica', async () => {
  const [bad, good] = await replicas(answerStatus(500), sse(events, 1));
  const res = await client([bad!.url, good!.url]).postStream('/v1/chat/completions', body, answer);
  assert.equal(res.attempts, 2);
  assert.equal(res.replica, good!.url);
  assert.equal((await readAll(res.stream)).join(''), events.join(''));
  assert.equal((await res.finished).error, undefined);
});

test('a 4xx is not retried and carries the parsed error body', async () => {
  const vllmError = { object: 'error', message: 'bad prompt', code: 400 };
  const [bad, other] = await replicas(answerStatus(422, vllmError), sse(events));
  const c = client([bad!.url, other!.url]);
  const err = await c.postStream('/v1/completions', body, answer).then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e as UpstreamError,
  );
  assert.ok(err instanceof UpstreamError);
  assert.equal(err.kind, 'status_4xx');
  assert.equal(err.status, 422);
  assert.deepEqual(err.body, vllmError);
  assert.equal(other!.posts, 0);
  assert.equal(c.inFlight(), 0);
});

test('no response headers within requestSeconds: retried, then timeout', async () => {
  const [a, b] = await replicas(hang, hang);
  const c = client([a!.url, b!.url], 2, {}, 0.12);
  await assert.rejects(c.postStream('/v1/completions', body, answer), (e: UpstreamError) => e.kind === 'timeout' && e.attempts === 2);
  assert.equal(c.inFlight(), 0);
});

test('a stream that goes silent longer than the idle timeout fails with timeout', async () => {
  const [r] = await replicas(sse(events, 5, 2));
  // requestSeconds is generous; only the idle limit between chunks can fire.
  const c = client([r!.url], 1, { streamIdleSeconds: 0.15, ejection: { baseSeconds: 60, maxSeconds: 60 } }, 5);
  const res = await c.postStream('/v1/completions', body, answer);
  const received: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const chunk of res.stream) received.push(String(chunk));
    })(),
    (e: UpstreamError) => e.kind === 'timeout',
  );
  assert.equal(received.join(''), events.slice(0, 2).join(''));
  const done = await res.finished;
  assert.ok(done.error instanceof UpstreamError && done.error.kind === 'timeout');
  assert.equal(c.readyReplicas(), 0, 'a stalled replica is ejected');
  await waitFor(() => r!.active === 0);
});

test('a long stream with steady chunks outlives requestSeconds', async () => {
  const many = Array.from({ length: 15 }, (_, i) => `data: {"n":${i}}\n\n`);
  const [r] = await replicas(sse(many, 20));
  const res = await client([r!.url], 1, { streamIdleSeconds: 0.3 }, 0.1).postStream('/v1/completions', body, answer);
  assert.equal((await readAll(res.stream)).join(''), many.join(''));
  const done = await res.finished;
  assert.equal(done.error, undefined);
  assert.ok(done.seconds > 0.2);
});

test('the consumer destroying the stream ends the call as aborted without ejecting', async () => {
  const [r] = await replicas(sse(events, 30));
  const c = client([r!.url]);
  const res = await c.postStream('/v1/completions', body, answer);
  res.stream.once('data', () => res.stream.destroy());
  const done = await res.finished;
  assert.ok(done.error instanceof UpstreamError && done.error.kind === 'aborted');
  assert.equal(c.inFlight(), 0);
  assert.equal(c.readyReplicas(), 1);
  await waitFor(() => r!.active === 0);
});

test('aborting via the signal mid-stream ends the stream and the upstream request', async () => {
  const [r] = await replicas(sse(events, 30));
  const c = client([r!.url]);
  const controller = new AbortController();
  const res = await c.postStream('/v1/completions', body, { purpose: 'passthrough', signal: controller.signal });
  res.stream.resume();
  await sleep(40);
  controller.abort();
  const done = await res.finished;
  assert.ok(done.error instanceof UpstreamError && done.error.kind === 'aborted');
  await waitFor(() => r!.active === 0);
});

test('after a stream with an idle limit, a slow JSON call on the same pooled socket is not cut', async () => {
  let calls = 0;
  const [r] = await replicas((req, res, raw) => (++calls === 1 ? sse(events, 1)(req, res, raw) : answerOk(300)(req, res, raw)));
  const c = client([r!.url], 1, { streamIdleSeconds: 0.1, maxSocketsPerReplica: 1 }, 2);
  const res = await c.postStream('/v1/completions', body, answer);
  await readAll(res.stream);
  await res.finished;
  await sleep(5);
  const json = await c.postJson('/v1/completions', { model: 'm' }, answer);
  assert.equal(json.status, 200);
  assert.ok(json.seconds >= 0.29);
});
