// The process kubelet's mapping from a tier pod (as the controller's planner builds it) to the simulator that plays
// it. Pure; no control plane.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { isTierPod, simulatorForPod } from '../k8s/vllm-sim-pod.js';
import { plannedTierPod } from './tier-pod.js';

const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];

describe('simulatorForPod', () => {
  it('plays the pod\'s model under its served name, on the pod IP and the container port', () => {
    const pod = plannedTierPod({ name: 'llama-2-13b', model: 'meta-llama/Llama-2-13b-chat-hf', servedModelName: 'llama13', vllm: { maxModelLen: 4096 } });
    const p = simulatorForPod(pod, '127.1.2.3', { timeScale: 0.1, dataDir: '/data/mmlu-pro', simulatorCommand: ['node', 'cli.js', 'sim'] })!;
    assert.equal(p.command, 'node');
    assert.deepEqual(p.args.slice(0, 2), ['cli.js', 'sim']);
    assert.equal(flag(p.args, '--model'), 'meta-llama/Llama-2-13b-chat-hf');
    assert.equal(flag(p.args, '--served-model-name'), 'llama13');
    assert.equal(flag(p.args, '--host'), '127.1.2.3');
    assert.equal(flag(p.args, '--port'), '8000');
    assert.equal(flag(p.args, '--max-model-len'), '4096');
    assert.equal(flag(p.args, '--time-scale'), '0.1');
    assert.equal(flag(p.args, '--data'), '/data/mmlu-pro');
    assert.equal(p.args.filter((a) => a === '--host').length, 1, 'one --host');
    // Readiness as the pod declares it: GET /health on the port named http, 3 failures.
    assert.deepEqual([p.container, p.port, p.path, p.failureThreshold], ['vllm', 8000, '/health', 3]);
  });

  it('without data the simulator generates questions; extra flags are passed on', () => {
    const pod = plannedTierPod({ name: 'small', model: 'org/small-7b' });
    const p = simulatorForPod(pod, '127.0.0.9', { timeScale: 1, dataDir: null, extraArgs: ['--startup-seconds', '2'] })!;
    assert.equal(flag(p.args, '--data'), 'none');
    assert.equal(flag(p.args, '--startup-seconds'), '2');
    assert.equal(flag(p.args, '--served-model-name'), 'org/small-7b');
  });

  it('runs only tier pods: labelled with cascade and tier, with a vllm container', () => {
    const pod = plannedTierPod({ name: 'small', model: 'org/small' });
    assert.equal(isTierPod(pod), true);
    const other: V1Pod = { metadata: { name: 'tiermix-controller-x', labels: { 'app.kubernetes.io/name': 'tiermix' } }, spec: { containers: [{ name: 'controller', image: 'x' }] } };
    assert.equal(isTierPod(other), false);
    assert.equal(simulatorForPod(other, '127.0.0.9', { timeScale: 1, dataDir: null }), undefined);
    const unlabelled: V1Pod = { ...pod, metadata: { ...pod.metadata, labels: {} } };
    assert.equal(isTierPod(unlabelled), false);
  });
});
