// The control-plane harness against a real kube-apiserver v1.20.2 + etcd: start/stop, free ports, kubeconfig,
// a CRD with a structural schema (Established, defaulting, 422 on invalid objects) and server-side apply.
// Needs the binaries from `make k8s-binaries`; without them these tests fail and say so.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  VersionApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../k8s/control-plane.js';
import { waitFor } from '../../k8s/wait.js';
import { isAlive } from '../../helpers/processes.js';

const GROUP = 'test.tiermix.dev';

/** Parses the Status object of a failed request. */
function statusOf(err: unknown): { code: number; reason?: string; message?: string } {
  assert.ok(err instanceof ApiException, `expected an ApiException, got ${String(err)}`);
  const body = typeof err.body === 'string' ? (JSON.parse(err.body) as { reason?: string; message?: string }) : {};
  return { code: err.code, ...body };
}

describe('control plane (etcd + kube-apiserver)', () => {
  let cp: ControlPlane;
  let second: ControlPlane | undefined;

  before(async () => {
    // Two at once: each must get its own ports, run dir and token.
    [cp, second] = await Promise.all([startControlPlane(), startControlPlane()]);
  });
  after(async () => {
    await Promise.all([cp?.stop(), second?.stop()]);
  });

  it('fails with a pointer to `make k8s-binaries` when the binaries are missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tiermix-no-k8s-'));
    const saved = process.env.TIERMIX_K8S_BIN;
    process.env.TIERMIX_K8S_BIN = empty;
    try {
      await assert.rejects(startControlPlane(), /kube-apiserver.*Run `make k8s-binaries`/s);
    } finally {
      if (saved === undefined) delete process.env.TIERMIX_K8S_BIN;
      else process.env.TIERMIX_K8S_BIN = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('serves v1.20.2 on loopback with a 0600 kubeconfig and token auth', async () => {
    assert.match(cp.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(statSync(cp.kubeconfigPath).mode & 0o777, 0o600);
    const version = await cp.kubeConfig().makeApiClient(VersionApi).getCode();
    assert.equal(version.gitVersion, 'v1.20.2');
    // The token is what authenticates: a wrong one is refused.
    const kc = cp.kubeConfig();
    const user = kc.getCurrentUser();
    assert.ok(user);
    kc.users = [{ ...user, token: 'not-the-token' }];
    await assert.rejects(kc.makeApiClient(CoreV1Api).listNamespace(), (err: unknown) => statusOf(err).code === 401);
    assert.match(cp.logsTail('kube-apiserver', 200), /Serving securely|secure serving/i);
  });

  it('gives parallel control planes their own ports, dirs and tokens', async () => {
    assert.ok(second);
    assert.notEqual(second.server, cp.server);
    assert.notEqual(second.ports.etcdClient, cp.ports.etcdClient);
    assert.notEqual(second.runDir, cp.runDir);
    assert.notEqual(second.token, cp.token);
    const core2 = second.kubeConfig().makeApiClient(CoreV1Api);
    await core2.createNamespace({ body: { metadata: { name: 'only-in-second' } } });
    const names = (await cp.kubeConfig().makeApiClient(CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name);
    assert.ok(!names.includes('only-in-second'), 'separate etcd');
  });

  it('stop() ends every process by PID and removes the run dir', async () => {
    assert.ok(second);
    const pids = Object.values(second.pids());
    assert.equal(pids.length, 2, 'etcd and kube-apiserver');
    assert.ok(pids.every(isAlive));
    await second.stop();
    assert.deepEqual(pids.filter(isAlive), []);
    assert.equal(existsSync(second.runDir), false);
    await second.stop(); // idempotent
    second = undefined;
  });

  it('establishes a CRD with a structural schema: defaults applied, invalid objects rejected with 422', async () => {
    const kc = cp.kubeConfig();
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await ext.createCustomResourceDefinition({
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `widgets.${GROUP}` },
        spec: {
          group: GROUP,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1alpha1',
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      required: ['model'],
                      properties: {
                        model: { type: 'string', minLength: 1 },
                        replicas: { type: 'integer', minimum: 0 },
                        gpusPerReplica: { type: 'integer', minimum: 1, _default: 1 } // client-node's name for "default",
                      },
                    },
                    status: { type: 'object', properties: { readyReplicas: { type: 'integer' } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    const established = await waitFor(
      'CRD Established',
      async () => {
        const crd = await ext.readCustomResourceDefinition({ name: `widgets.${GROUP}` });
        return crd.status?.conditions?.find((c) => c.type === 'Established' && c.status === 'True');
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(established.status, 'True');

    const ref = { group: GROUP, version: 'v1alpha1', namespace: 'default', plural: 'widgets' };
    // Discovery of a fresh CRD can lag Established by a moment: retry the first create on 404.
    const created = (await waitFor('the first Widget', async () => {
      try {
        return await custom.createNamespacedCustomObject({
          ...ref,
          body: { apiVersion: `${GROUP}/v1alpha1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { model: 'mistral-7b', replicas: 2 } },
        });
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    })) as { spec: { gpusPerReplica?: number; replicas?: number } };
    assert.equal(created.spec.gpusPerReplica, 1, 'schema default applied on create');
    const read = (await custom.getNamespacedCustomObject({ ...ref, name: 'w1' })) as typeof created;
    assert.equal(read.spec.gpusPerReplica, 1, 'default persisted');

    const invalid = await custom
      .createNamespacedCustomObject({
        ...ref,
        body: { apiVersion: `${GROUP}/v1alpha1`, kind: 'Widget', metadata: { name: 'w2' }, spec: { model: 'x', replicas: -1 } },
      })
      .then(
        () => assert.fail('replicas -1 accepted'),
        (err: unknown) => statusOf(err),
      );
    assert.equal(invalid.code, 422);
    assert.equal(invalid.reason, 'Invalid');
    assert.match(invalid.message ?? '', /spec\.replicas.*greater than or equal to 0/);

    const missing = await custom
      .createNamespacedCustomObject({
        ...ref,
        body: { apiVersion: `${GROUP}/v1alpha1`, kind: 'Widget', metadata: { name: 'w3' }, spec: { replicas: 1 } },
      })
      .then(
        () => assert.fail('missing model accepted'),
        (err: unknown) => statusOf(err),
      );
    assert.equal(missing.code, 422);
    assert.match(missing.message ?? '', /spec\.model.*Required/);
  });

  it('does server-side apply with field managers: ownership, conflicts (409) and force', async () => {
    const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig());
    const cm = (data: Record<string, string>): KubernetesObject & { data: Record<string, string> } => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ssa-test', namespace: 'default' },
      data,
    });
    const apply = (manager: string, obj: KubernetesObject, force: boolean) =>
      objects.patch(obj, undefined, undefined, manager, force, PatchStrategy.ServerSideApply);

    const first = await apply('tiermix-controller', cm({ tier: 'small', replicas: '2' }), false);
    const managers = (first.metadata?.managedFields ?? []).map((f) => `${f.manager}/${f.operation}`);
    assert.deepEqual(managers, ['tiermix-controller/Apply']);

    // Re-applying the same intent is a no-op, not a conflict.
    await apply('tiermix-controller', cm({ tier: 'small', replicas: '2' }), false);

    // Another manager setting a field it does not own: 409 Conflict naming the owner.
    const conflict = await apply('someone-else', cm({ replicas: '5' }), false).then(
      () => assert.fail('conflicting apply accepted'),
      (err: unknown) => statusOf(err),
    );
    assert.equal(conflict.code, 409);
    assert.match(conflict.message ?? '', /conflict.*tiermix-controller/i);

    // With force it takes the field over; the first manager keeps the rest.
    const forced = (await apply('someone-else', cm({ replicas: '5' }), true)) as ReturnType<typeof cm>;
    assert.deepEqual(forced.data, { tier: 'small', replicas: '5' });
    const owners = Object.fromEntries(
      (forced.metadata?.managedFields ?? []).map((f) => [f.manager, Object.keys((f.fieldsV1 as { 'f:data'?: object })['f:data'] ?? {})]),
    );
    assert.deepEqual(owners, { 'tiermix-controller': ['f:tier'], 'someone-else': ['f:replicas'] });

    // Applying without a field removes it when this manager was its only owner.
    const shrunk = (await apply('tiermix-controller', cm({}), false)) as ReturnType<typeof cm>;
    assert.deepEqual(shrunk.data, { replicas: '5' });
  });
});
