// ModelCascade objects from YAML files (one or more documents each), for the local runtime, which has no API server
// to read them from. Errors name the file and document; the spec itself is checked by the planner's validateCascade.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { API_VERSION, KIND, type ModelCascade } from '../../api/types.js';

export class CascadeFileError extends Error {
  override name = 'CascadeFileError';
}

export function parseCascades(text: string, source = 'cascades'): ModelCascade[] {
  const out: ModelCascade[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    const where = `${source}, document ${i + 1}`;
    if (doc.errors.length > 0) throw new CascadeFileError(`${where}: ${doc.errors[0]!.message.split('\n')[0]}`);
    const obj = doc.toJS() as Partial<ModelCascade> | null;
    if (obj === null || obj === undefined) return; // empty document (e.g. a trailing ---)
    if (obj.apiVersion !== API_VERSION || obj.kind !== KIND) {
      throw new CascadeFileError(`${where}: expected apiVersion ${API_VERSION} and kind ${KIND}, got ${String(obj.apiVersion)} ${String(obj.kind)}`);
    }
    if (!obj.metadata?.name) throw new CascadeFileError(`${where}: metadata.name is required`);
    if (!obj.spec || typeof obj.spec !== 'object') throw new CascadeFileError(`${where}: spec is required`);
    out.push(obj as ModelCascade);
  });
  return out;
}

export function loadCascadeFile(file: string): ModelCascade[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CascadeFileError(`${file}: cannot read: ${(err as Error).message}`);
  }
  return parseCascades(text, file);
}
