// The local runtime's entry point: ModelCascades from YAML files (watched: edit a file and the processes follow),
// run as processes, the router's configuration written to a file. `tiermix controller` (or a demo) wires it up.
import { unwatchFile, watchFile } from 'node:fs';
import type { CascadeKey } from '../hooks.js';
import { cascadeKey } from '../../plan/names.js';
import { loadCascadeFile } from './cascade-file.js';
import { LocalRuntime, type LocalRuntimeOptions } from './runtime.js';

export { LocalRuntime, findOnPath, simulatorCommand, type LocalRuntimeOptions } from './runtime.js';
export { ManualScaling } from './manual-scaling.js';
export { CascadeFileError, parseCascades } from './cascade-file.js';
export { planProcesses, groupFor, launchFor, type ProcessGroup, type ProcessState } from './process-plan.js';

export interface LocalControllerOptions extends LocalRuntimeOptions {
  /** Files with one or more ModelCascade documents. */
  cascadeFiles: string[];
  /** Poll period of the cascade files. Default 1000 ms; 0 = do not watch. */
  watchIntervalMs?: number;
}

export interface LocalController {
  runtime: LocalRuntime;
  /** Re-read every cascade file now (also done on change when watching). */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/** Reads the files (a bad first read throws: the caller shows it), applies every cascade, then follows changes. */
export async function startLocalController(opts: LocalControllerOptions): Promise<LocalController> {
  const runtime = new LocalRuntime(opts);
  let known = new Set<CascadeKey>();
  const reload = async (): Promise<void> => {
    const cascades = opts.cascadeFiles.flatMap((f) => loadCascadeFile(f));
    const keys = new Set(cascades.map(cascadeKey));
    for (const key of known) if (!keys.has(key)) await runtime.delete(key);
    for (const mc of cascades) await runtime.apply(mc);
    known = keys;
  };
  try {
    await reload();
  } catch (err) {
    await runtime.close();
    throw err;
  }
  const interval = opts.watchIntervalMs ?? 1000;
  const onChange = () => {
    reload().catch((err) => opts.log?.(`local runtime: keeping the current cascades: ${(err as Error).message}`));
  };
  if (interval > 0) for (const f of opts.cascadeFiles) watchFile(f, { interval, persistent: false }, onChange);
  return {
    runtime,
    reload,
    async stop() {
      for (const f of opts.cascadeFiles) unwatchFile(f, onChange);
      await runtime.close();
    },
  };
}
