// The demo's serving stack on this machine: one simulator per tier and the router in front of them,
// each a child process on a free 127.0.0.1 port (port 0; the URL is read from its first log line).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readPomdpParams } from '../policy/pomdp/params.js';
import { resolveModelDir } from '../server/routing-models.js';
import { ChildProcesses, waitForOk, type ManagedChild } from './children.js';
import type { DemoPolicy, DemoTier } from './types.js';

export interface StackOptions {
  tiers: readonly DemoTier[];
  cascade: string;
  /** mmlu-pro folder, or null for the generated set. */
  dataDir: string | null;
  generatedSeed: number;
  timeScale: number;
  verifier: string;
  samples: number;
  policy: DemoPolicy;
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

/**
 * The router's policy block. The simulators run at time scale s, so the router meters s wall GPU-seconds for
 * every modelled one: the POMDP gets lambda / s, a budget x s, and (when known) its cost estimate starts at the
 * fitted occupancy seconds x s, so that the demo's flags mean modelled GPU-seconds.
 */
export function routerPolicy(policy: DemoPolicy, timeScale: number, occupancy?: { answer: readonly number[]; verify: readonly number[] }) {
  if (policy.type === 'threshold') return policy;
  const objective = 'lambda' in policy.objective ? { lambda: policy.objective.lambda / timeScale } : { gpuSecondsPerRequest: policy.objective.gpuSecondsPerRequest * timeScale };
  const { costs, ...rest } = policy;
  return {
    ...rest,
    objective,
    costs: {
      source: costs,
      // The router publishes its cost estimate every 10 modelled seconds.
      publishSeconds: 10 * timeScale,
      ...(occupancy ? { answerSeconds: occupancy.answer.map((x) => x * timeScale), verifySeconds: occupancy.verify.map((x) => x * timeScale) } : {}),
    },
  };
}

/** The fitted occupancy seconds of the demo's POMDP model, if its folder can be read (else the router will say why). */
export function fittedOccupancy(policy: DemoPolicy): { answer: number[]; verify: number[] } | undefined {
  if (policy.type !== 'pomdp') return undefined;
  try {
    return readPomdpParams(resolveModelDir(policy.model)).params.occupancySeconds;
  } catch {
    return undefined;
  }
}

/** Steady-batch GPU-seconds per call by tier name, from the policy's pomdp.json (the shipped one for threshold). */
export function modelledPrices(policy: DemoPolicy, tiers: readonly DemoTier[]): Record<string, { answer: number; verify: number }> | undefined {
  const occ = fittedOccupancy(policy.type === 'pomdp' ? policy : { type: 'pomdp', model: 'builtin:default-ladder', classifier: false, objective: { lambda: 0 }, costs: 'configured' });
  if (!occ || occ.answer.length !== tiers.length) return undefined;
  return Object.fromEntries(tiers.map((t, i) => [t.name, { answer: occ.answer[i]! * t.gpusPerReplica, verify: occ.verify[i]! * t.gpusPerReplica }]));
}

/** The router configuration for the demo (pure; tested). */
export function routerConfig(
  o: Pick<StackOptions, 'tiers' | 'cascade' | 'samples' | 'policy' | 'timeScale'>,
  urls: readonly string[],
  occupancy?: { answer: readonly number[]; verify: readonly number[] },
) {
  // Tier timeouts are wall seconds; leave room for slowed-down runs (time scale > 1).
  const requestSeconds = Math.max(120, Math.ceil(180 * o.timeScale));
  return {
    server: { host: '127.0.0.1', port: 0, shutdownGraceSeconds: 1 },
    verification: { samples: o.samples },
    policy: routerPolicy(o.policy, o.timeScale, occupancy),
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
  writeFileSync(configFile, `# Written by tiermix demo; removed when it ends.\n${stringify(routerConfig(o, sims.map((s) => s.url), fittedOccupancy(o.policy)))}`);
  o.log(`starting the router (cascade ${o.cascade}: ${o.tiers.map((t) => t.name).join(' -> ')}; config ${configFile})`);
  const router = await children.start('router', ['router', '--config', configFile, '--host', '127.0.0.1', '--port', '0'], ROUTER_URL, o.startupTimeoutMs);
  await waitForOk(`${router.url}/readyz`, router, o.startupTimeoutMs, o.signal);
  return { routerUrl: router.url, sims, router, configFile };
}
