import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfigFile, parseConfig } from '../../../router/config/load.js';

const minimal = `
cascades:
  - name: default
    tiers:
      - { name: small, model: Mistral-7B-v0.1, endpoints: ["http://127.0.0.1:8001"] }
      - { name: large, model: Llama-2-70b-hf, gpusPerReplica: 4, endpoints: ["http://127.0.0.1:8003"] }
`;

function problems(text: string) {
  try {
    parseConfig(text, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, 'expected a ConfigError');
    return err.problems;
  }
  assert.fail('expected the configuration to be rejected');
}

test('a minimal configuration gets documented defaults', () => {
  const c = parseConfig(minimal);
  assert.equal(c.server.port, 8080);
  assert.equal(c.verification.samples, 8);
  assert.equal(c.verification.prompt, 'tiermix-verify-v1');
  assert.deepEqual(c.policy, { type: 'threshold', threshold: 0.5 });
  assert.equal(c.cascades[0]!.tiers[0]!.gpusPerReplica, 1);
  assert.equal(c.cascades[0]!.tiers[1]!.gpusPerReplica, 4);
  assert.equal(c.cascades[0]!.tiers[0]!.timeouts.requestSeconds, 120);
});

test('errors name the path of each bad field', () => {
  const p = problems(`
cascades:
  - name: default
    tiers:
      - name: small
        model: m
        gpusPerReplica: 0
        endpoints: ["ftp://x"]
        colour: blue
`);
  const paths = p.map((x) => x.path).sort();
  assert.deepEqual(paths, ['cascades.0.tiers.0', 'cascades.0.tiers.0.endpoints.0', 'cascades.0.tiers.0.gpusPerReplica']);
  assert.match(p.find((x) => x.path === 'cascades.0.tiers.0')!.message, /unknown field\(s\): colour/);
});

test('wrong types and missing fields are reported with paths', () => {
  const p = problems(`
server: { port: "eighty" }
verification: { samples: 0 }
cascades:
  - name: c
    tiers:
      - { name: t }
`);
  const paths = p.map((x) => x.path);
  assert.ok(paths.includes('server.port'));
  assert.ok(paths.includes('verification.samples'));
  assert.ok(paths.includes('cascades.0.tiers.0.model'));
});

test('names must be unique across cascades and tiers', () => {
  const p = problems(`
cascades:
  - name: a
    tiers: [{ name: x, model: m }, { name: a, model: m }]
  - name: b
    tiers: [{ name: x, model: m }]
`);
  assert.deepEqual(p.map((x) => x.path).sort(), ['cascades.0.tiers.1.name', 'cascades.1.tiers.0.name']);
});

test('YAML syntax errors, a missing cascades list and cascades without tiers are refused', () => {
  assert.equal(problems('cascades: [ {name: a')[0]!.path, '(yaml)');
  assert.equal(problems('verification: { samples: 8 }')[0]!.path, 'cascades');
  assert.equal(problems('cascades: [{ name: a, tiers: [] }]')[0]!.path, 'cascades.0.tiers');
});

test('zero cascades is a valid configuration (what the controller writes before any ModelCascade exists)', () => {
  const c = parseConfig('# Written by the tiermix controller\ncascades: []\nscaleFromZero: { holdSeconds: 5 }\n');
  assert.deepEqual(c.cascades, []);
  assert.equal(c.scaleFromZero.holdSeconds, 5);
});

test('an unreadable file says so, and tells a missing file apart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tiermix-config-'));
  assert.throws(() => loadConfigFile(join(dir, 'missing.yaml')), (e: unknown) => e instanceof ConfigError && e.problems[0]!.path === '(file)' && e.missing);
  assert.throws(() => loadConfigFile(dir), (e: unknown) => e instanceof ConfigError && e.problems[0]!.path === '(file)' && !e.missing);
  writeFileSync(join(dir, 'ok.yaml'), minimal);
  assert.equal(loadConfigFile(join(dir, 'ok.yaml')).cascades[0]!.name, 'default');
});
