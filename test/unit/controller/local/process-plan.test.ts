import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exampleCascade } from '../../../../controller/api/example.js';
import { defaultControllerConfig } from '../../../../controller/config/load.js';
import { planCascade, planRouterConfigMap, summarizeStatus } from '../../../../controller/plan/index.js';
import { parseCascades } from '../../../../controller/runtime/local/cascade-file.js';
import { observeCascade, type RunningProcess } from '../../../../controller/runtime/local/observe.js';
import { groupFor, launchFor, planProcesses, PORT_PLACEHOLDER, type LaunchOptions, type ProcessGroup, type ProcessState } from '../../../../controller/runtime/local/process-plan.js';
import { RouterConfigSchema } from '../../../../router/config/schema.js';
import { parse } from 'yaml';

const config = defaultControllerConfig();
const sim: LaunchOptions = { engine: 'simulator', simulatorCommand: ['node', 'main.js', 'sim'], simulatorArgs: ['--time-scale', '0'] };
const vllm: LaunchOptions = { engine: 'vllm', simulatorCommand: [] };

function group(key: string, replicas: number, hash = 'h1'): ProcessGroup {
  return { key, cascade: 'default/c', tier: key, replicas, hash, launch: { command: 'x', args: [] } };
}
function proc(id: string, g: string, opts: Partial<ProcessState> = {}): ProcessState {
  return { id, group: g, hash: 'h1', ready: true, startedAtMs: 0, ...opts };
}

test('launch: the simulator plays the planned model under its served name, on 127.0.0.1 and its own port', () => {
  const d = planCascade(exampleCascade(), config).deployments[0]!;
  assert.deepEqual(launchFor(d, sim), {
    command: 'node',
    args: ['main.js', 'sim', '--model', 'mistralai/Mistral-7B-v0.1', '--served-model-name', 'Mistral-7B-v0.1', '--host', '127.0.0.1', '--port', PORT_PLACEHOLDER, '--max-model-len', '8192', '--time-scale', '0'],
  });
});

test('launch: vllm runs the container\'s own command line, with host and port rewritten', () => {
  const d = planCascade(exampleCascade(), config).deployments[2]!;
  const l = launchFor(d, vllm);
  assert.equal(l.command, 'vllm');
  assert.deepEqual(l.args, ['serve', 'meta-llama/Llama-2-70b-hf', '--served-model-name', 'Llama-2-70b-hf', '--tensor-parallel-size', '4', '--port', PORT_PLACEHOLDER, '--host', '127.0.0.1']);
});

test('groups: key, cascade and tier from the Deployment; the hash follows the launch', () => {
  const [a, b] = planCascade(exampleCascade(), config, { 'mistral-7b': 2 }).deployments.map((d) => groupFor(d, sim));
  assert.deepEqual([a!.key, a!.cascade, a!.tier, a!.replicas], ['default/ladder-mistral-7b', 'default/ladder', 'mistral-7b', 2]);
  assert.notEqual(a!.hash, b!.hash);
  const changed = exampleCascade();
  changed.spec.tiers[0]!.vllm!.maxModelLen = 4096;
  assert.notEqual(groupFor(planCascade(changed, config).deployments[0]!, sim).hash, a!.hash);
  assert.equal(groupFor(planCascade(exampleCascade(), config, { 'mistral-7b': 3 }).deployments[0]!, sim).hash, a!.hash, 'replicas do not change the hash');
});

test('scale up starts the missing replicas; scale down stops not-ready, then newest first', () => {
  assert.deepEqual(planProcesses([group('a', 3)], [proc('a1', 'a')], 0), { start: [{ group: group('a', 3), count: 2 }], stop: [] });
  const running = [proc('a1', 'a', { startedAtMs: 1 }), proc('a2', 'a', { startedAtMs: 3 }), proc('a3', 'a', { startedAtMs: 2, ready: false })];
  assert.deepEqual(planProcesses([group('a', 1)], running, 0).stop, ['a3', 'a2']);
  assert.deepEqual(planProcesses([group('a', 0)], running, 0).stop, ['a3', 'a2', 'a1']);
});

test('processes of groups no longer planned are stopped; steady state does nothing', () => {
  assert.deepEqual(planProcesses([group('a', 1)], [proc('a1', 'a'), proc('b1', 'b')], 0), { start: [], stop: ['b1'] });
  assert.deepEqual(planProcesses([group('a', 2)], [proc('a1', 'a'), proc('a2', 'a')], 0), { start: [], stop: [] });
});

test('rollout: one outdated process at a time, only while all others are ready, never more than replicas', () => {
  const g = group('a', 2, 'h2');
  // All ready, both outdated: stop one (its replacement starts on the next pass, when there is room).
  assert.deepEqual(planProcesses([g], [proc('a1', 'a'), proc('a2', 'a', { startedAtMs: 5 })], 0), { start: [], stop: ['a2'] });
  // One outdated left and room for one: start the new one, keep the old one serving.
  assert.deepEqual(planProcesses([g], [proc('a1', 'a')], 0), { start: [{ group: g, count: 1 }], stop: [] });
  // The new one is not ready yet: do not touch the last outdated one.
  assert.deepEqual(planProcesses([g], [proc('a1', 'a'), proc('a3', 'a', { hash: 'h2', ready: false })], 0), { start: [], stop: [] });
  // Once it is ready, replace the last one.
  assert.deepEqual(planProcesses([g], [proc('a1', 'a'), proc('a3', 'a', { hash: 'h2' })], 0), { start: [], stop: ['a1'] });
  // Scaled down during a rollout: outdated ones go first.
  assert.deepEqual(planProcesses([group('a', 1, 'h2')], [proc('a1', 'a'), proc('a3', 'a', { hash: 'h2' })], 0).stop, ['a1']);
});

test('crash-loop back-off: no starts for a held group until its time', () => {
  assert.deepEqual(planProcesses([group('a', 1)], [], 1000, { a: 2000 }).start, []);
  assert.equal(planProcesses([group('a', 1)], [], 2000, { a: 2000 }).start.length, 1);
});

test('processes seen as pods: router endpoints on their own ports, status counts them', () => {
  const mc = exampleCascade();
  mc.metadata.generation = 1;
  const groups = planCascade(mc, config, { 'mistral-7b': 2, 'llama-2-70b': 1 }).deployments.map((d) => groupFor(d, sim));
  const [small, , large] = groups;
  const running: RunningProcess[] = [
    { id: 's1', group: small!.key, hash: small!.hash, port: 40001, ready: true, startedAtMs: 0 },
    { id: 's2', group: small!.key, hash: small!.hash, port: 40002, ready: false, startedAtMs: 0 },
    { id: 'l1', group: large!.key, hash: large!.hash, port: 40003, ready: true, startedAtMs: 0, stopping: true },
  ];
  const observed = observeCascade(mc, groups, running);
  const rc = RouterConfigSchema.parse(parse(planRouterConfigMap([{ mc, observed }], config).data!['router.yaml']!));
  assert.deepEqual(rc.cascades[0]!.tiers.map((t) => t.endpoints), [['http://127.0.0.1:40001'], [], []]);
  const status = summarizeStatus(mc, observed, [], {}, 0);
  assert.deepEqual(status.tiers!.map((t) => [t.name, t.replicas, t.readyReplicas, t.desiredReplicas]), [
    ['mistral-7b', 2, 1, 2],
    ['llama-2-13b', 0, 0, 1],
    ['llama-2-70b', 0, 0, 1],
  ]);
});

test('cascade files: several documents, clear errors for the wrong kind or a missing name', () => {
  const two = parseCascades(`apiVersion: tiermix.dev/v1alpha1
kind: ModelCascade
metadata: { name: a }
spec: { tiers: [{ name: t, model: org/m }] }
---
apiVersion: tiermix.dev/v1alpha1
kind: ModelCascade
metadata: { name: b, namespace: x }
spec: { tiers: [{ name: t, model: org/m }] }
---
`);
  assert.deepEqual(two.map((m) => m.metadata.name), ['a', 'b']);
  assert.throws(() => parseCascades('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n', 'f.yaml'), /f\.yaml, document 1: expected apiVersion tiermix.dev\/v1alpha1 and kind ModelCascade/);
  assert.throws(() => parseCascades('apiVersion: tiermix.dev/v1alpha1\nkind: ModelCascade\nspec: {}\n'), /metadata.name is required/);
  assert.throws(() => parseCascades('a: [b\n'), /document 1/);
});
