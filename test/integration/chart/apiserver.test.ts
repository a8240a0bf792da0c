// The chart against a real kube-apiserver v1.20.2 (test/k8s/control-plane.ts, apiserver only): every object the
// chart renders, for every tested value set, passes `kubectl apply --dry-run=server` (the API server's schema,
// defaulting and admission; kubectl also refuses unknown fields); the example cascades pass the ModelCascade CRD's
// validation; a real `helm install` creates everything, including ModelCascades from values with the CRD's
// defaults; the controller's ServiceAccount may do exactly CONTROLLER_RULES and the router's nothing.
// Needs the binaries from `make k8s-binaries` and kubectl (/usr/bin/kubectl).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuthorizationV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { API_VERSION, GROUP, PLURAL, VERSION, type ModelCascade } from '../../../controller/api/types.js';
import { CONTROLLER_RULES } from '../../../controller/runtime/rbac.js';
import { startControlPlane, type ControlPlane } from '../../k8s/control-plane.js';
import { waitFor } from '../../k8s/wait.js';
import { CHART_DIR, REPO_ROOT, VALUE_SETS, crdFiles, helm, templateText, withValuesFile } from '../../unit/chart/helm.js';

const KUBECTL = process.env.TIERMIX_KUBECTL ?? '/usr/bin/kubectl';

// Stand-ins for the Prometheus Operator's CRDs, so that ServiceMonitor and PodMonitor resolve to a kind. Their
// schema accepts any spec: only apiVersion, kind and metadata are checked by the server for these two.
const MONITORING_CRDS = ['ServiceMonitor', 'PodMonitor']
  .map(
    (kind) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: ${kind.toLowerCase()}s.monitoring.coreos.com }
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: { kind: ${kind}, plural: ${kind.toLowerCase()}s, singular: ${kind.toLowerCase()} }
  versions:
    - name: v1
      served: true
      storage: true
      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
`,
  )
  .join('---\n');

describe('the chart on a real kube-apiserver', { timeout: 300_000 }, () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let cacheDir: string;
  const hasCrd = crdFiles().length > 0;

  function kubectl(args: string[], input?: string): { status: number; out: string } {
    const r = spawnSync(KUBECTL, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', cacheDir, ...args], {
      encoding: 'utf8',
      input,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  }
  function kubectlOk(args: string[], input?: string): string {
    const r = kubectl(args, input);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')} failed:\n${r.out}`);
    return r.out;
  }

  before(async () => {
    assert.ok(existsSync(KUBECTL), `kubectl not found at ${KUBECTL} (set TIERMIX_KUBECTL)`);
    cacheDir = mkdtempSync(join(tmpdir(), 'tiermix-kubectl-'));
    cp = await startControlPlane();
    kc = cp.kubeConfig();
    kubectlOk(['create', 'namespace', 'tiermix']);
    kubectlOk(['apply', '-f', '-'], MONITORING_CRDS);
    if (hasCrd) for (const f of crdFiles()) kubectlOk(['apply', '-f', f]);
    kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  });
  after(async () => {
    await cp?.stop();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  for (const [name, opts] of Object.entries(VALUE_SETS)) {
    it(`${name}: every rendered object passes kubectl apply --dry-run=server`, (t) => {
      const text = templateText(opts);
      if (!hasCrd && text.includes('kind: ModelCascade')) {
        t.skip('charts/tiermix/crds/ has no ModelCascade CRD yet (controller/api/crd.ts generates it)');
        return;
      }
      const out = kubectlOk(['apply', '--dry-run=server', '-f', '-'], text);
      const applied = out.split('\n').filter((l) => /\(server dry run\)$/.test(l));
      const rendered = text.split('\n').filter((l) => /^kind: /.test(l));
      assert.equal(applied.length, rendered.length, `one line per object:\n${out}`);
      assert.ok(applied.some((l) => l.startsWith('deployment.apps/tiermix-controller')));
    });
  }

  it('kubectl (client-side schema) refuses an unknown field, so the passes above mean something', () => {
    // In the router's pod spec (indented 6).
    const text = templateText({}).replace('\n      automountServiceAccountToken: false', '\n      automountServiceAccountToken: false\n      bogusField: 1');
    assert.match(text, /bogusField/);
    const r = kubectl(['apply', '--dry-run=server', '-f', '-'], text);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /unknown field "bogusField"/);
  });

  it('the plain manifests (manifests/tiermix.yaml, crds/ and examples/) pass too', (t) => {
    kubectlOk(['apply', '--dry-run=server', '-f', join(REPO_ROOT, 'manifests', 'tiermix.yaml')]);
    if (!hasCrd) {
      t.skip('no ModelCascade CRD yet: the examples need it');
      return;
    }
    kubectlOk(['apply', '--dry-run=server', '-f', join(REPO_ROOT, 'manifests', 'crds')]);
    for (const ex of ['ladder', 'two-tier', 'scale-from-zero']) {
      const out = kubectlOk(['-n', 'tiermix', 'apply', '--dry-run=server', '-f', join(REPO_ROOT, 'manifests', 'examples', `${ex}.yaml`)]);
      assert.match(out, new RegExp(`modelcascade\\.tiermix\\.dev/${ex} created \\(server dry run\\)`));
    }
  });

  it('the ModelCascade CRD refuses an invalid example cascade', (t) => {
    if (!hasCrd) {
      t.skip('no ModelCascade CRD yet');
      return;
    }
    const bad = readFileSync(join(REPO_ROOT, 'manifests', 'examples', 'ladder.yaml'), 'utf8').replace('gpusPerReplica: 4', 'gpusPerReplica: 0');
    const r = kubectl(['-n', 'tiermix', 'apply', '--dry-run=server', '-f', '-'], bad);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /gpusPerReplica/);
  });

  it('helm install creates every object and the cascades from values (with CRD defaults); NOTES say how to send a request; uninstall removes them', async (t) => {
    if (!hasCrd) {
      t.skip('no ModelCascade CRD yet');
      return;
    }
    const ns = 'tiermix-install';
    // values-ladder.yaml plus a cascade that leaves every defaulted field out.
    const values = parse(readFileSync(join(CHART_DIR, 'values-ladder.yaml'), 'utf8')) as { cascades: unknown[] };
    values.cascades.push({ name: 'tiny', spec: { tiers: [{ name: 'small', model: 'org/small' }] } });
    const started = Date.now();
    const install = withValuesFile(values, (file) =>
      helm(['install', 'tiermix', CHART_DIR, '-n', ns, '--create-namespace', '-f', file!, '--timeout', '60s'], { kubeconfig: cp.kubeconfigPath }),
    );
    assert.equal(install.status, 0, install.stderr);
    t.diagnostic(`helm install took ${Date.now() - started} ms`);
    assert.match(install.stdout, /STATUS: deployed/);
    assert.match(install.stdout, /port-forward svc\/tiermix-router 8080:80/);
    assert.match(install.stdout, /"model":"ladder"/);

    const custom = kc.makeApiClient(CustomObjectsApi);
    const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })) as { items: ModelCascade[] };
    assert.deepEqual(list.items.map((m) => m.metadata.name).sort(), ['ladder', 'tiny']);
    const tiny = list.items.find((m) => m.metadata.name === 'tiny')!;
    assert.equal(tiny.apiVersion, API_VERSION);
    assert.equal(tiny.spec.tiers[0]!.gpusPerReplica, 1, 'CRD default survived');
    assert.deepEqual(tiny.spec.tiers[0]!.replicas, { min: 1, max: 1 }, 'CRD default survived');
    const got = kubectlOk(['-n', ns, 'get', 'deploy,svc,sa,cm', '-o', 'name']);
    for (const want of ['deployment.apps/tiermix-controller', 'deployment.apps/tiermix-router', 'service/tiermix-router', 'service/tiermix-router-metrics', 'configmap/tiermix-controller']) {
      assert.ok(got.includes(want), `${want} in:\n${got}`);
    }

    const uninstall = helm(['uninstall', 'tiermix', '-n', ns], { kubeconfig: cp.kubeconfigPath });
    assert.equal(uninstall.status, 0, uninstall.stderr);
    await waitFor('the release objects to go', () => !kubectlOk(['-n', ns, 'get', 'deploy,mc', '-o', 'name']).trim(), { timeoutMs: 30_000 });
    assert.match(kubectlOk(['get', 'crd', '-o', 'name']), /modelcascades\.tiermix\.dev/, 'helm never deletes crds/');
  });

  it('RBAC: the controller may make exactly the calls in CONTROLLER_RULES; the router none', async () => {
    const ns = 'tiermix-rbac';
    kubectlOk(['create', 'namespace', ns]);
    kubectlOk(['-n', ns, 'apply', '-f', '-'], templateText({ namespace: ns, release: 'tiermix' }));
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const can = async (sa: string, verb: string, group: string, resource: string, inNs = 'elsewhere') => {
      const [res, sub] = resource.split('/');
      const r = await authz.createSubjectAccessReview({
        body: {
          spec: {
            user: `system:serviceaccount:${ns}:${sa}`,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
            resourceAttributes: { verb, group, resource: res, ...(sub ? { subresource: sub } : {}), namespace: inNs },
          },
        },
      });
      return r.status?.allowed === true;
    };
    for (const rule of CONTROLLER_RULES) {
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          for (const verb of rule.verbs) assert.ok(await can('tiermix-controller', verb, group, resource), `controller may ${verb} ${group}/${resource}`);
        }
      }
    }
    const denied: [string, string, string][] = [
      ['get', '', 'secrets'],
      ['list', '', 'secrets'],
      ['delete', '', 'configmaps'],
      ['update', 'apps', 'deployments'],
      ['create', '', 'pods'],
      ['delete', 'tiermix.dev', 'modelcascades'],
      ['update', 'tiermix.dev', 'modelcascades'],
      ['delete', 'coordination.k8s.io', 'leases'],
      ['create', 'rbac.authorization.k8s.io', 'rolebindings'],
    ];
    for (const [verb, group, resource] of denied) assert.equal(await can('tiermix-controller', verb, group, resource), false, `controller may not ${verb} ${group}/${resource}`);
    for (const [verb, group, resource] of [['get', '', 'pods'], ['list', '', 'configmaps'], ['get', 'tiermix.dev', 'modelcascades']] as const) {
      assert.equal(await can('tiermix-router', verb, group, resource, ns), false, `router may not ${verb} ${group}/${resource}`);
    }
  });
});
