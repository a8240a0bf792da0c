// I/O glue of `tiermix eval`: read the rows, find token counts, and price each tier with the cost model.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { countTokens } from '../sim/tokens.js';
import {
  DEFAULT_COST_SETTINGS,
  FALLBACK_ANSWER_TOKENS,
  meanPromptTokens,
  tierCost,
  tierSpec,
  type CostSettings,
  type TierCost,
  type TierSpec,
  type TierTokens,
} from './cost.js';
import { DataError, dataFilePath, forEachJsonLine, loadEvalRows, splitOfId, type EvalRow } from './rows.js';
import { applySplit, ID_SPLIT, type SplitSpec } from './split.js';

export interface EvalSetup {
  dataFile: string;
  rows: EvalRow[];
  tiers: TierSpec[];
  tokens: TierTokens[];
  /** Where each tier's answer length came from, for the output. */
  answerTokensFrom: string[];
  costs: TierCost[];
  settings: CostSettings;
}

export interface SetupOptions {
  data: string;
  /** Tier names as given (smallest first); resolved against the data's pred__ columns. */
  tiers: string[];
  gpus?: number[];
  /** Override of the per-tier mean answer length. */
  answerTokens?: number[];
  settings?: CostSettings;
  /** Which rows are train and test (default: the id rule). The cost model's token means use train rows only. */
  split?: SplitSpec;
}

/** Mean tokens of a model's recorded outputs on the train split (outputs/<model>.jsonl.gz beside the data), if present. */
export async function measureAnswerTokens(dataFile: string, model: string, isTest: (id: unknown) => boolean = (id) => splitOfId(id).test): Promise<number | null> {
  const path = join(dirname(dataFile), 'outputs', `${model}.jsonl.gz`);
  if (!existsSync(path)) return null;
  let n = 0;
  let sum = 0;
  await forEachJsonLine(path, (row) => {
    const id = row.question_id ?? row.id;
    if (typeof row.text !== 'string' || isTest(id)) return;
    sum += countTokens(row.text);
    n++;
  });
  return n === 0 ? null : sum / n;
}

export async function loadSetup(opts: SetupOptions): Promise<EvalSetup> {
  const dataFile = dataFilePath(opts.data);
  const loaded = await loadEvalRows(dataFile, opts.tiers);
  const { models } = loaded;
  const split = opts.split ?? ID_SPLIT;
  const rows = applySplit(loaded.rows, split);
  // Output lengths are measured on train rows only: by the id rule, or (held-out categories) on the rows known to be
  // train; an output whose id is not in the data has no category, so it is not counted as train.
  const trainKeys = new Set(rows.filter((r) => !r.test).map((r) => r.key));
  const isTest = split.kind === 'id' ? undefined : (id: unknown) => !trainKeys.has(splitOfId(id).key);
  if (opts.gpus && opts.gpus.length !== models.length) throw new DataError(`--gpus lists ${opts.gpus.length} values for ${models.length} tiers`);
  if (opts.answerTokens && opts.answerTokens.length !== models.length) {
    throw new DataError(`--answer-tokens lists ${opts.answerTokens.length} values for ${models.length} tiers`);
  }
  const tiers = models.map((m, i) => tierSpec(m, opts.gpus?.[i]));
  const promptTokens = meanPromptTokens(rows.filter((r) => !r.test));
  const answerTokens: number[] = [];
  const answerTokensFrom: string[] = [];
  for (const [i, m] of models.entries()) {
    const given = opts.answerTokens?.[i];
    const measured = given === undefined ? await measureAnswerTokens(dataFile, m, isTest) : null;
    answerTokens.push(given ?? measured ?? FALLBACK_ANSWER_TOKENS);
    answerTokensFrom.push(given !== undefined ? '--answer-tokens' : measured !== null ? `outputs/${m}.jsonl.gz (train mean)` : 'fallback constant');
  }
  const tokens = models.map((_, i): TierTokens => ({ promptTokens, answerTokens: answerTokens[i]! }));
  const settings = opts.settings ?? DEFAULT_COST_SETTINGS;
  return { dataFile, rows, tiers, tokens, answerTokensFrom, costs: tiers.map((t, i) => tierCost(t, tokens[i]!, settings)), settings };
}
