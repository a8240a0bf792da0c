// What the chart renders for the controller and the router: probes, ports, arguments, the controller's
// configuration (checked against the ControllerConfig contract, and its router settings against the router's
// own schema), leader election, and the router's configuration mount.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Container, V1Deployment, V1Service } from '@kubernetes/client-node';
import { validateControllerConfig } from '../../../controller/config/load.js';
import { BUILTIN_GPU_PROFILES } from '../../../controller/config/profiles.js';
import { DEFAULT_VLLM_IMAGE } from '../../../controller/config/schema.js';
import { RouterConfigSchema } from '../../../router/config/schema.js';
import { controllerConfig, one, render, type K8sObject } from './helm.js';

const defaults = render();

function deployment(objs: K8sObject[], suffix: '-controller' | '-router'): V1Deployment & K8sObject {
  return one<V1Deployment>(objs, 'Deployment', suffix);
}
function container(objs: K8sObject[], suffix: '-controller' | '-router'): V1Container {
  const c = deployment(objs, suffix).spec?.template.spec?.containers;
  assert.equal(c?.length, 1);
  return c[0]!;
}
describe('chart defaults: what gets installed', () => {
  it('renders the controller, the router and their Services, and nothing optional', () => {
    const kinds = defaults.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      'ClusterRole/tiermix-controller',
      'ClusterRoleBinding/tiermix-controller',
      'ConfigMap/tiermix-controller',
      'ConfigMap/tiermix-dashboard',
      'Deployment/tiermix-controller',
      'Deployment/tiermix-router',
      'Service/tiermix-controller-metrics',
      'Service/tiermix-router',
      'Service/tiermix-router-metrics',
      'ServiceAccount/tiermix-controller',
      'ServiceAccount/tiermix-router',
    ]);
    for (const o of defaults.filter((x) => !x.kind.startsWith('Cluster'))) assert.equal(o.metadata.namespace, 'tiermix', `${o.kind}/${o.metadata.name}`);
  });
});

describe('chart: the controller', () => {
  it('serves /healthz and /readyz on its health port and /metrics on its metrics port', () => {
    const c = container(defaults, '-controller');
    const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
    assert.deepEqual(ports, { metrics: 8081, health: 8082 });
    assert.deepEqual(c.livenessProbe?.httpGet, { path: '/healthz', port: 'health' });
    assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: 'health' });
    assert.ok(c.args?.includes('--metrics-port=8081') && c.args.includes('--health-port=8082'));
    const svc = one<V1Service>(defaults, 'Service', '-controller-metrics');
    assert.deepEqual(svc.spec?.ports?.map((p) => [p.name, p.port, p.targetPort]), [['metrics', 8081, 'metrics']]);
  });

  it('reads the ConfigMap it is given with --config, and restarts when it changes', () => {
    const d = deployment(defaults, '-controller');
    const c = container(defaults, '-controller');
    assert.equal(c.args?.[0], 'controller');
    const configArg = c.args?.find((a) => a.startsWith('--config='))?.slice('--config='.length);
    assert.equal(configArg, '/etc/tiermix/controller/controller.yaml');
    const mount = c.volumeMounts?.find((m) => m.mountPath === '/etc/tiermix/controller');
    const vol = d.spec?.template.spec?.volumes?.find((v) => v.name === mount?.name);
    assert.equal(vol?.configMap?.name, 'tiermix-controller');
    const before = d.spec?.template.metadata?.annotations?.['checksum/config'];
    const changed = deployment(render({ set: ['controller.autoscalerIntervalSeconds=7'] }), '-controller');
    assert.match(before ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(changed.spec?.template.metadata?.annotations?.['checksum/config'], before);
  });

  it('runs one replica without leader election (Recreate) by default', () => {
    const d = deployment(defaults, '-controller');
    assert.equal(d.spec?.replicas, 1);
    assert.equal(d.spec?.strategy?.type, 'Recreate');
    assert.ok(!container(defaults, '-controller').args?.includes('--leader-elect'));
    assert.equal(controllerConfig(defaults).leaderElection.enabled, false);
  });

  it('switches leader election on with 2 replicas: --leader-elect, a Lease in the release namespace, rolling one at a time', () => {
    const objs = render({ set: ['controller.replicas=2'], namespace: 'infra' });
    const d = deployment(objs, '-controller');
    assert.equal(d.spec?.replicas, 2);
    assert.deepEqual(d.spec?.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    assert.ok(container(objs, '-controller').args?.includes('--leader-elect'));
    assert.ok(container(objs, '-controller').args?.includes('--identity=$(POD_NAME)'), 'the pod name identifies the leader');
    const le = controllerConfig(objs).leaderElection;
    assert.deepEqual(le, {
      enabled: true,
      leaseName: 'tiermix-controller',
      leaseNamespace: 'infra',
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
    });
    assert.ok(le.renewDeadlineSeconds < le.leaseDurationSeconds && le.retryPeriodSeconds < le.renewDeadlineSeconds);
    const env = container(objs, '-controller').env?.map((e) => e.name);
    assert.ok(env?.includes('POD_NAME') && env.includes('POD_NAMESPACE'), 'identity for the Lease');
  });
});

describe('chart: the controller configuration (ControllerConfig)', () => {
  const config = controllerConfig(defaults);

  it('has every field of the contract with the right types', () => {
    assert.equal(typeof config.defaultGpuProfile, 'string');
    assert.ok(config.gpuProfiles[config.defaultGpuProfile], 'the default profile exists');
    assert.match(config.vllmImage, /^vllm\/vllm-openai:v\d+\.\d+/);
    assert.equal(typeof config.autoscalerIntervalSeconds, 'number');
    assert.deepEqual(config.namespaces, []);
    assert.deepEqual(Object.keys(config.router).sort(), ['base', 'configMapName', 'configMapNamespace', 'metricsUrls']);
    assert.deepEqual(Object.keys(config).sort(), [
      'autoscalerIntervalSeconds', 'defaultGpuProfile', 'gpuProfiles', 'leaderElection', 'namespaces', 'router', 'vllmImage',
    ]);
  });

  it('has GPU profiles for L4, A100-80GB and H100-80GB with GPU feature discovery node selectors and GPU tolerations', () => {
    assert.deepEqual(Object.keys(config.gpuProfiles).sort(), ['nvidia-a100-80gb', 'nvidia-h100-80gb', 'nvidia-l4']);
    const products = Object.fromEntries(Object.entries(config.gpuProfiles).map(([k, p]) => [k, p.nodeSelector?.['nvidia.com/gpu.product']]));
    assert.deepEqual(products, {
      'nvidia-l4': 'NVIDIA-L4',
      'nvidia-a100-80gb': 'NVIDIA-A100-SXM4-80GB',
      'nvidia-h100-80gb': 'NVIDIA-H100-80GB-HBM3',
    });
    for (const [name, p] of Object.entries(config.gpuProfiles)) {
      assert.equal(p.resourceName, 'nvidia.com/gpu', name);
      assert.deepEqual(p.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }], name);
      assert.ok((p.memoryGiB ?? 0) >= 24, name);
    }
  });

  it('names the ConfigMap the router mounts, in the release namespace, and the headless Service for metrics', () => {
    const d = deployment(defaults, '-router');
    const c = container(defaults, '-router');
    const configArg = c.args?.find((a) => a.startsWith('--config='))?.slice('--config='.length);
    const mount = c.volumeMounts?.find((m) => configArg?.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `the router's --config (${configArg}) is inside a mounted volume`);
    assert.equal(configArg, `${mount.mountPath}/router.yaml`, 'key router.yaml');
    const vol = d.spec?.template.spec?.volumes?.find((v) => v.name === mount.name);
    assert.equal(vol?.configMap?.name, config.router.configMapName);
    assert.equal(vol?.configMap?.optional, true, 'the router pod starts before the controller has written it');
    assert.equal(config.router.configMapNamespace, 'tiermix');
    const headless = one<V1Service>(defaults, 'Service', '-router-metrics');
    assert.equal(headless.spec?.clusterIP, 'None');
    // Fully qualified: the controller resolves it with dns.resolve4, which ignores the search list.
    assert.deepEqual(config.router.metricsUrls, [`http://${headless.metadata.name}.tiermix.svc.cluster.local:8080/metrics`]);
    assert.deepEqual(controllerConfig(render({ set: ['clusterDomain=k8s.example'] })).router.metricsUrls, ['http://tiermix-router-metrics.tiermix.svc.k8s.example:8080/metrics']);
    const custom = controllerConfig(render({ set: ['router.configMapName=my-router'] }));
    assert.equal(custom.router.configMapName, 'my-router');
  });

  it("gives the router settings the router's own schema accepts, listening on all addresses on the router port", () => {
    const merged = RouterConfigSchema.parse({
      ...config.router.base,
      cascades: [{ name: 'c', tiers: [{ name: 't', model: 'm', endpoints: ['http://10.0.0.1:8000'] }] }],
    });
    assert.equal(merged.server.host, '0.0.0.0');
    assert.equal(merged.server.port, 8080);
    assert.equal(merged.server.apiKeys, undefined);
    assert.equal(merged.scaleFromZero.holdSeconds, 30);
    const c = container(defaults, '-router');
    assert.deepEqual(c.ports?.map((p) => [p.name, p.containerPort]), [['http', 8080]]);
    assert.ok(c.args?.includes('--port=8080') && c.args.includes('--host=0.0.0.0'));
  });

  it("parses with the controller's own configuration schema (controller/config) for several value sets", () => {
    const sets = [defaults, render({ set: ['controller.replicas=2'] }), render({ valuesFiles: ['values-ladder.yaml'] }), render({ set: ['router.apiKeys.enabled=true', 'router.apiKeys.existingSecret=k'] })];
    for (const objs of sets) {
      const raw = controllerConfig(objs);
      // Throws ControllerConfigError listing every bad field.
      const parsed = validateControllerConfig(raw, 'the chart');
      // Nothing was left to the controller's defaults: the chart states every setting.
      assert.deepEqual(parsed, raw);
    }
  });

  it("keeps the chart's default GPU profiles and vLLM image in step with the controller's built-in ones", () => {
    assert.deepEqual(config.gpuProfiles, BUILTIN_GPU_PROFILES);
    assert.equal(config.vllmImage, DEFAULT_VLLM_IMAGE);
  });
});

describe('chart: the router', () => {
  it('probes /healthz for liveness and /readyz for readiness on its http port (readiness configurable)', () => {
    const c = container(defaults, '-router');
    assert.deepEqual(c.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
    const loose = container(render({ set: ['router.readinessProbe.httpGet.path=/healthz'] }), '-router');
    assert.deepEqual(loose.readinessProbe?.httpGet, { path: '/healthz', port: 'http' });
  });

  it('waits for the configuration the controller writes instead of exiting while it is missing', () => {
    const c = container(defaults, '-router');
    assert.ok(c.args?.includes('--wait-for-config'), String(c.args));
    assert.ok(c.args?.includes('--config=/etc/tiermix/router/router.yaml'), String(c.args));
    const volume = deployment(defaults, '-router').spec?.template.spec?.volumes?.find((v) => v.name === 'config');
    assert.equal(volume?.configMap?.optional, true);
  });

  it('runs one router process per pod by default, and router.workers of them with --workers', () => {
    assert.ok(!container(defaults, '-router').args?.some((a) => a.startsWith('--workers')), String(container(defaults, '-router').args));
    const c = container(render({ set: ['router.workers=3'] }), '-router');
    assert.ok(c.args?.includes('--workers=3'), String(c.args));
  });

  it('runs `tiermix router` with 2 replicas behind a ClusterIP Service on port 80, rolling without losing capacity', () => {
    const d = deployment(defaults, '-router');
    assert.equal(d.spec?.replicas, 2);
    assert.deepEqual(d.spec?.strategy?.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
    assert.equal(container(defaults, '-router').args?.[0], 'router');
    const svc = one<V1Service>(defaults, 'Service', '-router');
    assert.equal(svc.spec?.type, 'ClusterIP');
    assert.deepEqual(svc.spec?.ports?.map((p) => [p.name, p.port, p.targetPort]), [['http', 80, 'http']]);
    assert.deepEqual(svc.spec?.selector, d.spec?.selector?.matchLabels);
    // Longer than the router's own shutdown grace, so requests in flight can finish.
    assert.ok((d.spec?.template.spec?.terminationGracePeriodSeconds ?? 0) > 30);
  });

  it('renders no headless metrics Service when it is switched off, and the controller then scrapes the Service', () => {
    const objs = render({ set: ['router.metricsService.enabled=false'] });
    assert.equal(objs.filter((o) => o.metadata.name.endsWith('-router-metrics')).length, 0);
    assert.deepEqual(controllerConfig(objs).router.metricsUrls, ['http://tiermix-router.tiermix.svc.cluster.local:80/metrics']);
  });
});
