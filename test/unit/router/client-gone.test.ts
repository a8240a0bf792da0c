// ClientGone: fires once when the response closes unfinished, never after a finished response; listeners as
// functions or handleEvent objects, removable, dropped after firing.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ClientGone } from '../../../router/server/client-gone.js';

async function serve(handler: (res: http.ServerResponse) => void): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((_req, res) => handler(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('a client that disconnects before the answer fires the signal once, for every listener still attached', async () => {
  const calls: string[] = [];
  let signal: ClientGone | undefined;
  const fired = new Promise<void>((resolve) => {
    void serve((res) => {
      signal = new ClientGone(res);
      const removed = () => calls.push('removed');
      signal.addEventListener('abort', () => calls.push('fn'));
      signal.addEventListener('abort', { handleEvent: () => { calls.push('object'); resolve(); } });
      signal.addEventListener('abort', removed);
      signal.removeEventListener('abort', removed);
    }).then(({ url, close }) => {
      const req = http.get(url);
      req.on('error', () => {});
      setTimeout(() => { req.destroy(); setTimeout(close, 50); }, 100);
    });
  });
  await fired;
  assert.equal(signal!.aborted, true);
  assert.deepEqual(calls, ['fn', 'object']);
  signal!.abort();
  signal!.addEventListener('abort', () => calls.push('late'));
  assert.deepEqual(calls, ['fn', 'object'], 'fires once; a listener added after it is never called');
});

test('a finished response never fires it', async () => {
  let signal: ClientGone | undefined;
  const { url, close } = await serve((res) => {
    signal = new ClientGone(res);
    signal.addEventListener('abort', () => assert.fail('fired for a finished response'));
    res.end('ok');
  });
  const res = await fetch(url);
  assert.equal(await res.text(), 'ok');
  await new Promise((r) => setTimeout(r, 50));
  close();
  assert.equal(signal!.aborted, false);
});
