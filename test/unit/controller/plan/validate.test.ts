import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelCascade } from '../../../../controller/api/types.js';
import { validateCascade } from '../../../../controller/plan/index.js';
import { cascade, config } from './fixtures.js';

function problems(mutate: (mc: ModelCascade) => void): Record<string, string> {
  return Object.fromEntries(validateCascade(cascade(mutate), config).map((p) => [p.path, p.message]));
}

test('the example cascade is valid', () => {
  assert.deepEqual(validateCascade(cascade(), config), []);
});

test('cross-field and reference rules the CRD schema cannot express', () => {
  const p = problems((mc) => {
    mc.spec.tiers[0]!.replicas = { min: 3, max: 2 };
    mc.spec.tiers[1]!.gpuProfile = 'nvidia-b200';
    mc.spec.tiers[2]!.name = 'mistral-7b';
    mc.spec.routing = { objective: { lambda: 0.1, gpuSecondsPerRequest: 2 } };
  });
  assert.match(p['spec.tiers[0].replicas']!, /min \(3\) is greater than max \(2\)/);
  assert.match(p['spec.tiers[1].gpuProfile']!, /unknown GPU profile "nvidia-b200".*nvidia-a100-80gb, nvidia-h100-80gb, nvidia-l4/);
  assert.match(p['spec.tiers[2].name']!, /already the name of spec.tiers\[0\]/);
  assert.match(p['spec.routing.objective']!, /exactly one of lambda or gpuSecondsPerRequest/);
});

test('flags the controller sets are refused in vllm.args, with the field to use instead', () => {
  const p = problems((mc) => {
    mc.spec.tiers[0]!.vllm!.args = ['--enable-prefix-caching', '--tensor-parallel-size=2', '--port', '9000'];
  });
  assert.match(p['spec.tiers[0].vllm.args[1]']!, /--tensor-parallel-size is set by the controller; use gpusPerReplica/);
  assert.match(p['spec.tiers[0].vllm.args[2]']!, /--port is set by the controller/);
  assert.equal(p['spec.tiers[0].vllm.args[0]'], undefined);
});

test('names must make valid object names: DNS label tiers, <cascade>-<tier> a DNS-1035 label of <= 63 characters', () => {
  const p = problems((mc) => {
    mc.spec.tiers[0]!.name = 'Big_Tier';
    mc.metadata.name = 'a-very-long-cascade-name-for-a-test';
    mc.spec.tiers[1]!.name = 'an-equally-long-tier-name-of-forty-chars';
  });
  assert.match(p['spec.tiers[0].name']!, /DNS label/);
  assert.match(p['spec.tiers[1].name']!, /would be named "a-very-long-cascade-name-for-a-test-an-equally-long-tier-name-of-forty-chars"/);
  const dotted = problems((mc) => {
    mc.metadata.name = 'my.cascade';
  });
  assert.match(dotted['spec.tiers[0].name']!, /not a DNS-1035 label/);
});

test('schema rules are checked again (the local runtime has no API server)', () => {
  const p = problems((mc) => {
    const t = mc.spec.tiers[0]!;
    t.gpusPerReplica = 0;
    t.vllm = { dtype: 'int3', gpuMemoryUtilization: 1.5, maxModelLen: 0 };
    t.model = 'ftp://somewhere/model';
    t.resources = { memory: 'lots' };
    t.cache = { pvc: { claimName: 'x' }, emptyDir: {} };
    mc.spec.routing = { classifier: '/models/x', verifier: { samples: 100, temperature: -1 } };
    mc.spec.tiers[2]!.replicas = { min: 1, max: 2 };
    mc.spec.maxGpus = 2;
  });
  assert.match(p['spec.tiers[0].gpusPerReplica']!, /integer from 1 to 16/);
  assert.match(p['spec.tiers[0].vllm.dtype']!, /one of auto, half/);
  assert.match(p['spec.tiers[0].vllm.gpuMemoryUtilization']!, /\(0, 1\]/);
  assert.match(p['spec.tiers[0].vllm.maxModelLen']!, />= 1/);
  assert.match(p['spec.tiers[0].model']!, /unsupported scheme "ftp:\/\/"/);
  assert.match(p['spec.tiers[0].resources.memory']!, /not a quantity/);
  assert.match(p['spec.tiers[0].cache']!, /either pvc or emptyDir/);
  assert.match(p['spec.routing.verifier.samples']!, /1 to 64/);
  assert.match(p['spec.routing.verifier.temperature']!, /0 to 2/);
  assert.match(p['spec.maxGpus']!, /less than the \d+ GPUs/);
});

test('tier count: at least one, at most eight', () => {
  assert.match(problems((mc) => (mc.spec.tiers = []))['spec.tiers']!, /at least one/);
  const nine = problems((mc) => {
    mc.spec.tiers = Array.from({ length: 9 }, (_, i) => ({ name: `t${i}`, model: 'org/m', gpusPerReplica: 1, replicas: { min: 0, max: 1 } }));
    delete mc.spec.maxGpus;
  });
  assert.match(nine['spec.tiers']!, /at most 8/);
});

test('model sources: Hugging Face ids, hf://, file://, pvc://, s3:// and gs:// are accepted', () => {
  for (const model of ['mistralai/Mistral-7B-v0.1', 'gpt2', 'hf://meta-llama/Llama-2-7b-hf', 'file:///models/x', 'pvc://weights/llama', 's3://bucket/llama', 'gs://bucket/llama']) {
    const p = problems((mc) => (mc.spec.tiers[0]!.model = model));
    assert.equal(p['spec.tiers[0].model'], undefined, model);
  }
  for (const model of ['not a model', 'pvc://', 'file://relative']) {
    assert.ok(problems((mc) => (mc.spec.tiers[0]!.model = model))['spec.tiers[0].model'], model);
  }
});

test('the shipped routing model needs k=8 verifier samples on a 3-tier ladder', () => {
  const p = problems((mc) => {
    mc.spec.routing = { verifier: { samples: 4 } };
  });
  assert.match(p['spec.routing.verifier.samples']!, /fitted for 8 verifier samples.*--verify-samples 4/);
  // With its own model, or on a ladder the shipped model does not route (threshold policy), any k is fine.
  assert.deepEqual(problems((mc) => (mc.spec.routing = { classifier: '/models/k4', verifier: { samples: 4 } })), {});
  assert.deepEqual(problems((mc) => {
    mc.spec.tiers = mc.spec.tiers.slice(0, 2);
    mc.spec.routing = { verifier: { samples: 4 } };
  }), {});
});
