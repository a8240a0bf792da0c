// The configuration file watcher: a new valid version is handed over, an invalid one reported; a file the caller
// has not seen yet (it was missing at start, or written since) is not missed.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ConfigError } from '../../../router/config/load.js';
import type { RouterConfig } from '../../../router/config/schema.js';
import { watchConfigFile } from '../../../router/config/watch.js';

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

function collect() {
  const changes: RouterConfig[] = [];
  const errors: ConfigError[] = [];
  return { changes, errors, handlers: { onChange: (c: RouterConfig) => changes.push(c), onError: (e: ConfigError) => errors.push(e) } };
}

/** Write the way a ConfigMap volume does: a new file renamed over the old name. */
function atomicWrite(file: string, text: string) {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

test('a file missing at start (knownText null) is applied once it appears; nothing is reported while it is missing', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tiermix-watch-')), 'router.yaml');
  const c = collect();
  const stop = watchConfigFile(file, c.handlers, 20, null);
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([c.changes.length, c.errors.length], [0, 0]);
    atomicWrite(file, 'cascades: []\n');
    await until(() => c.changes.length === 1);
    assert.deepEqual(c.changes[0]!.cascades, []);
    atomicWrite(file, 'cascades: [{ name: broken, tiers: [] }]\n');
    await until(() => c.errors.length === 1);
    assert.equal(c.errors[0]!.problems[0]!.path, 'cascades.0.tiers');
  } finally {
    stop();
  }
});

test('a file written between the caller reading it and the watch starting is applied at once', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tiermix-watch-')), 'router.yaml');
  atomicWrite(file, 'cascades: []\nscaleFromZero: { holdSeconds: 7 }\n');
  const c = collect();
  // The caller saw no file (null) or an older text: either way the current file is applied right away.
  const stop = watchConfigFile(file, c.handlers, 60_000, 'cascades: []\n');
  try {
    await until(() => c.changes.length === 1);
    assert.equal(c.changes[0]!.scaleFromZero.holdSeconds, 7);
  } finally {
    stop();
  }
  // The text the caller already applied is not applied twice.
  const d = collect();
  const stop2 = watchConfigFile(file, d.handlers, 60_000, 'cascades: []\nscaleFromZero: { holdSeconds: 7 }\n');
  await new Promise((r) => setTimeout(r, 50));
  stop2();
  assert.deepEqual([d.changes.length, d.errors.length], [0, 0]);
});
