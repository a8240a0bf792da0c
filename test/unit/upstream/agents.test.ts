import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONNECT_TIMEOUT_CODE, createKeepAliveAgents } from '../../../router/upstream/agents.js';
import { failureFromError } from '../../../router/upstream/failures.js';
import { waitFor } from './fake-replica.js';

test('a connection that does not come up in time fails with the connect-timeout code, classified as connect', async () => {
  // A name lookup that never answers keeps the connection in its connect phase.
  const agents = createKeepAliveAgents({ connectTimeoutMs: 80, maxSocketsPerReplica: 4, lookup: () => {} });
  const started = Date.now();
  // The connect timer is unref'd and the lookup holds no handle: keep the test's event loop alive.
  const holdLoop = setTimeout(() => {}, 5000);
  const err = await agents.dispatcher.request({ origin: 'http://replica.invalid', path: '/', method: 'GET' }).then(
    () => assert.fail('expected a connect error'),
    (e: NodeJS.ErrnoException) => e,
  );
  clearTimeout(holdLoop);
  assert.equal(err.code, CONNECT_TIMEOUT_CODE);
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  assert.equal(failureFromError(err, false, 1).kind, 'connect');
  agents.destroyIdleSockets();
});

test('keeps connections alive, destroys idle ones on request, and serves new calls afterwards', async () => {
  let connections = 0;
  let closed = 0;
  const server = http.createServer((_req, res) => res.end('ok'));
  server.on('connection', (socket) => {
    connections++;
    socket.on('close', () => closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agents = createKeepAliveAgents({ connectTimeoutMs: 500, maxSocketsPerReplica: 4 });
  const get = async (): Promise<string> => {
    const res = await agents.dispatcher.request({ origin, path: '/health', method: 'GET' });
    return res.body.text();
  };
  try {
    assert.equal(await get(), 'ok');
    // undici hands a keep-alive connection back to its pool one event-loop turn after the response.
    await new Promise((r) => setImmediate(r));
    assert.equal(await get(), 'ok');
    assert.equal(connections, 1, 'the second call reuses the pooled connection');
    assert.equal(agents.openConnections(), 1);
    agents.destroyIdleSockets();
    await waitFor(() => closed === 1 && agents.openConnections() === 0, 1000);
    assert.equal(await get(), 'ok', 'usable after destroying idle connections');
    assert.equal(connections, 2);
  } finally {
    agents.destroyIdleSockets();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
