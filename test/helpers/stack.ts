// A router in front of simulated vLLM tiers, all in this process but talking real HTTP on 127.0.0.1.
import pino from 'pino';
import OpenAI from 'openai';
import { validateConfig } from '../../router/config/load.js';
import type { RouterConfig } from '../../router/config/schema.js';
import { startRouter, type RunningRouter, type StartRouterOptions } from '../../router/server/start.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../router/sim/index.js';

export interface TierSpec {
  name: string;
  model: string;
  gpusPerReplica?: number;
  replicas?: number;
  sim?: Partial<SimulatorOptions>;
}

export const LADDER: TierSpec[] = [
  { name: 'mistral-7b', model: 'Mistral-7B-v0.1' },
  { name: 'llama-2-13b', model: 'Llama-2-13b-hf' },
  { name: 'llama-2-70b', model: 'Llama-2-70b-hf', gpusPerReplica: 4 },
];

export interface Stack {
  router: RunningRouter;
  /** sims[tier][replica] */
  sims: RunningSimulator[][];
  config: RouterConfig;
  openai: OpenAI;
  close(): Promise<void>;
}

export interface StackOptions {
  tiers?: TierSpec[];
  /** Latency multiplier for every simulator (default 0.01: fast but still ordered in time). */
  timeScale?: number;
  /** Extra top-level config (server, verification, policy, retry). */
  config?: Record<string, unknown>;
  router?: Partial<StartRouterOptions>;
  apiKey?: string;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const tiers = opts.tiers ?? LADDER;
  const sims: RunningSimulator[][] = [];
  try {
    for (const t of tiers) {
      const replicas: RunningSimulator[] = [];
      for (let r = 0; r < (t.replicas ?? 1); r++) {
        // dataDir null: the generated question set, so tests do not depend on ../shared.
        replicas.push(await startSimulator({ model: t.model, dataDir: null, timeScale: opts.timeScale ?? 0.01, seed: r + 1, ...t.sim }));
      }
      sims.push(replicas);
    }
  } catch (err) {
    await Promise.all(sims.flat().map((s) => s.close()));
    throw err;
  }
  const config = validateConfig({
    ...opts.config,
    cascades: [
      {
        name: 'ladder',
        tiers: tiers.map((t, i) => ({
          name: t.name,
          model: t.model,
          gpusPerReplica: t.gpusPerReplica ?? 1,
          endpoints: sims[i]!.map((s) => s.url),
          timeouts: { connectSeconds: 1, requestSeconds: 10 },
        })),
      },
    ],
  });
  let router: RunningRouter;
  try {
    router = await startRouter({ config, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), healthChecks: false, ...opts.router });
  } catch (err) {
    await Promise.all(sims.flat().map((s) => s.close()));
    throw err;
  }
  const openai = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: opts.apiKey ?? 'unused', maxRetries: 0, timeout: 20_000 });
  return {
    router,
    sims,
    config,
    openai,
    close: async () => {
      await router.close();
      await Promise.all(sims.flat().map((s) => s.close()));
    },
  };
}

/** POST raw bytes to the router (for bodies the SDK would never send). */
export async function postRaw(url: string, body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}
