// Leader election timing on a manual clock, against an in-memory Lease store with resourceVersion conflicts
// (the real-API-server behaviour is covered by test/integration/k8s/controller-leader.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../../controller/runtime/kubernetes/clock.js';
import { LeaderElector, type LeaseClient } from '../../../../controller/runtime/kubernetes/leader.js';
import { ApiError } from '../../../../controller/runtime/kubernetes/rest.js';

type Lease = { metadata: { name: string; namespace: string; resourceVersion?: string }; spec?: Record<string, unknown> };

class LeaseStore {
  lease: Lease | undefined;
  rv = 0;
  down = false;
  writes = 0;
  client(): LeaseClient {
    const check = () => {
      if (this.down) throw new ApiError(503, 'ServiceUnavailable', 'down', {});
    };
    return {
      get: (async () => {
        check();
        if (!this.lease) throw new ApiError(404, 'NotFound', 'not found', {});
        return structuredClone(this.lease);
      }) as LeaseClient['get'],
      create: (async (_rt: unknown, _ns: unknown, body: Lease) => {
        check();
        if (this.lease) throw new ApiError(409, 'AlreadyExists', 'exists', {});
        this.writes++;
        this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
        return structuredClone(this.lease);
      }) as LeaseClient['create'],
      update: (async (_rt: unknown, _ns: unknown, _name: unknown, body: Lease) => {
        check();
        if (!this.lease || body.metadata.resourceVersion !== this.lease.metadata.resourceVersion) {
          throw new ApiError(409, 'Conflict', 'stale', {});
        }
        this.writes++;
        this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
        return structuredClone(this.lease);
      }) as LeaseClient['update'],
    };
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function elector(store: LeaseStore, clock: ManualClock, identity: string, log: string[]) {
  return new LeaderElector(
    store.client(),
    { namespace: 'ns', name: 'tiermix-controller', identity, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
    clock,
    { onStartedLeading: () => void log.push(`${identity} start`), onStoppedLeading: () => void log.push(`${identity} stop`) },
  );
}

/** A fresh clock, Lease store and log, with one elector per identity. */
function candidates<const T extends readonly string[]>(...identities: T) {
  const clock = new ManualClock(1_000_000);
  const store = new LeaseStore();
  const log: string[] = [];
  const electors = identities.map((id) => elector(store, clock, id, log)) as { [K in keyof T]: LeaderElector };
  return { clock, store, log, electors };
}

/** Advances the manual clock step by step, letting the async Lease calls finish in between. */
async function run(clock: ManualClock, ms: number, step = 500): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await settle();
  }
}

describe('LeaderElector', () => {
  it('one of two candidates leads; the other takes over at once when the leader releases', async () => {
    const { clock, store, log, electors: [a, b] } = candidates('a', 'b');
    a.start();
    await run(clock, 500);
    b.start();
    await run(clock, 20_000);
    assert.deepEqual(log, ['a start']);
    assert.equal(a.isLeader(), true);
    assert.equal(b.isLeader(), false);
    assert.equal(store.lease?.spec?.holderIdentity, 'a');
    await a.stop();
    assert.deepEqual(log, ['a start', 'a stop']);
    assert.equal(store.lease?.spec?.holderIdentity, '');
    await run(clock, 2_000);
    assert.deepEqual(log, ['a start', 'a stop', 'b start']);
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    await b.stop();
  });

  it('after a crash (no release) the other waits out the lease duration, counted from when it saw the last renewal', async () => {
    const { clock, electors: [a, b] } = candidates('a', 'b');
    a.start();
    await run(clock, 500);
    b.start();
    await run(clock, 4_000);
    await a.stop({ release: false });
    const crashedAt = clock.now();
    let tookOverAt = 0;
    for (let i = 0; i < 60 && !b.isLeader(); i++) {
      await run(clock, 500);
      if (b.isLeader()) tookOverAt = clock.now();
    }
    const waited = tookOverAt - crashedAt;
    assert.ok(waited >= 13_000 && waited <= 17_500, `took over after ${waited} ms (lease 15 s, last renewal up to 2 s before the crash)`);
    await b.stop();
  });

  it('a leader that cannot renew within the renew deadline stops leading, and leads again when the API is back', async () => {
    const { clock, store, log, electors: [a] } = candidates('a');
    a.start();
    await run(clock, 1_000);
    assert.equal(a.isLeader(), true);
    store.down = true;
    await run(clock, 9_000);
    assert.equal(a.isLeader(), true, 'still within the renew deadline');
    await run(clock, 2_500);
    assert.equal(a.isLeader(), false);
    store.down = false;
    await run(clock, 2_500);
    assert.equal(a.isLeader(), true, 'the Lease is still ours, so it is renewed');
    assert.deepEqual(log, ['a start', 'a stop', 'a start']);
    await a.stop();
  });

  it('steps down as soon as it sees another holder', async () => {
    const { clock, store, log, electors: [a] } = candidates('a');
    a.start();
    await run(clock, 1_000);
    // Someone overwrote the Lease (e.g. a replica whose clock ran far ahead).
    store.lease = { ...store.lease!, spec: { ...store.lease!.spec, holderIdentity: 'z' }, metadata: { ...store.lease!.metadata, resourceVersion: String(++store.rv) } };
    await run(clock, 2_500);
    assert.equal(a.isLeader(), false);
    assert.deepEqual(log, ['a start', 'a stop']);
    await a.stop();
  });

  it('rejects inconsistent timings', () => {
    assert.throws(
      () =>
        new LeaderElector(new LeaseStore().client(), { namespace: 'n', name: 'l', identity: 'i', leaseDurationMs: 5, renewDeadlineMs: 10, retryPeriodMs: 2 }, new ManualClock(), {
          onStartedLeading: () => undefined,
          onStoppedLeading: () => undefined,
        }),
      /leaseDuration > renewDeadline > retryPeriod/,
    );
  });
});
