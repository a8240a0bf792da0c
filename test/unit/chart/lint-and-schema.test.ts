// `helm lint --strict` on the chart with every example values file, and the refusals: values.schema.json rejects
// bad values naming the field, and the templates fail with an actionable message where a schema cannot say it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHART_DIR, helm, renderError, valueArgs, withValuesFile, type RenderOptions } from './helm.js';

function lint(opts: RenderOptions): { status: number; out: string } {
  return withValuesFile(opts.values, (path) => {
    const r = helm(['lint', '--strict', CHART_DIR, ...valueArgs(opts, path)]);
    return { status: r.status, out: r.stdout + r.stderr };
  });
}

describe('helm lint --strict', () => {
  const cases: [string, RenderOptions][] = [
    ['default values', {}],
    ['values-ladder.yaml', { valuesFiles: ['values-ladder.yaml'] }],
    ['examples/values-two-tier.yaml', { valuesFiles: ['examples/values-two-tier.yaml'] }],
    ['examples/values-scale-from-zero.yaml', { valuesFiles: ['examples/values-scale-from-zero.yaml'] }],
    ['everything on', { valuesFiles: ['values-ladder.yaml'], set: ['controller.replicas=2', 'networkPolicy.enabled=true', 'monitoring.serviceMonitor.enabled=true', 'monitoring.podMonitor.enabled=true', 'router.apiKeys.enabled=true', 'router.apiKeys.existingSecret=keys'] }],
  ];
  for (const [name, opts] of cases) {
    it(`passes with ${name}`, () => {
      const r = lint(opts);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.out, /\[(WARNING|ERROR)\]/, r.out);
    });
  }

  it('fails on values the schema refuses', () => {
    const r = lint({ set: ['router.port=0'] });
    assert.notEqual(r.status, 0);
    assert.match(r.out, /router\.port: Must be greater than or equal to 1/);
  });
});

describe('values.schema.json refuses bad values and names the field', () => {
  const cases: [string, RenderOptions, RegExp][] = [
    ['a misspelt top-level key', { set: ['controler.replicas=2'] }, /\(root\): Additional property controler is not allowed/],
    ['zero controller replicas', { set: ['controller.replicas=0'] }, /controller\.replicas: Must be greater than or equal to 1/],
    ['a replica count that is not a number', { values: { router: { replicas: 'two' } } }, /router\.replicas: Invalid type\. Expected: integer, given: string/],
    ['an unknown Service type', { set: ['router.service.type=Ingress'] }, /router\.service\.type: router\.service\.type must be one of the following: "ClusterIP", "NodePort", "LoadBalancer"/],
    ['zero router workers', { set: ['router.workers=0'] }, /router\.workers: Must be greater than or equal to 1/],
    ['a port out of range', { set: ['controller.metricsPort=70000'] }, /controller\.metricsPort: Must be less than or equal to 65535/],
    ['a GPU profile without a resource name', { values: { controller: { gpuProfiles: { 'amd-mi300x': { nodeSelector: { a: 'b' } } } } } }, /controller\.gpuProfiles\.amd-mi300x: resourceName is required/],
    ['a bad extended resource name', { set: ['controller.gpuProfiles.nvidia-l4.resourceName=gpu'] }, /controller\.gpuProfiles\.nvidia-l4\.resourceName: Does not match pattern/],
    ['an unknown log level', { set: ['router.logLevel=verbose'] }, /router\.logLevel: router\.logLevel must be one of the following: "fatal"/],
    ['an unknown leader election mode', { set: ['controller.leaderElection.mode=sometimes'] }, /controller\.leaderElection\.mode: controller\.leaderElection\.mode must be one of the following: "auto", true, false/],
    ['a cascade without tiers', { values: { cascades: [{ name: 'c', spec: { tiers: [] } }] } }, /cascades\.0\.spec\.tiers: Array must have at least 1 items/],
    ['a tier name that is not a DNS label', { values: { cascades: [{ name: 'c', spec: { tiers: [{ name: 'Big_Model', model: 'm' }] } }] } }, /cascades\.0\.spec\.tiers\.0\.name: Does not match pattern/],
    ['a cascade without a spec', { values: { cascades: [{ name: 'c' }] } }, /cascades\.0: spec is required/],
    ['a bad scrape interval', { set: ['monitoring.serviceMonitor.interval=often'] }, /monitoring\.serviceMonitor\.interval: Does not match pattern/],
    ['an API key with spaces', { values: { router: { apiKeys: { enabled: true, keys: ['two words here'] } } } }, /router\.apiKeys\.keys\.0: Does not match pattern/],
  ];
  for (const [name, opts, message] of cases) {
    it(`refuses ${name}`, () => {
      const err = renderError(opts);
      assert.match(err, /values don't meet the specifications of the schema/);
      assert.match(err, message);
    });
  }
});

describe('the templates refuse what the schema cannot express, with a message that says what to do', () => {
  const cases: [string, RenderOptions, RegExp][] = [
    ['API keys on without a Secret or keys', { set: ['router.apiKeys.enabled=true'] }, /router\.apiKeys\.enabled needs router\.apiKeys\.existingSecret .* or router\.apiKeys\.keys/],
    ['a default GPU profile that does not exist', { set: ['controller.defaultGpuProfile=amd-mi300x'] }, /controller\.defaultGpuProfile "amd-mi300x" is not a key of controller\.gpuProfiles \(nvidia-a100-80gb, nvidia-h100-80gb, nvidia-l4\)/],
    ['2 controller replicas with leader election off', { set: ['controller.replicas=2', 'controller.leaderElection.mode=false'] }, /controller\.replicas > 1 needs leader election/],
    ['the router port set inside router.config', { set: ['router.config.server.port=9000'] }, /router\.config\.server\.port is set by the chart; use router\.port instead/],
    ['cascades inside router.config', { values: { router: { config: { cascades: [] } } } }, /router\.config\.cascades: the controller writes the router's cascades from ModelCascades; list cascades under `cascades:` instead/],
  ];
  for (const [name, opts, message] of cases) {
    it(`refuses ${name}`, () => {
      assert.match(renderError(opts), message);
    });
  }
});
