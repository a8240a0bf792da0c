// Hot reload: poll the configuration file and hand over each new valid version. Polling the file's stat
// (rather than inotify) also follows Kubernetes ConfigMap volumes, which swap a symlink instead of writing
// the file. An invalid new version is reported and the current configuration stays in force.
import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { ConfigError, parseConfig } from './load.js';
import type { RouterConfig } from './schema.js';

export interface ConfigWatchHandlers {
  onChange(config: RouterConfig): void;
  onError(error: ConfigError): void;
}

export function watchConfigFile(file: string, handlers: ConfigWatchHandlers, intervalMs = 1000): () => void {
  const hash = (text: string) => createHash('sha256').update(text).digest('hex');
  let lastHash: string | null = null;
  try {
    lastHash = hash(readFileSync(file, 'utf8'));
  } catch {
    lastHash = null;
  }
  const check = () => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      handlers.onError(new ConfigError(file, [{ path: '(file)', message: `cannot read: ${(err as Error).message}` }]));
      return;
    }
    const h = hash(text);
    if (h === lastHash) return; // touched but not changed
    lastHash = h;
    try {
      handlers.onChange(parseConfig(text, file));
    } catch (err) {
      if (err instanceof ConfigError) handlers.onError(err);
      else handlers.onError(new ConfigError(file, [{ path: '(root)', message: (err as Error).message }]));
    }
  };
  const listener = () => check();
  watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(file, listener);
}
