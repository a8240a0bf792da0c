import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { CONNECT_TIMEOUT_CODE, createKeepAliveAgents } from '../../../router/upstream/agents.js';
import { failureFromError } from '../../../router/upstream/failures.js';
import { startFakeReplica, waitFor } from './fake-replica.js';

test('a connection that does not come up in time fails with the connect-timeout code, classified as connect', async () => {
  const agents = createKeepAliveAgents({ connectTimeoutMs: 80, maxSocketsPerReplica: 4 });
  const started = Date.now();
  // The connect timer is unref'd and the lookup holds no handle: keep the test's event loop alive.
  const holdLoop = setTimeout(() => {}, 5000);
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
    // A name lookup that never answers keeps the socket in its connect phase.
    const req = http.get({ agent: agents.http, host: 'replica.invalid', port: 80, lookup: () => {} });
    req.on('error', resolve);
  });
  clearTimeout(holdLoop);
  assert.equal(err.code, CONNECT_TIMEOUT_CODE);
  assert.ok(Date.now() - started < 1000);
  assert.equal(failureFromError(err, false, 1).kind, 'connect');
});

test('keeps connections alive and destroys idle ones on request', async () => {
  const replica = await startFakeReplica();
  const agents = createKeepAliveAgents({ connectTimeoutMs: 500, maxSocketsPerReplica: 4 });
  const get = (): Promise<boolean> =>
    new Promise((resolve, reject) => {
      const req = http.get(replica.url + '/health', { agent: agents.http }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.reusedSocket));
      });
      req.on('error', reject);
    });
  try {
    assert.equal(await get(), false);
    await new Promise((r) => setImmediate(r));
    assert.equal(await get(), true, 'second request reuses the pooled socket');
    await new Promise((r) => setImmediate(r));
    const free = (): number => Object.values(agents.http.freeSockets).reduce((n, s) => n + (s?.length ?? 0), 0);
    assert.equal(free(), 1);
    agents.destroyIdleSockets();
    await waitFor(() => free() === 0, 1000);
  } finally {
    await replica.close();
  }
});
