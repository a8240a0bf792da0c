import assert from 'node:assert/strict';
import { test } from 'node:test';
import { observeColdStart, stabilise, type ColdStart } from '../../../../controller/autoscale/index.js';

/** Replays (current, ready) per 10 s tick; returns the measured cold start after each. */
function coldStarts(ticks: [number, number][]): (number | null)[] {
  let c: ColdStart | undefined;
  return ticks.map(([current, ready], i) => (c = observeColdStart(c, current, ready, i * 10_000)).seconds);
}

test('cold start: from the tick more replicas are asked for than are Ready until the first of them is Ready', () => {
  // Asked for at tick 1, Ready at tick 7: 60 s.
  assert.deepEqual(coldStarts([[1, 1], [2, 1], [2, 1], [2, 1], [2, 1], [2, 1], [2, 1], [2, 2], [2, 2]]), [null, null, null, null, null, null, null, 60, 60]);
  // Two scale-ups: 60 s then 100 s -> halfway: 80.
  const two = coldStarts([[1, 1], [2, 1], [2, 1], [2, 1], [2, 1], [2, 1], [2, 1], [2, 2], [3, 2], ...Array.from({ length: 9 }, (): [number, number] => [3, 2]), [3, 3]]);
  assert.equal(two.at(-1), 80);
});

test('cold start: a scale-up cancelled before any replica was Ready measures nothing; replicas asked one after another do not add up', () => {
  assert.deepEqual(coldStarts([[1, 1], [2, 1], [2, 1], [1, 1], [1, 1]]), [null, null, null, null, null]);
  // 2 asked at tick 1 (Ready at 4: 30 s), a third at tick 3 while the others load (Ready at 9): the first Ready ends
  // the measurement; the next starts once all are Ready.
  const seq: [number, number][] = [[1, 1], [2, 1], [2, 1], [3, 1], [3, 2], [3, 2], [3, 2], [3, 2], [3, 2], [3, 3]];
  assert.deepEqual(coldStarts(seq).slice(3), [null, 30, 30, 30, 30, 30, 30]);
});

const hold = (current: number, recs: number[], delaySeconds: number, coldStartSeconds: number | null) => {
  let previous: { atMs: number; value: number }[] = [];
  let cur = current;
  const out: number[] = [];
  const reasons: string[] = [];
  recs.forEach((recommended, i) => {
    const st = stabilise({ current: cur, recommended, previous, delaySeconds, coldStartSeconds, nowMs: i * 10_000 });
    previous = st.recommendations;
    cur = st.desired;
    out.push(cur);
    reasons.push(st.reason.join('; '));
  });
  return { out, reasons };
};

test('stabilise: up at once; down after the delay of lower recommendations, to their maximum', () => {
  // The window [t - 30 s, t] must hold only lower recommendations: 3 -> 2 at 40 s (2, 2, 1, 1), 2 -> 1 at 60 s.
  const r = hold(1, [3, 2, 2, 1, 1, 1, 1], 30, null);
  assert.deepEqual(r.out, [3, 3, 3, 3, 2, 2, 1]);
  assert.equal(r.reasons[0], 'scale up 1 -> 3');
  assert.equal(r.reasons[4], 'scale down 3 -> 2: lower for 30s');
});

test('stabilise: a tier whose replicas take longer to load than the delay holds them for its cold start (ski rental)', () => {
  const short = hold(4, [2, 2, 2, 2, 2, 2], 20, 50);
  assert.deepEqual(short.out, [4, 4, 4, 4, 4, 2]);
  assert.match(short.reasons[4]!, /holding 4: scale down after 50s \(the tier's measured cold start\) of lower recommendations \(40s so far\)/);
  assert.equal(short.reasons[5], "scale down 4 -> 2: lower for 50s (the tier's measured cold start)");
  // A measured cold start shorter than the delay changes nothing.
  assert.deepEqual(hold(4, [2, 2, 2, 2], 20, 10).out, [4, 4, 2, 2]);
  assert.deepEqual(hold(4, [2, 2, 2, 2], 20, null).out, [4, 4, 2, 2]);
});

test('stabilise: late ticks and a hold that is not a whole number of ticks still scale down', () => {
  // 10 s ticks that each arrive 3 ms later than the last, and a 63 s hold (a measured cold start of 62.5 s, rounded).
  let previous: { atMs: number; value: number }[] = [];
  let cur = 4;
  let downAt: number | null = null;
  for (let i = 0; i < 12 && downAt === null; i++) {
    const nowMs = i * 10_003;
    const st = stabilise({ current: cur, recommended: 2, previous, delaySeconds: 30, coldStartSeconds: 62.5, nowMs });
    previous = st.recommendations;
    if (st.desired < cur) downAt = nowMs;
    cur = st.desired;
  }
  assert.equal(cur, 2);
  // Lower from t=0 on: down at the first tick at least 63 s later (t = 70.021 s), not before and not never.
  assert.equal(downAt, 7 * 10_003);
});
