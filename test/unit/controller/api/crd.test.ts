import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { crd, crdYaml, modelCascadeSchema } from '../../../../controller/api/crd.js';
import { exampleCascade } from '../../../../controller/api/example.js';
import type { ModelCascadeSpec, ModelCascadeStatus } from '../../../../controller/api/types.js';
import { CRD_CHART_PATH, repoRoot } from '../../../../controller/api/write-crd.js';
import { applyDefaults, checkSchema, schemaPaths, valuePaths, type Schema } from './schema-check.js';

/** Every optional field made required, recursively: a value of this type names every field of the TS type. */
type Full<T> = T extends (infer U)[] ? Full<U>[] : T extends object ? { [K in keyof T]-?: Full<T[K]> } : T;

const specSchema = (modelCascadeSchema.properties as Record<string, Schema>).spec!;
const statusSchema = (modelCascadeSchema.properties as Record<string, Schema>).status!;

const fullSpec: Full<ModelCascadeSpec> = {
  tiers: [
    {
      name: 'small',
      model: 'org/model',
      servedModelName: 'model',
      vllm: { image: 'vllm/vllm-openai:v0.10.0', args: ['--enable-prefix-caching'], maxModelLen: 4096, dtype: 'auto', gpuMemoryUtilization: 0.9 },
      gpusPerReplica: 1,
      gpuProfile: 'nvidia-l4',
      resources: { cpu: '4', memory: '16Gi' },
      replicas: { min: 0, max: 3 },
      autoscaling: { targetInFlightPerReplica: 8, scaleDownDelaySeconds: 120 },
      cache: { pvc: { claimName: 'cache' }, emptyDir: { sizeLimit: '10Gi' } },
      env: [
        {
          name: 'A',
          value: '1',
          valueFrom: {
            configMapKeyRef: { key: 'k', name: 'n', optional: true },
            fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' },
            fileKeyRef: { key: 'k', optional: true, path: 'p', volumeName: 'v' },
            resourceFieldRef: { containerName: 'vllm', divisor: '1', resource: 'limits.cpu' },
            secretKeyRef: { key: 'k', name: 'n', optional: false },
          },
        },
      ],
      envFrom: [{ prefix: 'X_', configMapRef: { name: 'cm', optional: true }, secretRef: { name: 's', optional: true } }],
      huggingFaceToken: { secretName: 'hf', key: 'token' },
    },
  ],
  routing: { classifier: 'none', verifier: { samples: 8, temperature: 1 }, objective: { lambda: 0.3, gpuSecondsPerRequest: 1 } },
  maxGpus: 8,
};

const fullStatus: Full<ModelCascadeStatus> = {
  observedGeneration: 1,
  tiers: [{ name: 'small', replicas: 1, readyReplicas: 1, desiredReplicas: 1, endpoints: ['http://10.0.0.1:8000'], gpuSeconds: 1.5, scalingReason: 'min' }],
  tierCount: 1,
  readyTiers: '1/1',
  gpusInUse: 1,
  gpuSeconds: 2,
  conditions: [{ type: 'Ready', status: 'True', reason: 'AllTiersReady', message: 'ok', lastTransitionTime: '2024-01-01T00:00:00Z', observedGeneration: 1 }],
};

test('the chart\'s CRD file is generated from controller/api/crd.ts and up to date', () => {
  const file = join(repoRoot(), CRD_CHART_PATH);
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    assert.fail(`${file} is missing; run: npx tsc -p . && node dist/controller/api/write-crd.js`);
  }
  assert.equal(text, crdYaml(), `${CRD_CHART_PATH} is out of date; run: npx tsc -p . && node dist/controller/api/write-crd.js`);
  assert.deepEqual(parse(text), JSON.parse(JSON.stringify(crd)));
});

test('the CRD: one served and stored version, status subresource, short names, printer columns from status', () => {
  assert.equal(crd.metadata.name, 'modelcascades.tiermix.dev');
  assert.equal(crd.spec.versions.length, 1);
  const v = crd.spec.versions[0];
  assert.deepEqual([v.name, v.served, v.storage], ['v1alpha1', true, true]);
  assert.deepEqual(v.subresources, { status: {} });
  assert.deepEqual(crd.spec.names.shortNames, ['mc', 'cascade']);
  assert.deepEqual(v.additionalPrinterColumns.map((c) => [c.name, c.jsonPath]), [
    ['Tiers', '.status.tierCount'],
    ['Ready', '.status.readyTiers'],
    ['GPUs', '.status.gpusInUse'],
    ['GPU-seconds', '.status.gpuSeconds'],
    ['Age', '.metadata.creationTimestamp'],
  ]);
  // Every printer column points at a status field the schema declares.
  for (const c of v.additionalPrinterColumns.filter((x) => x.jsonPath.startsWith('.status.'))) {
    assert.ok(schemaPaths(statusSchema).includes(c.jsonPath.slice('.status.'.length)), c.jsonPath);
  }
});

test('the schema is structural: every node has a type, defaults only where no junctor is', () => {
  const walk = (s: Schema, path: string) => {
    assert.ok(typeof s.type === 'string', `${path} has no type`);
    for (const [k, sub] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) walk(sub, `${path}.${k}`);
    if (s.items) walk(s.items as Schema, `${path}[]`);
    for (const alt of (s.oneOf ?? []) as Schema[]) assert.deepEqual(Object.keys(alt), ['required'], `${path}: oneOf may only hold required`);
  };
  walk(modelCascadeSchema, '');
});

test('the example cascade passes the schema, and so does a status the planner writes', () => {
  const mc = exampleCascade();
  assert.deepEqual(checkSchema(mc, modelCascadeSchema), []);
  assert.deepEqual(checkSchema({ ...mc, status: fullStatus }, modelCascadeSchema), []);
});

test('defaults: gpusPerReplica 1 and replicas {min 1, max 1}, partial replicas filled in', () => {
  const spec = applyDefaults({ tiers: [{ name: 'a', model: 'org/m' }, { name: 'b', model: 'org/n', replicas: { max: 3 } }] }, specSchema) as ModelCascadeSpec;
  assert.deepEqual(spec.tiers[0], { name: 'a', model: 'org/m', gpusPerReplica: 1, replicas: { min: 1, max: 1 } });
  assert.deepEqual(spec.tiers[1]!.replicas, { min: 1, max: 3 });
});

test('the schema refuses what it can express: bad tier names, 0 or 9 tiers, bad dtype, both objectives', () => {
  const bad = (spec: unknown) => checkSchema(spec, specSchema);
  assert.match(bad({ tiers: [{ name: 'Big_Tier', model: 'm' }] }).join(), /tiers\[0\]\.name: does not match/);
  assert.match(bad({ tiers: [] }).join(), /fewer than 1 items/);
  assert.match(bad({ tiers: Array.from({ length: 9 }, (_, i) => ({ name: `t${i}`, model: 'm' })) }).join(), /more than 8 items/);
  assert.match(bad({ tiers: [{ name: 'a', model: 'm', vllm: { dtype: 'int3', gpuMemoryUtilization: 0 } }] }).join(), /dtype: not one of.*gpuMemoryUtilization: below minimum/);
  assert.match(bad({ tiers: [{ name: 'a', model: 'm' }], routing: { objective: { lambda: 1, gpuSecondsPerRequest: 1 } } }).join(), /exactly one of oneOf \(matched 2\)/);
  assert.match(bad({ tiers: [{ name: 'a', model: 'm', gpusPerReplica: 1.5 }] }).join(), /gpusPerReplica: expected integer/);
});

test('TS types and schema agree on every field name (spec and status, both directions)', () => {
  const opaque = ['tiers[].env[].valueFrom'];
  const fromSchema = schemaPaths(specSchema).filter((p) => !opaque.some((o) => p.startsWith(`${o}.`))).sort();
  assert.deepEqual(valuePaths(fullSpec, '', opaque).sort(), fromSchema);
  assert.deepEqual(valuePaths(fullStatus).sort(), schemaPaths(statusSchema).sort());
});
