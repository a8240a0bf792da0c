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

/**
 * @param knownText the file's text the caller has already seen (applied or refused), or null when it found no file:
 *   the file is then checked at once, so a version written since is not missed. Default: the file as it is now.
 */
export function watchConfigFile(file: string, handlers: ConfigWatchHandlers, intervalMs = 1000, knownText?: string | null): () => void {
  const hash = (text: string) => createHash('sha256').update(text).digest('hex');
  let lastHash: string | null = null;
  if (knownText !== undefined) {
    lastHash = knownText === null ? null : hash(knownText);
  } else {
    try {
      lastHash = hash(readFileSync(file, 'utf8'));
    } catch {
      lastHash = null;
    }
  }
  const check = () => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      // Still no file, and there never was one: nothing has changed (watchFile calls once with zeroed stats).
      if (lastHash === null && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
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
  if (knownText !== undefined) queueMicrotask(check);
  return () => unwatchFile(file, listener);
}
