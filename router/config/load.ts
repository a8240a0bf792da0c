// Reading the router configuration: YAML text -> validated RouterConfig, or an error that lists every
// problem with the path of the field it is about (e.g. `cascades.0.tiers.1.gpusPerReplica`).
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { RouterConfigSchema, type RouterConfig } from './schema.js';

export interface ConfigProblem {
  /** Dotted path of the field, or "(root)". */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  /** The file does not exist (rather than being unreadable or invalid). */
  missing = false;

  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`invalid configuration in ${source}:\n` + problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

function problemsFromZod(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
    return { path: formatPath(issue.path), message };
  });
}

/** Validate an already-parsed object (from YAML, JSON or code). */
export function validateConfig(raw: unknown, source = 'configuration'): RouterConfig {
  const result = RouterConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(source, problemsFromZod(result.error));
  return result.data;
}

/** Parse YAML text and validate it. */
export function parseConfig(text: string, source = 'configuration'): RouterConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  return validateConfig(doc.toJS(), source);
}

/** The file's text; a missing or unreadable file is a ConfigError at path "(file)" (`missing` tells which). */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const error = new ConfigError(file, [{ path: '(file)', message: `cannot read: ${(err as Error).message}` }]);
    error.missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw error;
  }
}

export function loadConfigFile(file: string): RouterConfig {
  return parseConfig(readConfigText(file), file);
}
