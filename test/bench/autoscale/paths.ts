// Which tiers a request visits: the router's policy (tiermix's POMDP, router/policy/pomdp) run by the offline
// harness (router/train) over the MMLU-Pro test split with the simulated verifier, at one lambda. Each simulated
// request replays the path of a test question drawn at random. Without the data, the path shares measured
// the same way on 2026-11-22 are used (stated in the report).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSetup } from '../../../router/train/load.js';
import { DEFAULT_VERIFIER_MODE, observe } from '../../../router/train/observe.js';
import { pomdpProvider } from '../../../router/train/extensions.js';
import { cascadeView, livePolicy } from '../../../router/train/live-adapter.js';

export const TIER_MODELS = ['Mistral-7B-v0.1', 'Llama-2-13b-hf', 'Llama-2-70b-hf'] as const;

export interface RequestPath {
  /** Tiers asked, in order. */
  asked: number[];
  /** Tiers whose answer was self-verified. */
  verified: number[];
  /** The returned answer was correct (for the accuracy of an operating point). */
  correct: boolean;
}

export interface PathSet {
  lambda: number;
  paths: RequestPath[];
  source: string;
  /** Shares of the distinct paths, e.g. {"0 v0": 0.49, "0>2 v0": 0.19}. */
  shares: Record<string, number>;
  /** Per tier: share of requests that asked it. */
  asked: number[];
  accuracy: number;
  /** Tokens: MMLU-Pro prompt (train mean) and each tier's answer (train mean of its recorded outputs). */
  promptTokens: number;
  answerTokens: number[];
}

export const pathKey = (p: { asked: number[]; verified: number[] }) => `${p.asked.join('>')} v${p.verified.join(',')}`;

/** Measured with the code below on the full data (12,032 questions, test split 2,409), seed 1, 2026-11-22. */
const MEASURED: Record<string, { shares: Record<string, number>; accuracy: number }> = {
  '0.0496': { shares: { '0 v0': 0.492, '0>1 v0': 0.156, '0>2 v0': 0.191, '0>1>2 v0': 0.162 }, accuracy: 0.3707 },
  '0.0548': { shares: { '0 v': 0.894, '0>1 v': 0.052, '0>1>2 v': 0.054 }, accuracy: 0.3088 },
};

function summarize(lambda: number, paths: RequestPath[], source: string, promptTokens: number, answerTokens: number[]): PathSet {
  const shares: Record<string, number> = {};
  const asked = [0, 0, 0];
  for (const p of paths) {
    const k = pathKey(p);
    shares[k] = (shares[k] ?? 0) + 1 / paths.length;
    for (const t of p.asked) asked[t]! += 1 / paths.length;
  }
  return { lambda, paths, source, shares, asked, accuracy: paths.filter((p) => p.correct).length / paths.length, promptTokens, answerTokens };
}

/** Paths of the POMDP at `lambda` on the test split (the data folder: TIERMIX_DATA or ../shared/data/mmlu-pro). */
export async function loadPaths(lambda: number, dataDir = process.env.TIERMIX_DATA ?? join(process.cwd(), '..', 'shared', 'data', 'mmlu-pro')): Promise<PathSet> {
  if (existsSync(join(dataDir, 'outcomes.jsonl.gz'))) {
    const setup = await loadSetup({ data: dataDir, tiers: [...TIER_MODELS] });
    const rows = observe(setup.rows, setup.tiers.map((t) => t.name), DEFAULT_VERIFIER_MODE);
    const train = rows.filter((r) => !r.test);
    const test = rows.filter((r) => r.test);
    const [fitted] = pomdpProvider([lambda]).fit({ tiers: setup.tiers, costs: setup.costs, train });
    const policy = livePolicy(fitted!.policy, cascadeView(setup.tiers));
    const paths = test.map((row): RequestPath => {
      const t = policy(row);
      return { asked: t.asked, verified: t.verified, correct: row.tiers[t.returned]!.correct };
    });
    return summarize(lambda, paths, `tiermix eval harness: POMDP lambda=${lambda} fitted on the train split, paths of the ${test.length} test questions, simulated verifier ${DEFAULT_VERIFIER_MODE.kind === 'simulated' ? 'pc=0.7,pw=0.4,kappa=2,k=8' : ''} seed 1 (${dataDir})`, setup.tokens[0]!.promptTokens, setup.tokens.map((t) => t.answerTokens));
  }
  const m = MEASURED[String(lambda)];
  if (!m) throw new Error(`no MMLU-Pro data at ${dataDir} and no recorded paths for lambda=${lambda} (recorded: ${Object.keys(MEASURED).join(', ')})`);
  // 1,000 paths in the recorded shares (deterministic order; requests draw from them at random).
  const paths: RequestPath[] = [];
  let correctLeft = Math.round(m.accuracy * 1000);
  for (const [key, share] of Object.entries(m.shares)) {
    const [a, v] = key.split(' ');
    const asked = a!.split('>').map(Number);
    const verified = v!.length > 1 ? v!.slice(1).split(',').map(Number) : [];
    for (let i = 0; i < Math.round(share * 1000); i++) paths.push({ asked, verified, correct: correctLeft-- > 0 });
  }
  return summarize(lambda, paths, `recorded path shares of the POMDP at lambda=${lambda} (measured 2026-11-22 with the harness; data not found at ${dataDir})`, 218.7, [89.1, 98.9, 97.0]);
}
