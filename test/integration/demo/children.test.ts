// The demo's process management on its own: a child that fails to start or to become ready gives an
// error carrying its output, and stopAll leaves nothing running.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChildProcesses, waitForOk } from '../../../router/demo/children.js';
import { isAlive } from '../../helpers/processes.js';

const SIM_URL = /listening on (http:\/\/[^"\s]+)/;

describe('demo child processes', () => {
  it('a child that exits before listening fails with its exit code and output', async () => {
    const children = new ChildProcesses();
    await assert.rejects(children.start('simulator x', ['sim'], SIM_URL, 20_000), (err: Error) => {
      assert.match(err.message, /^simulator x exited with code 2; its last output:/);
      assert.match(err.message, /required option '--model <name>'/);
      return true;
    });
    await children.stopAll();
  });

  it('a child that never becomes ready fails the wait with its output; stopAll stops it', async () => {
    const children = new ChildProcesses();
    try {
      const sim = await children.start(
        'simulator y',
        ['sim', '--model', 'Llama-2-7b-hf', '--data', 'none', '--port', '0', '--startup-seconds', '600'],
        SIM_URL,
        20_000,
      );
      assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      await assert.rejects(waitForOk(`${sim.url}/health`, sim, 500), (err: Error) => {
        assert.match(err.message, /simulator y .* not ready: .*\/health gave HTTP 503 for 0.5 s; its last output:/);
        assert.match(err.message, /SIMULATED vLLM server/);
        return true;
      });
      assert.equal(children.pids.length, 1);
      assert.ok(isAlive(sim.pid));
    } finally {
      await children.stopAll();
    }
    assert.ok(children.pids.every((p) => !isAlive(p.pid)));
  });
});
