// Loading what the POMDP policy needs from disk, BEFORE requests arrive: the POMDP's fitted parameters
// (pomdp.json) and, when asked for, the query classifier (manifest.json + model.onnx, one onnxruntime-node
// session). A loader is kept for the router's lifetime, so a reload that names the same unchanged folder
// reuses what is loaded (same session, no file reads); a changed folder is loaded afresh.
import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE } from '../classifier/pipeline.js';
import { OnnxQueryClassifier } from '../classifier/runtime.js';
import type { PomdpModel } from '../policy/pomdp/model.js';
import { POMDP_FILE, readPomdpParams, type PomdpParams } from '../policy/pomdp/params.js';

export const BUILTIN_PREFIX = 'builtin:';
/** router/classifier/models, from dist/router/server (built) or router/server (sources). */
const BUILTIN_DIR = fileURLToPath(new URL('../../../router/classifier/models/', import.meta.url));

/** The folder a `policy.model` value names: `builtin:<name>` or a path (relative to the working directory). */
export function resolveModelDir(spec: string, cwd = process.cwd()): string {
  if (spec.startsWith(BUILTIN_PREFIX)) {
    const name = spec.slice(BUILTIN_PREFIX.length);
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`"${spec}": a builtin model name uses letters, digits, ".", "_" or "-"`);
    return join(BUILTIN_DIR, name);
  }
  return isAbsolute(spec) ? spec : resolve(cwd, spec);
}

export interface LoadedRoutingModel {
  dir: string;
  params: PomdpParams;
  model: PomdpModel;
  /** Loaded only when some configuration asks for the classifier. */
  classifier: OnnxQueryClassifier | null;
  /** Changes when a file in the folder changes. */
  stamp: string;
}

function stampOf(dir: string): string {
  const parts = [POMDP_FILE, MANIFEST_FILE, 'model.onnx'].map((f) => {
    try {
      const st = statSync(join(dir, f));
      return `${f}:${st.size}:${st.mtimeMs}`;
    } catch {
      return `${f}:-`;
    }
  });
  return parts.join('|');
}

export class RoutingModelLoader {
  private readonly cache = new Map<string, Promise<LoadedRoutingModel>>();

  /** Load (or reuse) the folder; throws an Error whose message says what is wrong with it. */
  async load(spec: string, withClassifier: boolean): Promise<LoadedRoutingModel> {
    const dir = resolveModelDir(spec);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw new Error(`${dir} is not a folder; expected one written by tiermix train (pomdp.json, and manifest.json + model.onnx for the classifier)`);
    const stamp = stampOf(dir);
    const key = `${dir}\n${stamp}\n${withClassifier}`;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = (async () => {
        const { params, model } = readPomdpParams(dir);
        let classifier: OnnxQueryClassifier | null = null;
        if (withClassifier) {
          classifier = await OnnxQueryClassifier.load(dir);
          const a = classifier.tiers.join(',');
          const b = params.tiers.join(',');
          if (a !== b) throw new Error(`${dir}: the classifier was trained for tiers ${a}, ${POMDP_FILE} for ${b}; retrain both with tiermix train`);
        }
        return { dir, params, model, classifier, stamp };
      })();
      this.cache.set(key, hit);
      hit.catch(() => this.cache.delete(key));
      // Older versions of the same folder are no longer reachable by a new configuration.
      for (const k of this.cache.keys()) if (k !== key && k.startsWith(`${dir}\n`) && k.endsWith(`\n${withClassifier}`)) this.cache.delete(k);
    }
    return hit;
  }
}
