// The chart's optional parts: router API keys from a Secret, NetworkPolicies, Prometheus Operator monitors, the
// Grafana dashboard (its queries use metric names the router really exports), and ModelCascades from values.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { V1ConfigMap, V1Deployment, V1LabelSelector, V1Secret, V1Service } from '@kubernetes/client-node';
import { LABELS, MANAGER, type ModelCascade } from '../../../controller/api/types.js';
import { RouterMetrics } from '../../../router/metrics/router-metrics.js';
import { loadApiKeys } from '../../../router/server/state.js';
import { CHART_DIR, REPO_ROOT, VALUE_SETS, controllerConfig, ofKind, one, render, type K8sObject } from './helm.js';

// NetworkPolicy as YAML has `from`; client-node's model calls it `_from`, so a plain shape is used here.
interface Peer {
  podSelector?: V1LabelSelector;
  namespaceSelector?: V1LabelSelector;
}
interface NetworkPolicy extends K8sObject {
  spec: { podSelector: V1LabelSelector; policyTypes: string[]; ingress: { ports?: { port: string; protocol: string }[]; from?: Peer[] }[] };
}

const routerPod = (objs: K8sObject[]) => one<V1Deployment>(objs, 'Deployment', '-router').spec!.template.spec!;

describe('chart: router API keys', () => {
  it('creates a Secret from router.apiKeys.keys that the router reads as its key file', () => {
    const objs = render(VALUE_SETS['api keys (created Secret)']);
    const secret = one<V1Secret>(objs, 'Secret', '-router-api-keys');
    const pod = routerPod(objs);
    const vol = pod.volumes?.find((v) => v.secret?.secretName === secret.metadata.name);
    assert.ok(vol, 'the router mounts the Secret');
    assert.deepEqual(vol.secret?.items, [{ key: 'api-keys', path: 'keys' }]);
    const mount = pod.containers[0]!.volumeMounts?.find((m) => m.name === vol.name);
    assert.equal(mount?.subPath, undefined, 'a directory mount, so a rotated Secret reaches the pod');
    const file = controllerConfig(objs).router.base?.server as { apiKeys?: { file: string } };
    assert.equal(file.apiKeys?.file, `${mount?.mountPath}/keys`);
    // What the kubelet would write into that file, read by the router's own loader.
    const dir = mkdtempSync(join(tmpdir(), 'tiermix-keys-'));
    try {
      const path = join(dir, 'keys');
      writeFileSync(path, secret.stringData?.['api-keys'] ?? '');
      assert.deepEqual([...(loadApiKeys({ file: path }) ?? [])].sort(), ['sk-test-0123456789', 'sk-test-abcdefghij']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mounts an existing Secret under the given key and creates none', () => {
    const objs = render(VALUE_SETS['api keys (existing Secret)']);
    assert.equal(ofKind(objs, 'Secret').length, 0);
    const vol = routerPod(objs).volumes?.find((v) => v.secret);
    assert.deepEqual(vol?.secret, { secretName: 'my-keys', items: [{ key: 'tokens', path: 'keys' }] });
  });

  it('mounts no Secret and sets no apiKeys when keys are off', () => {
    const objs = render();
    assert.ok(!routerPod(objs).volumes?.some((v) => v.secret));
    assert.equal((controllerConfig(objs).router.base?.server as { apiKeys?: unknown }).apiKeys, undefined);
  });
});

describe('chart: NetworkPolicy', () => {
  const objs = render(VALUE_SETS['network policy']);
  const policies = ofKind(objs, 'NetworkPolicy') as NetworkPolicy[];

  it('is off by default', () => {
    assert.equal(ofKind(render(), 'NetworkPolicy').length, 0);
  });

  it('opens only the router port, the controller ports, and the vLLM pods to router and controller', () => {
    assert.deepEqual(policies.map((p) => p.metadata.name).sort(), ['tiermix-controller', 'tiermix-router', 'tiermix-tiers']);
    const router = policies.find((p) => p.metadata.name === 'tiermix-router')!;
    const routerDeploy = one<V1Deployment>(objs, 'Deployment', '-router');
    assert.deepEqual(router.spec?.podSelector.matchLabels, routerDeploy.spec?.selector.matchLabels);
    assert.deepEqual(router.spec?.ingress?.[0]?.ports, [{ port: 'http', protocol: 'TCP' }]);
    assert.equal(router.spec?.ingress?.[0]?.from, undefined, 'any client may call the API by default');
    const controller = policies.find((p) => p.metadata.name === 'tiermix-controller')!;
    assert.deepEqual(controller.spec?.ingress?.[0]?.ports?.map((p) => p.port), ['metrics', 'health']);
    assert.deepEqual(controller.spec?.ingress?.[0]?.from, [{ namespaceSelector: { matchLabels: { name: 'monitoring' } } }]);
    const tiers = policies.find((p) => p.metadata.name === 'tiermix-tiers')!;
    assert.deepEqual(tiers.spec?.podSelector.matchLabels, { [LABELS.managedBy]: MANAGER, [LABELS.component]: 'vllm' });
    const from = tiers.spec?.ingress?.[0]?.from ?? [];
    assert.deepEqual(from[0]?.podSelector?.matchLabels, routerDeploy.spec?.selector.matchLabels);
    assert.equal(from[1]?.podSelector?.matchLabels?.['app.kubernetes.io/component'], 'controller');
    assert.deepEqual(from[2], { namespaceSelector: { matchLabels: { name: 'monitoring' } } });
    for (const p of policies) assert.deepEqual(p.spec?.policyTypes, ['Ingress']);
  });
});

describe('chart: Prometheus Operator monitors', () => {
  const objs = render(VALUE_SETS.monitors);

  it('are off by default', () => {
    const kinds = render().map((o) => o.kind);
    assert.ok(!kinds.includes('ServiceMonitor') && !kinds.includes('PodMonitor'));
  });

  it('ServiceMonitor: each endpoint port exists on the Services it selects (router http, controller metrics)', () => {
    const sm = one<{ spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } }>(objs, 'ServiceMonitor');
    const selected = (ofKind(objs, 'Service') as (V1Service & K8sObject)[]).filter((s) =>
      Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
    );
    assert.deepEqual(selected.map((s) => s.metadata.name).sort(), ['tiermix-controller-metrics', 'tiermix-router'], 'one Service per component, no double scrape');
    const ports = new Set(selected.flatMap((s) => s.spec?.ports?.map((p) => p.name) ?? []));
    for (const e of sm.spec.endpoints) {
      assert.ok(ports.has(e.port), `endpoint port ${e.port} is a named Service port`);
      assert.equal(e.path, '/metrics');
    }
  });

  it('PodMonitor: selects the vLLM pods the controller labels, on their http port, with cascade and tier labels', () => {
    const pm = one<{ spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: unknown; podMetricsEndpoints: { port: string; relabelings: { targetLabel: string }[] }[] } }>(objs, 'PodMonitor');
    assert.deepEqual(pm.spec.selector.matchLabels, { [LABELS.managedBy]: MANAGER, [LABELS.component]: 'vllm' });
    assert.deepEqual(pm.spec.namespaceSelector, { any: true });
    assert.equal(pm.spec.podMetricsEndpoints[0]?.port, 'http');
    assert.deepEqual(pm.spec.podMetricsEndpoints[0]?.relabelings.map((r) => r.targetLabel), ['cascade', 'tier']);
  });
});

describe('chart: Grafana dashboard', () => {
  const cm = one<V1ConfigMap>(render(), 'ConfigMap', '-dashboard');
  const dashboard = JSON.parse(cm.data?.['tiermix.json'] ?? '') as { panels: { title: string; targets?: { expr: string }[] }[] };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('is the JSON file in the chart, labelled for the Grafana sidecar', () => {
    assert.equal(cm.data?.['tiermix.json'], readFileSync(join(CHART_DIR, 'dashboards', 'tiermix.json'), 'utf8').trimEnd());
    assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
  });

  it('has panels for requests and escalations per tier, GPU-seconds per tier, latency and replicas', () => {
    const titles = dashboard.panels.map((p) => p.title).join(' | ');
    for (const want of [/Requests per second by serving tier/, /Escalations/, /GPU-seconds/, /GPUs held per tier/, /latency/i, /replicas/i, /desired replicas/]) {
      assert.match(titles, want);
    }
  });

  it('queries only metrics the router or the controller export (besides vLLM and kube-state-metrics ones)', async () => {
    const router = await new RouterMetrics({ processMetrics: false }).registry.getMetricsAsJSON();
    const known = new Set<string>();
    for (const m of router) {
      known.add(m.name);
      if ((m.type as unknown as string) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) known.add(m.name + s);
    }
    // The controller registers its metrics in several modules: take every `name: 'tiermix_...'` in its sources.
    const controllerSources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? controllerSources(join(dir, e.name)) : e.name.endsWith('.ts') ? [readFileSync(join(dir, e.name), 'utf8')] : [],
      );
    for (const src of controllerSources(join(REPO_ROOT, 'controller'))) {
      for (const m of src.matchAll(/name: '(tiermix_[a-z_]+)'/g)) known.add(m[1]!);
    }
    for (const { panel, expr } of exprs) {
      for (const name of expr.match(/\btiermix_[a-z_]+/g) ?? []) {
        assert.ok(known.has(name), `panel "${panel}": ${name} is exported by neither the router nor the controller (known: ${[...known].sort().join(', ')})`);
      }
    }
    // The controller's meter and the router both export tiermix_gpu_seconds_total; the panels tell them apart by label.
    const gpu = exprs.filter((e) => e.expr.includes('tiermix_gpu_seconds_total'));
    assert.ok(gpu.some((e) => e.expr.includes('state!=""')) && gpu.some((e) => e.expr.includes('purpose!=""')));
  });
});

describe('chart: ModelCascades from values', () => {
  it('renders none by default and the 3-tier ladder from values-ladder.yaml', () => {
    assert.equal(ofKind(render(), 'ModelCascade').length, 0);
    const objs = render(VALUE_SETS.ladder);
    const mc = one<ModelCascade>(objs, 'ModelCascade');
    assert.equal(mc.apiVersion, 'tiermix.dev/v1alpha1');
    assert.equal(mc.metadata.namespace, undefined, 'helm puts it in the release namespace; plain examples stay namespace-free');
    assert.deepEqual(mc.spec.tiers.map((t) => [t.name, t.gpusPerReplica, t.gpuProfile]), [
      ['mistral-7b', 1, 'nvidia-l4'],
      ['llama-2-13b', 1, 'nvidia-a100-80gb'],
      ['llama-2-70b', 4, 'nvidia-h100-80gb'],
    ]);
    const profiles = controllerConfig(objs).gpuProfiles;
    for (const t of mc.spec.tiers) assert.ok(profiles[t.gpuProfile ?? ''], `${t.name}: its gpuProfile is in the controller configuration`);
    assert.deepEqual(mc.spec.routing?.objective, { lambda: 0.05 });
  });

  it('keeps name and model first in each tier, and an explicit namespace when given', () => {
    const objs = render({ values: { cascades: [{ name: 'c', namespace: 'models', spec: { tiers: [{ replicas: { min: 0, max: 1 }, model: 'm/m', name: 't' }] } }] } });
    const mc = one<ModelCascade>(objs, 'ModelCascade');
    assert.equal(mc.metadata.namespace, 'models');
    assert.deepEqual(Object.keys(mc.spec.tiers[0]!), ['name', 'model', 'replicas']);
  });
});
