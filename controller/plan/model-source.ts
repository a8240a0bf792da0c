// Where a tier's weights come from, and what that means for the pod: the model argument vLLM gets and, for pvc://,
// a read-only volume. Hugging Face ids download into the model cache (HF_HOME) at startup.
export const MODEL_MOUNT_PATH = '/mnt/models';

export type ModelSource =
  | { kind: 'huggingface'; arg: string }
  | { kind: 'file'; arg: string }
  | { kind: 'pvc'; arg: string; claimName: string }
  /** s3:// and gs:// go to vLLM unchanged: it streams them with `--load-format runai_streamer` (set in vllm.args). */
  | { kind: 'object-store'; arg: string }
  | { kind: 'invalid'; message: string };

const HF_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export function modelSource(model: string): ModelSource {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(model)?.[1];
  const rest = scheme ? model.slice(scheme.length + 3) : model;
  switch (scheme) {
    case undefined:
    case 'hf':
      return HF_ID.test(rest) ? { kind: 'huggingface', arg: rest } : { kind: 'invalid', message: `"${model}" is not a Hugging Face id (org/name)` };
    case 'file':
      return rest.startsWith('/') && rest.length > 1 ? { kind: 'file', arg: rest } : { kind: 'invalid', message: 'file:// needs an absolute path, e.g. file:///models/llama' };
    case 'pvc': {
      const [claimName, ...path] = rest.split('/');
      if (!claimName || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(claimName)) return { kind: 'invalid', message: 'pvc:// needs a claim name: pvc://<claim>/<path inside it>' };
      const sub = path.filter((p) => p !== '').join('/');
      if (path.some((p) => p === '..')) return { kind: 'invalid', message: 'pvc:// path must not contain ".."' };
      return { kind: 'pvc', claimName, arg: sub ? `${MODEL_MOUNT_PATH}/${sub}` : MODEL_MOUNT_PATH };
    }
    case 's3':
    case 'gs':
      return rest.length > 0 ? { kind: 'object-store', arg: model } : { kind: 'invalid', message: `${scheme}:// needs a bucket and path` };
    default:
      return { kind: 'invalid', message: `unsupported scheme "${scheme}://" (use a Hugging Face id, hf://, file://, pvc://, s3:// or gs://)` };
  }
}
