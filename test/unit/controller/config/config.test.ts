import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ControllerConfigError,
  defaultControllerConfig,
  loadControllerConfigFile,
  parseControllerConfig,
} from '../../../../controller/config/load.js';
import { BUILTIN_GPU_PROFILES } from '../../../../controller/config/profiles.js';
import { DEFAULT_VLLM_IMAGE } from '../../../../controller/config/schema.js';

function problems(text: string): Record<string, string> {
  try {
    parseControllerConfig(text, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof ControllerConfigError, `expected a ControllerConfigError, got ${String(err)}`);
    return Object.fromEntries(err.problems.map((p) => [p.path, p.message]));
  }
  assert.fail('expected the configuration to be rejected');
}

test('an empty file gives every default, with the built-in GPU profiles', () => {
  const c = parseControllerConfig('');
  assert.deepEqual(Object.keys(c.gpuProfiles).sort(), ['nvidia-a100-80gb', 'nvidia-h100-80gb', 'nvidia-l4']);
  assert.equal(c.defaultGpuProfile, 'nvidia-l4');
  assert.equal(c.vllmImage, DEFAULT_VLLM_IMAGE);
  assert.deepEqual(c.router, { configMapNamespace: 'tiermix-system', configMapName: 'tiermix-router' });
  assert.deepEqual(c.namespaces, []);
  assert.deepEqual(c.leaderElection, { enabled: true, leaseName: 'tiermix-controller', leaseNamespace: 'tiermix-system', leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 });
  assert.equal(c.autoscalerIntervalSeconds, 10);
  assert.deepEqual(defaultControllerConfig(), c);
});

test('built-in profiles select the GPU product and tolerate the nvidia.com/gpu taint', () => {
  for (const [name, p] of Object.entries(BUILTIN_GPU_PROFILES)) {
    assert.equal(p.resourceName, 'nvidia.com/gpu', name);
    assert.ok(p.nodeSelector?.['nvidia.com/gpu.product'], `${name} selects nvidia.com/gpu.product`);
    assert.deepEqual(p.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }], name);
  }
  // Defaults are copies: changing one loaded configuration does not change the next.
  const a = defaultControllerConfig();
  a.gpuProfiles['nvidia-l4']!.nodeSelector!['x'] = 'y';
  assert.equal(defaultControllerConfig().gpuProfiles['nvidia-l4']!.nodeSelector!['x'], undefined);
});

test('given profiles replace the built-in ones; partial sections keep their other defaults', () => {
  const c = parseControllerConfig(`
gpuProfiles:
  t4:
    resourceName: nvidia.com/gpu
    nodeSelector: { cloud.google.com/gke-accelerator: nvidia-tesla-t4 }
    runtimeClassName: nvidia
defaultGpuProfile: t4
router:
  configMapNamespace: serving
  base: { server: { host: 0.0.0.0 } }
leaderElection: { enabled: false }
`);
  assert.deepEqual(Object.keys(c.gpuProfiles), ['t4']);
  assert.equal(c.router.configMapName, 'tiermix-router');
  assert.deepEqual(c.router.base, { server: { host: '0.0.0.0' } });
  assert.equal(c.leaderElection.enabled, false);
  assert.equal(c.leaderElection.leaseDurationSeconds, 15);
});

test('errors name the path of each bad field', () => {
  const p = problems(`
gpuProfiles:
  l4:
    resourceName: gpu
    tolerations: [{ key: nvidia.com/gpu, operator: Sometimes }]
    nodeSelctor: {}
defaultGpuProfile: h100
router: { configMapNamespace: Not_A_Namespace }
leaderElection: { leaseDurationSeconds: 5, renewDeadlineSeconds: 10 }
autoscalerIntervalSeconds: 0
`);
  assert.match(p['gpuProfiles.l4.resourceName']!, /extended resource name such as nvidia.com\/gpu/);
  assert.ok(p['gpuProfiles.l4.tolerations.0.operator']);
  assert.match(p['gpuProfiles.l4']!, /unknown field\(s\): nodeSelctor/);
  assert.match(p['router.configMapNamespace']!, /DNS-1123 label/);
  assert.match(p['leaderElection.renewDeadlineSeconds']!, /less than leaseDurationSeconds/);
  assert.ok(p['autoscalerIntervalSeconds']);
  // defaultGpuProfile is checked once the profiles parse.
  assert.match(problems('defaultGpuProfile: h100')['defaultGpuProfile']!, /"h100" is not a gpuProfiles entry \(known: nvidia-a100-80gb, nvidia-h100-80gb, nvidia-l4\)/);
});

test('YAML syntax errors and unreadable files are reported with their source', () => {
  assert.ok(problems('gpuProfiles: [unclosed')['(yaml)']);
  const dir = mkdtempSync(join(tmpdir(), 'tiermix-ctrl-config-'));
  assert.throws(() => loadControllerConfigFile(join(dir, 'missing.yaml')), (err: unknown) => err instanceof ControllerConfigError && /missing\.yaml/.test(err.message) && err.problems[0]!.path === '(file)');
  const file = join(dir, 'ok.yaml');
  writeFileSync(file, 'vllmImage: vllm/vllm-openai:latest\n');
  assert.equal(loadControllerConfigFile(file).vllmImage, 'vllm/vllm-openai:latest');
});

test('controller/config/example.yaml loads', () => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const c = loadControllerConfigFile(join(here, '../../../../../controller/config/example.yaml'));
  assert.ok(c.gpuProfiles[c.defaultGpuProfile]);
  assert.ok(Object.keys(c.gpuProfiles).length >= 3);
});
