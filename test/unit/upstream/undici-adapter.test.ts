// The axios adapter on undici, through axios's public API, against a local node:http server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { createKeepAliveAgents, type KeepAliveAgents } from '../../../router/upstream/agents.js';
import { createUndiciAdapter, type UndiciAdapterOptions } from '../../../router/upstream/undici-adapter.js';
import { sleep, waitFor } from './fake-replica.js';

let server: http.Server;
let base = '';
let open = 0;
const received: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
const agentsMade: KeepAliveAgents[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    open++;
    res.once('close', () => open--);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = (req.url ?? '').split('?')[0];
      switch (path) {
        case '/json':
          res.writeHead(200, { 'content-type': 'application/json', 'x-replica': 'a' }).end(JSON.stringify({ ok: true, echo: body }));
          return;
        case '/bom':
          res.writeHead(200, { 'content-type': 'application/json' }).end('\ufeff{"bom":true}');
          return;
        case '/text':
          res.writeHead(200, { 'content-type': 'text/plain' }).end('not json');
          return;
        case '/status/503':
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"object":"error","message":"overloaded"}');
          return;
        case '/big':
          res.writeHead(200).end('x'.repeat(200_000));
          return;
        case '/gzip':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(zlib.gzipSync('{"gz":1}'));
          return;
        case '/gzip-stream':
          res.writeHead(200, { 'content-encoding': 'gzip' }).end(zlib.gzipSync('data: zipped\n\n'));
          return;
        case '/hang':
          return; // never answers
        case '/slow-body':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"a":');
          setTimeout(() => res.end('1}'), 1500);
          return;
        case '/sse': {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          let i = 0;
          const tick = (): void => {
            if (res.destroyed) return;
            if (i === 5) return void res.end('data: [DONE]\n\n');
            res.write(`data: ${i++}\n\n`);
            setTimeout(tick, 10);
          };
          tick();
          return;
        }
        case '/sse-stall':
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: 0\n\n');
          return; // then silence
        case '/many': {
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
          return;
        }
        default:
          res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const a of agentsMade) a.destroyIdleSockets();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(options: Partial<UndiciAdapterOptions> = {}, config: Parameters<typeof axios.create>[0] = {}): AxiosInstance {
  const agents = createKeepAliveAgents({ connectTimeoutMs: 1000, maxSocketsPerReplica: 8 });
  agentsMade.push(agents);
  return axios.create({ adapter: createUndiciAdapter({ dispatcher: () => agents.dispatcher, ...options }), ...config });
}

async function axiosError(p: Promise<unknown>): Promise<AxiosError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AxiosError, `expected AxiosError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

test('POSTs the body with the configured headers and parses the JSON answer', async () => {
  const ax = client({}, { headers: { 'Content-Type': 'application/json', 'X-Test': 'yes' }, transformRequest: [(d: unknown) => d] });
  const res = await ax.post(`${base}/json`, '{"q":1}');
  assert.equal(res.status, 200);
  assert.deepEqual(res.data, { ok: true, echo: '{"q":1}' });
  assert.equal(res.headers['x-replica'], 'a');
  assert.equal(res.headers['content-type'], 'application/json');
  const seen = received.at(-1)!;
  assert.equal(seen.method, 'POST');
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.equal(seen.headers['x-test'], 'yes');
  assert.equal(seen.headers['content-length'], '7');
  assert.equal(seen.headers['accept-encoding'], undefined, 'no compression is asked for');
});

test('GET with baseURL, text and arraybuffer response types, BOM stripped', async () => {
  const ax = client({}, { baseURL: base + '/' });
  assert.equal((await ax.get('/text', { responseType: 'text' })).data, 'not json');
  assert.equal((await ax.get('text')).data, 'not json', 'a body that is not JSON stays a string');
  const bytes = (await ax.get('/json', { responseType: 'arraybuffer' })).data as Buffer;
  assert.ok(Buffer.isBuffer(bytes));
  assert.equal(JSON.parse(bytes.toString()).ok, true);
  assert.deepEqual((await ax.get('/bom')).data, { bom: true });
});

test('validateStatus: statuses are returned, or rejected as axios does', async () => {
  const lenient = client({}, { validateStatus: () => true });
  const res = await lenient.get(`${base}/status/503`);
  assert.equal(res.status, 503);
  assert.equal((res.data as { message: string }).message, 'overloaded');
  const err = await axiosError(client().get(`${base}/status/503`));
  assert.equal(err.code, AxiosError.ERR_BAD_RESPONSE);
  assert.equal(err.response?.status, 503);
  assert.equal((err.response?.data as { message: string }).message, 'overloaded');
  const notFound = await axiosError(client().get(`${base}/nothing`));
  assert.equal(notFound.code, AxiosError.ERR_BAD_REQUEST);
});

test('maxContentLength fails the call', async () => {
  const err = await axiosError(client({}, { maxContentLength: 1000 }).get(`${base}/big`));
  assert.equal(err.code, AxiosError.ERR_BAD_RESPONSE);
  assert.match(err.message, /maxContentLength/);
});

test('gzip bodies are decoded, buffered or streamed', async () => {
  assert.deepEqual((await client().get(`${base}/gzip`)).data, { gz: 1 });
  const res = await client().get(`${base}/gzip-stream`, { responseType: 'stream' });
  let text = '';
  for await (const c of res.data as Readable) text += String(c);
  assert.equal(text, 'data: zipped\n\n');
});

test('time to headers: ETIMEDOUT with clarifyTimeoutError, ECONNABORTED without', async () => {
  const started = Date.now();
  const err = await axiosError(client({}, { timeout: 100, transitional: { clarifyTimeoutError: true } }).get(`${base}/hang`));
  assert.equal(err.code, 'ETIMEDOUT');
  assert.match(err.message, /timeout of 100ms exceeded/);
  assert.ok(Date.now() - started >= 95);
  const plain = await axiosError(client({}, { timeout: 100 }).get(`${base}/hang`));
  assert.equal(plain.code, 'ECONNABORTED');
});

// undici runs header and body timers on a coarse timer wheel: they fire up to about a second late.
test('a silence in the body longer than the timeout fails too; a shorter one does not', async () => {
  const err = await axiosError(client({}, { timeout: 100, transitional: { clarifyTimeoutError: true } }).get(`${base}/slow-body`));
  assert.equal(err.code, 'ETIMEDOUT');
  assert.deepEqual((await client({}, { timeout: 4000 }).get(`${base}/slow-body`)).data, { a: 1 });
});

test('abort: an aborted signal sends nothing; aborting in flight rejects at once and closes the request', async () => {
  const before = received.length;
  const pre = await axiosError(client().get(`${base}/json`, { signal: AbortSignal.abort() }));
  assert.equal(pre.code, 'ERR_CANCELED');
  assert.equal(received.length, before);

  const controller = new AbortController();
  const call = client().get(`${base}/hang`, { signal: controller.signal });
  await waitFor(() => open > 0);
  const started = Date.now();
  controller.abort();
  const err = await axiosError(call);
  assert.equal(err.code, 'ERR_CANCELED');
  assert.ok(axios.isCancel(err));
  assert.ok(Date.now() - started < 100);
  await waitFor(() => open === 0);
});

test('connection refused surfaces with its code', async () => {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const err = await axiosError(client().get(`http://127.0.0.1:${port}/`));
  assert.equal(err.code, 'ECONNREFUSED');
});

test('options it cannot honour are refused, not ignored', async () => {
  for (const config of [{ params: { a: 1 } }, { maxRedirects: 5 }, { auth: { username: 'u', password: 'p' } }, { proxy: { host: 'p', port: 1 } }]) {
    const err = await axiosError(client().get(`${base}/json`, config));
    assert.equal(err.code, AxiosError.ERR_BAD_OPTION, JSON.stringify(config));
  }
  const stream = await axiosError(client().post(`${base}/json`, Readable.from(['x']), { transformRequest: [(d: unknown) => d] }));
  assert.equal(stream.code, AxiosError.ERR_BAD_OPTION);
});

test('responseType stream: a Node Readable with the chunks as they arrive, resolved at the headers', async () => {
  const res = await client({}, { timeout: 1000 }).get(`${base}/sse`, { responseType: 'stream' });
  assert.ok(res.data instanceof Readable);
  assert.equal(res.headers['content-type'], 'text/event-stream');
  const chunks: string[] = [];
  for await (const c of res.data as Readable) chunks.push(String(c));
  assert.equal(chunks.join(''), 'data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\ndata: [DONE]\n\n');
  assert.ok(chunks.length >= 3, 'not buffered');
});

test('stream: the idle limit between chunks fails the stream with the mapped error', async () => {
  const ax = client({ streamIdleTimeoutMs: 120, mapStreamError: (e) => Object.assign(new Error(`mapped ${e.code}`), { code: e.code }) }, { timeout: 5000, transitional: { clarifyTimeoutError: true } });
  const res = await ax.get(`${base}/sse-stall`, { responseType: 'stream' });
  const got: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const c of res.data as Readable) got.push(String(c));
    })(),
    /mapped ETIMEDOUT/,
  );
  assert.deepEqual(got, ['data: 0\n\n']);
  await waitFor(() => open === 0);
});

test('stream: backpressure pauses the upstream until the consumer reads', async () => {
  const res = await client({}, { timeout: 5000 }).get(`${base}/many`, { responseType: 'stream' });
  const stream = res.data as Readable;
  await sleep(100);
  // Nobody read: undici stopped at about one highWaterMark in the stream plus socket buffers.
  assert.ok(stream.readableLength <= 256 * 1024, `buffered ${stream.readableLength}`);
  let total = 0;
  for await (const c of stream) total += (c as Buffer).length;
  assert.equal(total, 64 * 65536);
});

test('stream: destroying it early aborts the request; aborting the signal ends it with ERR_CANCELED', async () => {
  const first = await client({}, { timeout: 5000 }).get(`${base}/sse`, { responseType: 'stream' });
  (first.data as Readable).destroy();
  await waitFor(() => open === 0);

  const controller = new AbortController();
  const second = await client({}, { timeout: 5000 }).get(`${base}/sse`, { responseType: 'stream', signal: controller.signal });
  const stream = second.data as Readable;
  stream.resume();
  controller.abort();
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => stream.once('error', resolve));
  assert.equal(err.code, 'ERR_CANCELED');
  await waitFor(() => open === 0);
});
