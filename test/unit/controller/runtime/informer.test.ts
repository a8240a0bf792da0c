// The informer wrapper restarts client-node's ListWatch after a watch failure (ListWatch itself gives up), resumes
// from the last resourceVersion, and reports synced only after a successful list. Against a small local HTTP server
// that plays the API server's list and watch endpoints.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../../../../controller/runtime/kubernetes/clock.js';
import { Informer } from '../../../../controller/runtime/kubernetes/informer.js';
import { RESOURCES, type WireObject } from '../../../../controller/runtime/kubernetes/resources.js';
import { KubeRest } from '../../../../controller/runtime/kubernetes/rest.js';
import { waitFor } from '../../../k8s/wait.js';

const pod = (name: string, rv: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', resourceVersion: rv } });

describe('Informer', () => {
  const requests: string[] = [];
  let watches = 0;
  let listFails = 1;
  const open: ServerResponse[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('watch') !== 'true') {
      if (listFails-- > 0) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'etcd is down' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '10' }, items: [pod('a', '5')] }));
      return;
    }
    watches++;
    if (watches === 1) {
      res.writeHead(500);
      res.end('boom');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ADDED', object: pod('b', '11') })}\n`);
    open.push(res);
  });
  let kc: KubeConfig;

  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });
  after(async () => {
    for (const r of open) r.end();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('retries a failed list, restarts a failed watch from the last resourceVersion, and caches both', async () => {
    const errors: unknown[] = [];
    const added: string[] = [];
    const rest = new KubeRest(kc);
    const inf = new Informer<WireObject>(kc, rest, { rt: RESOURCES.pods, labelSelector: 'tiermix.dev/cascade' }, systemClock, {
      onAdd: (o) => added.push(o.metadata?.name ?? ''),
      onError: (e) => errors.push(e),
    });
    try {
      await inf.start();
      assert.equal(inf.hasSynced(), false, 'the first list failed');
      await waitFor('pod b from the restarted watch', () => inf.get('ns', 'b'), { timeoutMs: 10_000 });
      assert.equal(inf.hasSynced(), true);
      assert.deepEqual(added, ['a', 'b']);
      assert.equal(inf.get('ns', 'a')?.kind, 'Pod', 'list items get apiVersion and kind');
      assert.equal(errors.length, 2, 'one list failure, one watch failure');
      const watchUrls = requests.filter((u) => u.includes('watch=true'));
      assert.equal(watchUrls.length, 2);
      for (const u of watchUrls) {
        assert.match(u, /resourceVersion=10/, 'resumes from the list\'s resourceVersion');
        assert.match(u, /labelSelector=tiermix\.dev%2Fcascade/);
      }
    } finally {
      await inf.stop();
      rest.close();
    }
  });
});
