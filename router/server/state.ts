// Everything a request needs from the configuration, built once per (re)load and swapped atomically:
// a request captures the state current when it arrives and keeps using it, so a reload never pulls a
// tier out from under a request in flight. Tier clients whose settings did not change are carried over,
// keeping their connections and health state; the others are closed once they are idle.
import { readFileSync } from 'node:fs';
import { RouterConfigSchema, type RetryConfig, type RouterConfig, type TierConfig, type ApiKeysSchema } from '../config/schema.js';
import type { z } from 'zod';
import type { ConfigProblem } from '../config/load.js';
import type { CascadeRuntime } from '../cascade/execute.js';
import { ThresholdPolicy } from '../policy/threshold.js';
import type { CascadeRouting } from './routing.js';
import type { TierClient } from '../upstream/types.js';

/** What /readyz reports about the configuration file. */
export interface ConfigStatus {
  file?: string;
  /** A valid configuration is in force. */
  loaded: boolean;
  loadedAt: string | null;
  /** The last version that was refused (or the missing file), until a valid one is applied. */
  lastError: { at: string; problems: ConfigProblem[] } | null;
}

export type TierClientFactory = (tier: TierConfig, retry: RetryConfig) => TierClient;

export interface TierEntry {
  cascade: CascadeRuntime;
  index: number;
  tier: TierConfig;
  client: TierClient;
}

export interface RouterState {
  config: RouterConfig;
  /**
   * False only while the router waits for its first valid configuration (tiermix router --wait-for-config): the
   * state is then built from an empty configuration, and /readyz answers 503.
   */
  configured: boolean;
  /** Per cascade name: its policy and what feeds it (router/server/routing.ts), loaded before the swap. */
  routing: Map<string, CascadeRouting>;
  cascades: Map<string, CascadeRuntime>;
  tiers: Map<string, TierEntry>;
  /** Every id a request may name in `model`. */
  modelIds: string[];
  /** Accepted bearer keys; null when authentication is off. */
  apiKeys: Set<string> | null;
  /** Clients by their settings, for reuse on the next reload. */
  clientsByKey: Map<string, TierClient>;
  createdAt: number;
}

/**
 * Routing for configurations whose cascades all use the threshold policy, built synchronously (for callers
 * without a model loader). A POMDP policy needs its model loaded first: prepareRouting (routing.ts).
 */
export function thresholdRouting(config: RouterConfig): Map<string, CascadeRouting> {
  const out = new Map<string, CascadeRouting>();
  config.cascades.forEach((c, i) => {
    const p = c.policy ?? config.policy;
    if (p.type !== 'threshold') throw new Error(`${c.policy ? `cascades.${i}.policy` : 'policy'}: a pomdp policy needs its model loaded (prepareRouting) before the state is built`);
    const policy = new ThresholdPolicy(p.threshold);
    out.set(c.name, { policy, fingerprint: '', finished: () => {}, describe: () => policy.describe() });
  });
  return out;
}

export function loadApiKeys(config: z.infer<typeof ApiKeysSchema> | undefined, env: NodeJS.ProcessEnv = process.env): Set<string> | null {
  if (!config || (config.file === undefined && config.env === undefined)) return null;
  const keys = new Set<string>();
  if (config.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(config.file, 'utf8');
    } catch (err) {
      throw new Error(`server.apiKeys.file: cannot read ${config.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    for (const line of text.split('\n')) {
      const key = line.trim();
      if (key !== '' && !key.startsWith('#')) keys.add(key);
    }
  }
  if (config.env !== undefined) {
    for (const key of (env[config.env] ?? '').split(',')) if (key.trim() !== '') keys.add(key.trim());
  }
  if (keys.size === 0) {
    throw new Error('server.apiKeys is set but no key was found; add keys to the file or the environment variable, or remove server.apiKeys');
  }
  return keys;
}

const clientKey = (tier: TierConfig, retry: RetryConfig) => JSON.stringify({ tier, retry });

export function buildState(
  config: RouterConfig,
  makeClient: TierClientFactory,
  previous?: RouterState,
  env: NodeJS.ProcessEnv = process.env,
  routing: Map<string, CascadeRouting> = thresholdRouting(config),
): { state: RouterState; retired: TierClient[] } {
  const apiKeys = loadApiKeys(config.server.apiKeys, env);
  const clientsByKey = new Map<string, TierClient>();
  const cascades = new Map<string, CascadeRuntime>();
  const tiers = new Map<string, TierEntry>();

  for (const cascade of config.cascades) {
    const clients = cascade.tiers.map((tier) => {
      const key = clientKey(tier, config.retry);
      const client = clientsByKey.get(key) ?? previous?.clientsByKey.get(key) ?? makeClient(tier, config.retry);
      clientsByKey.set(key, client);
      return client;
    });
    const runtime: CascadeRuntime = {
      config: cascade,
      view: { name: cascade.name, tiers: cascade.tiers.map((t, index) => ({ index, name: t.name, gpusPerReplica: t.gpusPerReplica })) },
      clients,
    };
    cascades.set(cascade.name, runtime);
    cascade.tiers.forEach((tier, index) => tiers.set(tier.name, { cascade: runtime, index, tier, client: clients[index]! }));
  }

  const kept = new Set(clientsByKey.values());
  const retired = previous ? [...previous.clientsByKey.values()].filter((c) => !kept.has(c)) : [];
  const modelIds = [...cascades.keys(), ...tiers.keys()];
  return { state: { config, configured: true, routing, cascades, tiers, modelIds, apiKeys, clientsByKey, createdAt: Date.now() }, retired };
}

/** The state before any configuration is loaded: no cascade, no key, default server settings. */
export function unconfiguredState(): RouterState {
  const config = RouterConfigSchema.parse({ cascades: [] });
  return { ...buildState(config, () => { throw new Error('no tiers'); }, undefined, {}, new Map()).state, configured: false };
}

/** The longest a request may take on the state's tiers (bounds how long retired clients are kept). */
export function maxRequestMs(state: RouterState): number {
  return Math.max(0, ...state.config.cascades.flatMap((c) => c.tiers.map((t) => t.timeouts.requestSeconds))) * 1000;
}

/** Close clients that left the configuration once their last request has finished (bounded wait). */
export function retireWhenIdle(clients: TierClient[], maxWaitMs: number, pollMs = 100): Promise<void> {
  if (clients.length === 0) return Promise.resolve();
  const deadline = Date.now() + maxWaitMs;
  return new Promise((resolve) => {
    const check = () => {
      const busy = clients.filter((c) => c.inFlight() > 0);
      if (busy.length === 0 || Date.now() >= deadline) {
        for (const c of clients) c.close();
        resolve();
      } else setTimeout(check, pollMs).unref();
    };
    check();
  });
}
