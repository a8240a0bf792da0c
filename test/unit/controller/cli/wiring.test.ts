// The command's wiring around the runtimes, without processes: the clocks (scaled, tick grid), the flags given to the
// simulators, and what the autoscaler's tick reads from a runtime's snapshot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { exampleCascade } from '../../../../controller/api/example.js';
import { scaledClock, simulatorFlags } from '../../../../controller/cli/run-local.js';
import { scaledCascades, tickClock } from '../../../../controller/cli/scaling.js';
import { defaultControllerConfig } from '../../../../controller/config/load.js';
import { planRouterConfigMap } from '../../../../controller/plan/index.js';

describe('controller clocks', () => {
  it('scaledClock runs 1/scale as fast from its start; 1 is the wall clock', () => {
    let wall = 1000;
    const clock = scaledClock(0.1, () => wall);
    assert.equal(clock(), 1000);
    wall = 1500;
    assert.equal(clock(), 6000);
    assert.equal(scaledClock(1, () => 42)(), 42);
    assert.throws(() => scaledClock(0), RangeError);
  });

  it('tickClock stamps late ticks with their grid time, so a window of whole ticks fills', () => {
    const stamps = [10_000, 15_004, 20_013, 25_001, 30_240, 39_990, 40_002];
    let i = 0;
    const clock = tickClock(() => stamps[i++]!, 5000);
    assert.deepEqual(stamps.map(() => clock()), [10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000]);
  });

  it('gives the simulators the time scale, once', () => {
    assert.deepEqual(simulatorFlags(['--data', 'none'], 0.1), ['--data', 'none', '--time-scale', '0.1']);
    assert.deepEqual(simulatorFlags(['--time-scale', '0'], 1), ['--time-scale', '0']);
    assert.throws(() => simulatorFlags(['--time-scale=0.5'], 0.1), /time scale is set twice/);
  });
});

describe('scaledCascades', () => {
  it('names the router tiers as the router configuration does, which leaves an invalid namesake out', () => {
    const config = defaultControllerConfig();
    const valid = exampleCascade('a', 'default');
    const invalid = exampleCascade('a', 'other');
    invalid.spec.tiers[0]!.gpuProfile = 'no-such-gpu';
    const snapshots = [
      { key: 'default/a', mc: valid, observed: [] },
      { key: 'other/a', mc: invalid, observed: [] },
    ];
    const rc = parse(planRouterConfigMap(snapshots, config).data!['router.yaml']!) as { cascades: { tiers: { name: string }[] }[] };
    assert.deepEqual(rc.cascades.map((c) => c.tiers[0]!.name), ['a/mistral-7b']);
    const scaled = scaledCascades(snapshots, config);
    assert.deepEqual(scaled[0]!.routerTiers, rc.cascades[0]!.tiers.map((t) => t.name));
    // The invalid one keeps its place (and the autoscaler its decisions), with no router tiers to read.
    assert.equal(scaled[1]!.key, 'other/a');
    assert.deepEqual(scaled[1]!.routerTiers, []);
  });
});
