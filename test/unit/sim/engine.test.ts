import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, QueueFullError, type Clock, type EngineEvents, type EngineSettings, type SequenceSpec } from '../../../router/sim/engine.js';
import { PROFILES, type LatencyProfile } from '../../../router/sim/latency.js';

/** A clock the test advances by hand. */
class ManualClock implements Clock {
  private t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  now() {
    return this.t;
  }
  setTimer(fn: () => void, ms: number) {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimer(h: unknown) {
    this.timers = this.timers.filter((t) => t.id !== h);
  }
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

// Round numbers: 10 ms prefill overhead, 1 ms per prompt token, 5 ms per output token, no load slowdown.
const flat: LatencyProfile = { ...PROFILES['7b'], prefillOverheadMs: 10, prefillPerTokenMs: 1, interTokenMs: 5, timeFactorUnderLoad: 1 };

function setup(over: Partial<EngineSettings> = {}) {
  const clock = new ManualClock();
  const finished: string[] = [];
  const engine = new Engine(
    { profile: flat, maxNumSeqs: 2, maxWaiting: Infinity, kvCapacityTokens: 1_000_000, timeScale: 1, slowFactor: () => 1, ...over },
    clock,
    { onFinished: (_s, reason) => finished.push(reason) },
  );
  return { clock, engine, finished };
}

describe('engine', () => {
  it('produces the first token after prefill and the rest one inter-token latency apart', () => {
    const { clock, engine } = setup();
    const times: number[] = [];
    let done = -1;
    engine.submit({ promptTokens: 20, outputTokens: 3, finishReason: 'stop' }, { onToken: () => times.push(clock.now()), onFinished: () => (done = clock.now()) });
    clock.advance(1000);
    assert.deepEqual(times, [30, 35, 40]);
    assert.equal(done, 40);
  });

  it('queues beyond max-num-seqs and admits in order as sequences finish', () => {
    const { clock, engine } = setup({ maxNumSeqs: 1 });
    const admitted: number[] = [];
    const doneAt: number[] = [];
    for (let i = 0; i < 3; i++) {
      engine.submit({ promptTokens: 0, outputTokens: 2, finishReason: 'stop' }, { onAdmitted: (q) => admitted.push(q), onFinished: () => doneAt.push(clock.now()) });
    }
    assert.deepEqual(engine.stats(), { running: 1, waiting: 2, kvTokens: 0, kvUsage: 0 });
    clock.advance(1000);
    assert.deepEqual(admitted, [0, 15, 30]);
    assert.deepEqual(doneAt, [15, 30, 45]);
    assert.equal(engine.stats().waiting, 0);
  });

  it('slows every step as the batch grows (time factor under load)', () => {
    const loaded: LatencyProfile = { ...flat, timeFactorUnderLoad: 3 };
    const alone = setup({ profile: loaded, maxNumSeqs: 3 });
    let tAlone = 0;
    alone.engine.submit({ promptTokens: 0, outputTokens: 5, finishReason: 'stop' }, { onFinished: () => (tAlone = alone.clock.now()) });
    alone.clock.advance(10_000);
    const busy = setup({ profile: loaded, maxNumSeqs: 3 });
    let tBusy = 0;
    for (let i = 0; i < 3; i++) busy.engine.submit({ promptTokens: 0, outputTokens: 5, finishReason: 'stop' }, { onFinished: () => (tBusy = busy.clock.now()) });
    busy.clock.advance(10_000);
    assert.equal(tAlone, 10 + 4 * 5);
    assert.ok(tBusy > 2.5 * tAlone, `full batch ${tBusy} ms vs alone ${tAlone} ms`);
  });

  it('cancel frees the slot at once and counts an abort', () => {
    const { clock, engine, finished } = setup({ maxNumSeqs: 1 });
    let secondAdmitted = -1;
    const first = engine.submit({ promptTokens: 0, outputTokens: 100, finishReason: 'length' }, { onFinished: () => assert.fail('cancelled') });
    engine.submit({ promptTokens: 0, outputTokens: 1, finishReason: 'stop' }, { onAdmitted: () => (secondAdmitted = clock.now()), onFinished: () => {} });
    clock.advance(50);
    first.cancel();
    assert.equal(secondAdmitted, 50);
    clock.advance(1000);
    assert.deepEqual(finished, ['abort', 'stop']);
    assert.equal(engine.stats().running, 0);
  });

  it('refuses beyond max-waiting', () => {
    const { engine } = setup({ maxNumSeqs: 1, maxWaiting: 1 });
    assert.ok(engine.hasRoomFor(2));
    assert.ok(!engine.hasRoomFor(3));
    engine.submit({ promptTokens: 0, outputTokens: 5, finishReason: 'stop' }, { onFinished: () => {} });
    engine.submit({ promptTokens: 0, outputTokens: 5, finishReason: 'stop' }, { onFinished: () => {} });
    assert.throws(() => engine.submit({ promptTokens: 0, outputTokens: 5, finishReason: 'stop' }, { onFinished: () => {} }), QueueFullError);
  });

  it('tracks KV usage and waits for room in the KV cache', () => {
    const { clock, engine } = setup({ maxNumSeqs: 10, kvCapacityTokens: 100 });
    engine.submit({ promptTokens: 60, outputTokens: 10, finishReason: 'stop' }, { onFinished: () => {} });
    engine.submit({ promptTokens: 60, outputTokens: 10, finishReason: 'stop' }, { onFinished: () => {} });
    assert.deepEqual(engine.stats(), { running: 1, waiting: 1, kvTokens: 60, kvUsage: 0.6 });
    clock.advance(70 + 5 * 5); // prefill of 60 tokens plus six tokens
    assert.equal(engine.stats().kvTokens, 66);
    clock.advance(10_000);
    assert.deepEqual(engine.stats(), { running: 0, waiting: 0, kvTokens: 0, kvUsage: 0 });
  });

  it('answers at once, without timers, at time scale 0', () => {
    const { engine } = setup({ timeScale: 0, maxNumSeqs: 1 });
    let tokens = 0;
    let done = false;
    engine.submit({ promptTokens: 10, outputTokens: 50, finishReason: 'stop' }, { onToken: () => tokens++, onFinished: () => (done = true) });
    assert.equal(tokens, 50);
    assert.ok(done);
  });

  it('reports the same events at time scale 0 as stepping token by token at zero latency', () => {
    // The stepping path at zero modelled latency (profile zero, time scale 1, a clock that never moves,
    // each sequence run out before the next arrives, as at time scale 0) against the all-at-once path of
    // time scale 0: the same metric events, the same tokens and the same order of callbacks.
    const record = () => {
      const log = { admitted: [] as number[][], firstTokens: 0, interTokens: new Map<number, number>(), generated: 0, finished: [] as string[] };
      const events: EngineEvents = {
        onAdmitted: (queue, prompt) => log.admitted.push([queue, prompt]),
        onFirstToken: (s) => (log.firstTokens += s === 0 ? 1 : NaN),
        onInterToken: (s, times = 1) => log.interTokens.set(s, (log.interTokens.get(s) ?? 0) + times),
        onGeneratedTokens: (count) => (log.generated += count),
        onFinished: (e2e, reason) => log.finished.push(`${e2e}:${reason}`),
      };
      return { log, events };
    };
    const specs: SequenceSpec[] = [
      { promptTokens: 12, outputTokens: 40, finishReason: 'stop' },
      { promptTokens: 0, outputTokens: 0, finishReason: 'stop' },
      { promptTokens: 5, outputTokens: 1, finishReason: 'length' },
      { promptTokens: 7, outputTokens: 250, finishReason: 'length' },
    ];
    const run = (timeScale: number) => {
      const clock = new ManualClock();
      const { log, events } = record();
      const settings = { profile: PROFILES.zero, maxNumSeqs: 256, maxWaiting: Infinity, kvCapacityTokens: 1_000_000, timeScale, slowFactor: () => 1 };
      const engine = new Engine(settings, clock, events);
      const seen: string[] = [];
      for (const [k, spec] of specs.entries()) {
        engine.submit(spec, { onAdmitted: (q) => seen.push(`${k} admitted ${q}`), onToken: (i) => seen.push(`${k}.${i}`), onFinished: () => seen.push(`${k} done`) });
        clock.advance(0); // the stepping engine's zero-delay timers: this sequence runs to its end
      }
      return { log, seen, stats: engine.stats() };
    };
    const stepped = run(1);
    const atOnce = run(0);
    assert.deepEqual(atOnce.log, stepped.log);
    assert.deepEqual(atOnce.seen, stepped.seen);
    assert.deepEqual(atOnce.stats, { running: 0, waiting: 0, kvTokens: 0, kvUsage: 0 });
    assert.equal(atOnce.log.generated, 291);
    assert.deepEqual([...atOnce.log.interTokens], [[0, 39 + 249]]);
  });

  it('applies a slow factor changed at runtime to the next steps', () => {
    let slow = 1;
    const { clock, engine } = setup({ slowFactor: () => slow });
    let end = 0;
    engine.submit({ promptTokens: 0, outputTokens: 3, finishReason: 'stop' }, { onFinished: () => (end = clock.now()) });
    slow = 10;
    clock.advance(10_000);
    assert.equal(end, 10 + 2 * 50, 'prefill was scheduled before the change, both later steps after');
  });
});
