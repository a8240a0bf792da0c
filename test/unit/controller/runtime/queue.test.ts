// The controller's work queue: dedup, no concurrent runs of one key, per-key exponential backoff on the injected clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../../controller/runtime/kubernetes/clock.js';
import { WorkQueue } from '../../../../controller/runtime/kubernetes/queue.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A handler whose runs we release by hand, to hold a key "in progress". */
function gatedHandler() {
  const runs: string[] = [];
  const gates: (() => void)[] = [];
  let active = 0;
  let maxActivePerKey = 0;
  const activeByKey = new Map<string, number>();
  const handler = async (key: string) => {
    runs.push(key);
    active++;
    activeByKey.set(key, (activeByKey.get(key) ?? 0) + 1);
    maxActivePerKey = Math.max(maxActivePerKey, activeByKey.get(key) ?? 0);
    await new Promise<void>((r) => gates.push(r));
    active--;
    activeByKey.set(key, (activeByKey.get(key) ?? 1) - 1);
  };
  return { handler, runs, release: () => gates.shift()?.(), active: () => active, maxActivePerKey: () => maxActivePerKey };
}

describe('WorkQueue', () => {
  it('runs a key added several times while queued only once', async () => {
    const runs: string[] = [];
    const q = new WorkQueue(async (k) => void runs.push(k), { clock: new ManualClock(), workers: 1 });
    q.add('b'); // starts at once and holds the only worker
    q.add('a');
    q.add('a');
    q.add('a');
    await q.idle();
    assert.deepEqual(runs, ['b', 'a']);
  });

  it('never runs one key twice at once; an add during a run makes exactly one more run after it', async () => {
    const g = gatedHandler();
    const q = new WorkQueue(g.handler, { clock: new ManualClock(), workers: 4 });
    q.add('a');
    await tick();
    q.add('a');
    q.add('a');
    q.add('b');
    await tick();
    assert.deepEqual(g.runs, ['a', 'b'], 'b runs beside a; the second a waits');
    g.release(); // a#1
    g.release(); // b
    await tick();
    assert.deepEqual(g.runs, ['a', 'b', 'a']);
    g.release();
    await q.idle();
    assert.equal(g.maxActivePerKey(), 1);
    assert.equal(g.runs.length, 3);
  });

  it('limits concurrency to the number of workers', async () => {
    const g = gatedHandler();
    const q = new WorkQueue(g.handler, { clock: new ManualClock(), workers: 2 });
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    await tick();
    assert.equal(g.active(), 2);
    assert.equal(q.length, 2);
    for (let i = 0; i < 4; i++) {
      g.release();
      await tick();
    }
    await q.idle();
    assert.deepEqual(g.runs, ['a', 'b', 'c', 'd']);
  });

  it('retries a failing key with exponential backoff capped at maxDelay, and forgets failures on success', async () => {
    const clock = new ManualClock();
    let fail = 5;
    const at: number[] = [];
    const delays: number[] = [];
    const q = new WorkQueue(
      async () => {
        at.push(clock.now());
        if (fail-- > 0) throw new Error('boom');
      },
      { clock, baseDelayMs: 100, maxDelayMs: 1000, onError: (_k, _e, _n, d) => delays.push(d) },
    );
    q.add('k');
    await q.idle();
    for (let i = 0; i < 6; i++) {
      clock.advance(1000);
      await q.idle();
    }
    assert.deepEqual(delays, [100, 200, 400, 800, 1000]);
    assert.equal(at.length, 6, 'five failures then a success');
    assert.equal(q.failuresOf('k'), 0);
    assert.equal(clock.pendingTimers(), 0, 'no retry after the success');
  });

  it('an event for a key waiting out a backoff runs it now and cancels the delayed retry', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const q = new WorkQueue(
      async () => {
        calls++;
        if (calls === 1) throw new Error('first fails');
      },
      { clock, baseDelayMs: 5000 },
    );
    q.add('k');
    await q.idle();
    assert.equal(clock.pendingTimers(), 1);
    q.add('k');
    await q.idle();
    assert.equal(calls, 2);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('requeueAfterMs schedules a later run; the earlier of two delays wins', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    const q = new WorkQueue(
      async () => {
        at.push(clock.now());
        return at.length === 1 ? { requeueAfterMs: 3000 } : undefined;
      },
      { clock },
    );
    q.add('k');
    await q.idle();
    q.addAfter('k', 1000);
    clock.advance(1000);
    await q.idle();
    clock.advance(5000);
    await q.idle();
    assert.deepEqual(at, [0, 1000]);
  });

  it('shutdown waits for running reconciles and drops the rest', async () => {
    const g = gatedHandler();
    const clock = new ManualClock();
    const q = new WorkQueue(g.handler, { clock, workers: 1 });
    q.add('a');
    q.add('b');
    q.addAfter('c', 100);
    await tick();
    let done = false;
    const stopping = q.shutdown().then(() => (done = true));
    await tick();
    assert.equal(done, false, 'a is still running');
    g.release();
    await stopping;
    clock.advance(1000);
    q.add('d');
    await tick();
    assert.deepEqual(g.runs, ['a']);
  });
});
