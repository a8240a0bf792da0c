// The wrk driver: its Lua script, its summary parser, and (where wrk is installed) a real run.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { parseWrkOutput, wrkAvailable, wrkLoad, wrkScript } from './wrk.js';

test('the script cycles through the requests and prints one JSON summary line', () => {
  const script = wrkScript([
    { method: 'POST', path: '/v1/completions', headers: { 'content-type': 'application/json' }, body: '{"model":"a","prompt":"say \\"hi\\""}' },
    { method: 'POST', path: '/v1/completions', body: '{"model":"b"}' },
  ]);
  assert.match(script, /requests\[1\] = wrk\.format\("POST", "\/v1\/completions", \{\["content-type"\]="application\/json"\}, "\{\\"model\\":\\"a\\",\\"prompt\\":\\"say \\\\\\"hi\\\\\\"\\"\}"\)/);
  assert.match(script, /requests\[2\] = wrk\.format\("POST", "\/v1\/completions", \{\}, "\{\\"model\\":\\"b\\"\}"\)/);
  assert.match(script, /i = i % #requests \+ 1/);
  assert.match(script, /WRK_JSON/);
});

test('the summary line becomes a CannonSummary; a run without one is an error with the output', () => {
  const out = 'Running 1s test\nWRK_JSON {"requests":3000,"durationUs":1500000,"connect":0,"read":1,"write":0,"status":20,"timeout":2,"p50":1500,"p99":12345,"mean":1800.5,"max":40000}\n';
  const s = parseWrkOutput(out, 64);
  assert.equal(s.connections, 64);
  assert.equal(s.durationSeconds, 1.5);
  assert.equal(s.reqPerSec, 2000);
  assert.equal(s.total2xx, 2980);
  assert.equal(s.non2xx, 20);
  assert.equal(s.errors, 1);
  assert.equal(s.timeouts, 2);
  assert.deepEqual(s.latencyMs, { p50: 1.5, p99: 12.345, mean: 1.801, max: 40 });
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1', 4), /wrk printed no summary:\nunable to connect/);
});

test('a real wrk run sends every request of the cycle', { skip: wrkAvailable() ? false : 'wrk is not installed (make bench installs it)' }, async () => {
  const seen = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.set(body, (seen.get(body) ?? 0) + 1);
      res.writeHead(body.includes('"b"') ? 500 : 200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const requests = ['{"model":"a"}', '{"model":"b"}'].map((body) => ({ method: 'POST', path: '/x', headers: { 'content-type': 'application/json' }, body }));
    const s = await wrkLoad({ url, connections: 2, durationSeconds: 1, requests });
    assert.ok(s.reqPerSec > 0);
    const a = seen.get('{"model":"a"}') ?? 0;
    const b = seen.get('{"model":"b"}') ?? 0;
    assert.ok(a > 0 && b > 0, `both bodies sent (a ${a}, b ${b})`);
    // The 500s for "b" are wrk's status errors; wrk may count a request or two more than it reports as finished.
    assert.ok(Math.abs(s.non2xx - b) <= 4, `non-2xx ${s.non2xx} vs ${b} sent`);
    assert.ok(Math.abs(s.total2xx - a) <= 4, `2xx ${s.total2xx} vs ${a} sent`);
  } finally {
    server.close();
  }
});
