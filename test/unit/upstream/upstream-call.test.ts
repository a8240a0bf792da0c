// upstreamCall over the tier client's undici pools, against a local node:http server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { createKeepAliveAgents, type KeepAliveAgents } from '../../../router/upstream/agents.js';
import { failureFromError } from '../../../router/upstream/failures.js';
import { UpstreamCallCode, UpstreamCallError, upstreamCall, type UpstreamRequest } from '../../../router/upstream/upstream-call.js';
import { sleep, waitFor } from './fake-replica.js';

let server: http.Server;
let origin = '';
let open = 0;
const received: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
const agentsMade: KeepAliveAgents[] = [];

function sse(res: http.ServerResponse, events: number, gapMs: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let i = 0;
  const tick = (): void => {
    if (res.destroyed) return;
    if (i === events) return void res.end('data: [DONE]\n\n');
    res.write(`data: ${i++}\n\n`);
    setTimeout(tick, gapMs);
  };
  tick();
}

const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void> = {
  '/json': (_req, res, body) => res.writeHead(200, { 'content-type': 'application/json', 'x-replica': 'a' }).end(JSON.stringify({ ok: true, echo: body })),
  '/status/503': (_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"object":"error","message":"overloaded"}'),
  '/redirect': (_req, res) => res.writeHead(302, { location: '/json' }).end(),
  '/early-hints': (_req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload' });
    setTimeout(() => res.writeHead(200).end('after hints'), 20);
  },
  '/gzip': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(zlib.gzipSync('{"gz":1}')),
  '/deflate': (_req, res) => res.writeHead(200, { 'content-encoding': 'deflate' }).end(zlib.deflateSync('{"deflate":1}')),
  '/br': (_req, res) => res.writeHead(200, { 'content-encoding': 'br' }).end(zlib.brotliCompressSync('{"br":1}')),
  '/bad-gzip': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end('not gzip at all'),
  '/gzip-stream': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(zlib.gzipSync('data: zipped\n\n')),
  '/hang': () => {}, // never answers
  '/slow-body': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"a":');
    setTimeout(() => res.end('1}'), 1500);
  },
  '/sse': (_req, res) => sse(res, 5, 10),
  '/sse-slow': (_req, res) => sse(res, 50, 30),
  '/sse-stall': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: 0\n\n'); // then silence
  },
  '/many': (_req, res) => {
    // 4 MiB in 64 KiB writes, honouring backpressure.
    res.writeHead(200);
    let left = 64;
    const chunk = Buffer.alloc(65536, 97);
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  },
};

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    open++;
    res.once('close', () => open--);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const route = routes[req.url ?? ''];
      if (route) route(req, res, body);
      else res.writeHead(404).end('no such route');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const a of agentsMade) a.destroyIdleSockets();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function pools(maxSocketsPerReplica = 8): KeepAliveAgents {
  const agents = createKeepAliveAgents({ connectTimeoutMs: 1000, maxSocketsPerReplica });
  agentsMade.push(agents);
  return agents;
}

function req(path: string, more: Partial<UpstreamRequest> = {}): UpstreamRequest & { stream: false } {
  return { origin, path, method: 'GET', headersTimeoutMs: 5000, bodyTimeoutMs: 5000, ...more, stream: false };
}

function streamReq(path: string, more: Partial<UpstreamRequest> = {}): UpstreamRequest & { stream: true } {
  return { ...req(path, more), stream: true };
}

async function callError(p: Promise<unknown>): Promise<UpstreamCallError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UpstreamCallError, `expected UpstreamCallError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

async function readText(stream: Readable): Promise<string[]> {
  const chunks: string[] = [];
  for await (const c of stream) chunks.push(String(c));
  return chunks;
}

test('POSTs the body with the given headers and resolves with status, headers and the whole body', async () => {
  const res = await upstreamCall(pools().dispatcher, req('/json', { method: 'POST', headers: { 'content-type': 'application/json', 'x-test': 'yes' }, body: '{"q":1}' }));
  assert.equal(res.status, 200);
  assert.ok(Buffer.isBuffer(res.body));
  assert.deepEqual(JSON.parse(res.body.toString()), { ok: true, echo: '{"q":1}' });
  assert.equal(res.headers['x-replica'], 'a');
  const seen = received.at(-1)!;
  assert.equal(seen.method, 'POST');
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.equal(seen.headers['x-test'], 'yes');
  assert.equal(seen.headers['content-length'], '7');
  assert.equal(seen.headers['accept-encoding'], undefined, 'no compression is asked for');
});

test('every status resolves as it is: errors, redirects (not followed); 1xx responses are skipped', async () => {
  const dispatcher = pools().dispatcher;
  const unavailable = await upstreamCall(dispatcher, req('/status/503'));
  assert.equal(unavailable.status, 503);
  assert.equal(JSON.parse(unavailable.body.toString()).message, 'overloaded');
  const missing = await upstreamCall(dispatcher, req('/nothing'));
  assert.equal(missing.status, 404);
  assert.equal(missing.body.toString(), 'no such route');
  const redirect = await upstreamCall(dispatcher, req('/redirect'));
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.location, '/json');
  const hinted = await upstreamCall(dispatcher, req('/early-hints'));
  assert.equal(hinted.status, 200);
  assert.equal(hinted.body.toString(), 'after hints');
  assert.equal(hinted.headers.link, undefined, 'the 103 headers are not the response headers');
});

test('gzip, deflate and br bodies are decoded, buffered or streamed; a broken one fails with its code', async () => {
  const dispatcher = pools().dispatcher;
  for (const [path, expected] of [['/gzip', { gz: 1 }], ['/deflate', { deflate: 1 }], ['/br', { br: 1 }]] as const) {
    const res = await upstreamCall(dispatcher, req(path));
    assert.deepEqual(JSON.parse(res.body.toString()), expected, path);
    assert.equal(res.headers['content-encoding'], undefined, 'the decoded body is no longer encoded');
  }
  const streamed = await upstreamCall(dispatcher, streamReq('/gzip-stream'));
  assert.equal((await readText(streamed.body)).join(''), 'data: zipped\n\n');
  const broken = await callError(upstreamCall(dispatcher, req('/bad-gzip')));
  assert.equal(broken.code, UpstreamCallCode.BadEncoding);
  assert.match(broken.message, /cannot decode the gzip body/);
});

test('no headers within headersTimeoutMs: UPSTREAM_HEADERS_TIMEOUT, classified as timeout, connection closed', async () => {
  const started = Date.now();
  const err = await callError(upstreamCall(pools().dispatcher, req('/hang', { headersTimeoutMs: 100 })));
  assert.equal(err.code, UpstreamCallCode.HeadersTimeout);
  assert.match(err.message, /no response headers within 100 ms/);
  assert.ok(Date.now() - started >= 95);
  assert.equal(failureFromError(err, false, 0.1).kind, 'timeout');
  await waitFor(() => open === 0);
});

// undici runs header and body timers on a coarse timer wheel: they fire up to about a second late.
test('a silence in the body longer than bodyTimeoutMs fails; a shorter one does not', async () => {
  const dispatcher = pools().dispatcher;
  const err = await callError(upstreamCall(dispatcher, req('/slow-body', { bodyTimeoutMs: 100 })));
  assert.equal(err.code, UpstreamCallCode.BodyTimeout);
  assert.equal(failureFromError(err, false, 0.1).kind, 'timeout');
  const res = await upstreamCall(dispatcher, req('/slow-body', { bodyTimeoutMs: 4000 }));
  assert.deepEqual(JSON.parse(res.body.toString()), { a: 1 });
});

test('abort: an aborted signal sends nothing; aborting in flight rejects at once and closes the request', async () => {
  const before = received.length;
  const pre = await callError(upstreamCall(pools().dispatcher, req('/json', { signal: AbortSignal.abort() })));
  assert.equal(pre.code, UpstreamCallCode.Aborted);
  assert.equal(received.length, before);

  const controller = new AbortController();
  const call = upstreamCall(pools().dispatcher, req('/hang', { signal: controller.signal }));
  await waitFor(() => open > 0);
  const started = Date.now();
  controller.abort();
  const err = await callError(call);
  assert.equal(err.code, UpstreamCallCode.Aborted);
  assert.ok(Date.now() - started < 100);
  await waitFor(() => open === 0);
});

test('abort while queued for a connection: rejects at once, and the request is never sent', async () => {
  const dispatcher = pools(1).dispatcher;
  const first = new AbortController();
  const busy = upstreamCall(dispatcher, req('/hang', { signal: first.signal })).catch((e: unknown) => e);
  await waitFor(() => open === 1);
  const second = new AbortController();
  const queued = upstreamCall(dispatcher, req('/json', { method: 'POST', body: 'queued', signal: second.signal }));
  await sleep(20);
  second.abort();
  assert.equal((await callError(queued)).code, UpstreamCallCode.Aborted);
  // Freeing the only connection lets undici start the queued request, which is aborted right away.
  first.abort();
  assert.equal(((await busy) as UpstreamCallError).code, UpstreamCallCode.Aborted);
  await sleep(50);
  assert.ok(!received.some((r) => r.body === 'queued'), 'the aborted request never reached the server');
  assert.equal((await upstreamCall(dispatcher, req('/json'))).status, 200, 'the pool still serves');
});

test('connection refused surfaces with its code, as a connect failure that ejects', async () => {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const err = await callError(upstreamCall(pools().dispatcher, { ...req('/'), origin: `http://127.0.0.1:${port}` }));
  assert.equal(err.code, 'ECONNREFUSED');
  assert.equal(err.reusedSocket, false);
  assert.deepEqual(failureFromError(err, false, 1), { kind: 'connect', detail: err.message, eject: true });
});

test('a server closing a reused keep-alive connection: reusedSocket, retried without ejecting; a fresh one is not', async () => {
  // Answers the first request of each connection, then drops the connection when the next one arrives.
  const closer = http.createServer((request, res) => {
    const socket = request.socket as typeof request.socket & { served?: number };
    socket.served = (socket.served ?? 0) + 1;
    if (socket.served > 1 || request.url === '/drop') return void socket.destroy();
    res.end('first');
  });
  await new Promise<void>((resolve) => closer.listen(0, '127.0.0.1', resolve));
  const closerOrigin = `http://127.0.0.1:${(closer.address() as AddressInfo).port}`;
  const dispatcher = pools(1).dispatcher;
  try {
    const post = (path: string): UpstreamRequest & { stream: false } => ({ ...req(path, { method: 'POST', body: '{}' }), origin: closerOrigin });
    assert.equal((await upstreamCall(dispatcher, post('/'))).body.toString(), 'first');
    // undici hands a keep-alive connection back to its pool one event-loop turn after the response.
    await new Promise((r) => setImmediate(r));
    const stale = await callError(upstreamCall(dispatcher, post('/')));
    assert.equal(stale.code, 'UND_ERR_SOCKET');
    assert.equal(stale.reusedSocket, true);
    assert.equal(failureFromError(stale, false, 1).eject, false, 'stale keep-alive: retried, not ejected');

    const fresh = await callError(upstreamCall(dispatcher, post('/drop')));
    assert.equal(fresh.code, 'UND_ERR_SOCKET');
    assert.equal(fresh.reusedSocket, false);
    assert.equal(failureFromError(fresh, false, 1).eject, true);
  } finally {
    closer.closeAllConnections();
    await new Promise<void>((resolve) => closer.close(() => resolve()));
  }
});

test('stream: a Node Readable with the chunks as they arrive, resolved at the headers; error statuses too', async () => {
  const dispatcher = pools().dispatcher;
  const res = await upstreamCall(dispatcher, streamReq('/sse'));
  assert.ok(res.body instanceof Readable);
  assert.equal(res.headers['content-type'], 'text/event-stream');
  const chunks = await readText(res.body);
  assert.equal(chunks.join(''), 'data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\ndata: [DONE]\n\n');
  assert.ok(chunks.length >= 3, 'not buffered');
  const failed = await upstreamCall(dispatcher, streamReq('/status/503'));
  assert.equal(failed.status, 503);
  assert.match((await readText(failed.body)).join(''), /overloaded/);
});

test('stream: the idle limit between chunks fails the stream, with the mapped error when there is a mapping', async () => {
  const mapped = await upstreamCall(
    pools().dispatcher,
    streamReq('/sse-stall', { bodyTimeoutMs: 120, mapStreamError: (e) => Object.assign(new Error(`mapped ${e.code}`), { code: 'MAPPED' }) }),
  );
  const got: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const c of mapped.body) got.push(String(c));
    })(),
    /mapped UPSTREAM_BODY_TIMEOUT/,
  );
  assert.deepEqual(got, ['data: 0\n\n']);
  const plain = await upstreamCall(pools().dispatcher, streamReq('/sse-stall', { bodyTimeoutMs: 120 }));
  await assert.rejects(readText(plain.body), (e: UpstreamCallError) => e.code === UpstreamCallCode.BodyTimeout);
  await waitFor(() => open === 0);
});

test('stream: backpressure pauses the upstream until the consumer reads', async () => {
  const res = await upstreamCall(pools().dispatcher, streamReq('/many'));
  await sleep(100);
  // Nobody read: undici stopped at about one highWaterMark in the stream plus socket buffers.
  assert.ok(res.body.readableLength <= 256 * 1024, `buffered ${res.body.readableLength}`);
  let total = 0;
  for await (const c of res.body) total += (c as Buffer).length;
  assert.equal(total, 64 * 65536);
});

test('stream: destroying it early aborts the request; aborting the signal ends it with UPSTREAM_ABORTED', async () => {
  const first = await upstreamCall(pools().dispatcher, streamReq('/sse-slow'));
  first.body.once('data', () => first.body.destroy());
  await waitFor(() => open === 0);

  const controller = new AbortController();
  const second = await upstreamCall(pools().dispatcher, streamReq('/sse-slow', { signal: controller.signal }));
  second.body.resume();
  await sleep(40);
  controller.abort();
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => second.body.once('error', resolve));
  assert.equal(err.code, UpstreamCallCode.Aborted);
  await waitFor(() => open === 0);
});
