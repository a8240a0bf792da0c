// The demo's serving stack on this machine: one simulator per tier and the router in front of them,
// each a child process on a free 127.0.0.1 port (port 0; the URL is read from its first log line).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ChildProcesses, waitForOk, type ManagedChild } from './children.js';
import type { DemoTier } from './types.js';

export interface StackOptions {
  tiers: readonly DemoTier[];
  cascade: string;
  /** mmlu-pro folder, or null for the generated set. */
  dataDir: string | null;
  generatedSeed: number;
  timeScale: number;
  verifier: string;
  samples: number;
  threshold: number;
  startupTimeoutMs: number;
  /** Temporary folder for the router configuration (the caller removes it). */
  workDir: string;
  signal?: AbortSignal;
  /** Status lines (stderr in the CLI). */
  log: (line: string) => void;
}

export interface Stack {
  routerUrl: string;
  sims: ManagedChild[];
  router: ManagedChild;
  configFile: string;
}

/** The router configuration for the demo (pure; tested). */
export function routerConfig(o: Pick<StackOptions, 'tiers' | 'cascade' | 'samples' | 'threshold' | 'timeScale'>, urls: readonly string[]) {
  // Tier timeouts are wall seconds; leave room for slowed-down runs (time scale > 1).
  const requestSeconds = Math.max(120, Math.ceil(180 * o.timeScale));
  return {
    server: { host: '127.0.0.1', port: 0, shutdownGraceSeconds: 1 },
    verification: { samples: o.samples },
    policy: { type: 'threshold', threshold: o.threshold },
    cascades: [
      {
        name: o.cascade,
        tiers: o.tiers.map((t, i) => ({
          name: t.name,
          model: t.model,
          gpusPerReplica: t.gpusPerReplica,
          endpoints: [urls[i]!],
          timeouts: { connectSeconds: 2, requestSeconds },
        })),
      },
    ],
  };
}

const SIM_URL = /listening on (http:\/\/[^"\s]+)/;
const ROUTER_URL = /"url":"(http:\/\/[^"]+)".*tiermix router listening/;

/**
 * Start the stack into `children` (the caller stops them, also on failure). Resolves once every
 * simulator answers /health and the router answers /readyz.
 */
export async function startStack(o: StackOptions, children: ChildProcesses): Promise<Stack> {
  const data = o.dataDir ?? 'none';
  o.log(`starting ${o.tiers.length} simulated tiers (${o.tiers.map((t) => `${t.name}: ${t.model}`).join(', ')})`);
  const sims = await Promise.all(
    o.tiers.map((t) =>
      children.start(
        `simulator ${t.name}`,
        [
          'sim', '--model', t.model, '--data', data, '--generated-seed', String(o.generatedSeed), '--time-scale', String(o.timeScale),
          '--verifier', o.verifier, '--host', '127.0.0.1', '--port', '0',
        ],
        SIM_URL,
        o.startupTimeoutMs,
      ),
    ),
  );
  await Promise.all(sims.map((s) => waitForOk(`${s.url}/health`, s, o.startupTimeoutMs, o.signal)));

  const configFile = join(o.workDir, 'router.yaml');
  writeFileSync(configFile, `# Written by tiermix demo; removed when it ends.\n${stringify(routerConfig(o, sims.map((s) => s.url)))}`);
  o.log(`starting the router (cascade ${o.cascade}: ${o.tiers.map((t) => t.name).join(' -> ')}; config ${configFile})`);
  const router = await children.start('router', ['router', '--config', configFile, '--host', '127.0.0.1', '--port', '0'], ROUTER_URL, o.startupTimeoutMs);
  await waitForOk(`${router.url}/readyz`, router, o.startupTimeoutMs, o.signal);
  return { routerUrl: router.url, sims, router, configFile };
}
