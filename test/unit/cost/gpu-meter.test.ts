import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicaGpuMeter } from '../../../router/cost/gpu-meter.js';

/** A meter on a hand-driven clock (seconds). */
function meterAt(gpus: number): { meter: ReplicaGpuMeter; at(t: number): void } {
  let now = 0;
  return { meter: new ReplicaGpuMeter(gpus, () => now), at: (t) => (now = t) };
}

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test('a request alone gets duration x gpus', () => {
  const { meter, at } = meterAt(4);
  at(2);
  const a = meter.start();
  at(5.5);
  close(meter.end(a), 3.5 * 4);
  close(meter.busySeconds, 3.5);
});

test('two overlapping requests split the overlap', () => {
  const { meter, at } = meterAt(2);
  at(0);
  const a = meter.start();
  at(5);
  const b = meter.start();
  at(10);
  const shareA = meter.end(a); // 5 s alone + 5 s shared
  at(15);
  const shareB = meter.end(b); // 5 s shared + 5 s alone
  close(shareA, 5 * 2 + (5 * 2) / 2);
  close(shareB, (5 * 2) / 2 + 5 * 2);
  close(shareA + shareB, 2 * 15);
});

test('idle time is not attributed', () => {
  const { meter, at } = meterAt(1);
  at(0);
  const a = meter.start();
  at(1);
  close(meter.end(a), 1);
  at(100);
  const b = meter.start();
  at(102);
  close(meter.end(b), 2);
  close(meter.busySeconds, 3);
  close(meter.attributedGpuSeconds, 3);
});

test('three requests: nested and chained', () => {
  const { meter, at } = meterAt(1);
  at(0);
  const a = meter.start(); // [0, 6]
  at(1);
  const b = meter.start(); // [1, 3]
  at(2);
  const c = meter.start(); // [2, 4]
  at(3);
  const shareB = meter.end(b);
  at(4);
  const shareC = meter.end(c);
  at(6);
  const shareA = meter.end(a);
  // 0-1: a alone; 1-2: a,b; 2-3: a,b,c; 3-4: a,c; 4-6: a alone
  close(shareA, 1 + 1 / 2 + 1 / 3 + 1 / 2 + 2);
  close(shareB, 1 / 2 + 1 / 3);
  close(shareC, 1 / 3 + 1 / 2);
  close(shareA + shareB + shareC, 6);
});

test('sum of shares equals gpus x busy time on a random timeline', () => {
  const { meter, at } = meterAt(8);
  let seed = 42;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let t = 0;
  const open: number[] = [];
  let total = 0;
  for (let step = 0; step < 2000; step++) {
    t += random() * (random() < 0.1 ? 5 : 0.05);
    at(t);
    if (open.length === 0 || (open.length < 40 && random() < 0.55)) open.push(meter.start());
    else total += meter.end(open.splice(Math.floor(random() * open.length), 1)[0]!);
  }
  at(t + 1);
  for (const token of open) total += meter.end(token);
  assert.equal(meter.inFlight, 0);
  assert.ok(Math.abs(total - 8 * meter.busySeconds) < 1e-6 * total);
  close(meter.attributedGpuSeconds, total);
});

test('a clock stepping backwards yields no negative share', () => {
  const { meter, at } = meterAt(1);
  at(10);
  const a = meter.start();
  at(9);
  assert.equal(meter.end(a), 0);
});
