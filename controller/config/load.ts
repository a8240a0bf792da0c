// Reading the controller configuration: YAML text -> validated ControllerConfig with defaults, or an error that lists
// every problem with the path of its field (e.g. gpuProfiles.nvidia-l4.tolerations.0.effect).
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ControllerConfigSchema } from './schema.js';
import type { ControllerConfig } from './types.js';

export interface ControllerConfigProblem {
  /** Dotted path of the field, or "(root)", "(yaml)", "(file)". */
  path: string;
  message: string;
}

export class ControllerConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: ControllerConfigProblem[],
  ) {
    super(`invalid controller configuration in ${source}:\n` + problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n'));
    this.name = 'ControllerConfigError';
  }
}

function problemsFromZod(error: z.ZodError): ControllerConfigProblem[] {
  return error.issues.map((issue) => ({
    path: issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
}

/** Validate an already-parsed object; undefined or null means "all defaults". */
export function validateControllerConfig(raw: unknown, source = 'controller configuration'): ControllerConfig {
  const result = ControllerConfigSchema.safeParse(raw ?? {});
  if (!result.success) throw new ControllerConfigError(source, problemsFromZod(result.error));
  return result.data as ControllerConfig;
}

export function parseControllerConfig(text: string, source = 'controller configuration'): ControllerConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ControllerConfigError(source, doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message })));
  }
  return validateControllerConfig(doc.toJS(), source);
}

export function loadControllerConfigFile(file: string): ControllerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ControllerConfigError(file, [{ path: '(file)', message: `cannot read: ${(err as Error).message}` }]);
  }
  return parseControllerConfig(text, file);
}

/** All defaults (built-in GPU profiles, default image, router ConfigMap tiermix-system/tiermix-router). */
export function defaultControllerConfig(): ControllerConfig {
  return validateControllerConfig({});
}
