import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import { createExpressServer } from '../../../router/server/express-http-server.js';

test('requests and responses are constructed with the app prototypes before express sees them, and still work as express ones', async () => {
  const app = express();
  app.use(express.json());
  app.post('/echo', (req, res) => {
    // express's own helpers (req.get, res.status().json) come from those prototypes.
    res.status(201).json({ got: req.body, header: req.get('x-probe') });
  });
  const server = createExpressServer(app);
  const seen: boolean[] = [];
  // Runs before the app's listener, so it sees the objects as node:http built them.
  server.prependListener('request', (req, res) => {
    seen.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-probe': `p${i}` }, body: JSON.stringify({ i }) });
      assert.equal(r.status, 201);
      assert.deepEqual(await r.json(), { got: { i }, header: `p${i}` });
    }
    const missing = await fetch(`${url}/nowhere`);
    assert.equal(missing.status, 404);
    assert.deepEqual(seen, [true, true, true, true]);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
