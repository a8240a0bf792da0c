// MMLU-Pro questions and per-model outcomes (../shared/data/mmlu-pro, see its README), read by path with
// streaming gunzip so that memory stays modest; plus the prompt format and answer extraction the project
// uses with them. When the data folder is absent, generatedQuestions() stands in.
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

export { generatedQuestions, GENERATED_MODEL_ACCURACY, GENERATED_ID_BASE } from './generated-questions.js';

export const LETTERS = 'ABCDEFGHIJ';

export interface ModelOutcome {
  /** The letter the model answered, or null when none could be extracted. */
  pred: string | null;
  /** pred === gold (null counts as wrong). */
  correct: boolean;
}

export interface MmluQuestion {
  id: number;
  category: string;
  /** Original source subset ("generated" for generatedQuestions). */
  src?: string;
  question: string;
  options: string[];
  /** Gold letter A-J. */
  answer: string;
  /** Outcomes by data model name, e.g. perModel['Mistral-7B-v0.1']. */
  perModel: Record<string, ModelOutcome>;
}

export interface LoadMmluProOptions {
  /** Keep outcomes of these models only (data names or names ending in them); default all. */
  models?: readonly string[];
  /** `question_id % 5 == 0` is test, the rest train. Default all. */
  split?: 'all' | 'train' | 'test';
  categories?: readonly string[];
  /** Stop after this many questions (after filtering). */
  limit?: number;
}

export interface ModelOutput {
  pred: string | null;
  text: string;
}

export const OUTCOMES_FILE = 'outcomes.jsonl.gz';

/** The data folder from the environment (TIERMIX_DATA), if it exists. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.TIERMIX_DATA;
  return dir && existsSync(join(dir, OUTCOMES_FILE)) ? dir : undefined;
}

export function isTestSplit(questionId: number): boolean {
  return questionId % 5 === 0;
}

/** Call onRow for each JSON line of a .jsonl.gz file, streaming; return false from onRow to stop early. */
export async function readJsonLinesGz(path: string, onRow: (row: Record<string, unknown>) => boolean | void): Promise<void> {
  const input = createReadStream(path);
  const lines = createInterface({ input: input.pipe(createGunzip()), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      if (onRow(JSON.parse(line) as Record<string, unknown>) === false) break;
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/** Model names present in the data (from the pred__<model> columns). */
export async function listDataModels(dir: string): Promise<string[]> {
  let models: string[] = [];
  await readJsonLinesGz(join(dir, OUTCOMES_FILE), (row) => {
    models = Object.keys(row)
      .filter((k) => k.startsWith('pred__'))
      .map((k) => k.slice('pred__'.length));
    return false;
  });
  return models;
}

/** Match a served model name to a data model by the part after the last "/", ignoring case. */
export function resolveDataModel(dataModels: readonly string[], name: string): string | null {
  const base = name.slice(name.lastIndexOf('/') + 1).toLowerCase();
  return dataModels.find((m) => m.toLowerCase() === base) ?? null;
}

export async function loadMmluPro(dir: string, opts: LoadMmluProOptions = {}): Promise<MmluQuestion[]> {
  const path = join(dir, OUTCOMES_FILE);
  if (!existsSync(path)) throw new Error(`no ${OUTCOMES_FILE} in ${dir} (point --data or TIERMIX_DATA at the mmlu-pro folder)`);
  const split = opts.split ?? 'all';
  const categories = opts.categories ? new Set(opts.categories) : null;
  const out: MmluQuestion[] = [];
  let keep: string[] | null = null;
  await readJsonLinesGz(path, (row) => {
    if (keep === null) {
      const all = Object.keys(row).filter((k) => k.startsWith('pred__')).map((k) => k.slice(6));
      keep = opts.models ? opts.models.map((m) => resolveDataModel(all, m)).filter((m): m is string => m !== null) : all;
    }
    const id = row.question_id as number;
    if (split !== 'all' && isTestSplit(id) !== (split === 'test')) return;
    const category = String(row.category);
    if (categories && !categories.has(category)) return;
    const perModel: Record<string, ModelOutcome> = {};
    for (const m of keep) {
      const pred = (row[`pred__${m}`] as string | null | undefined) ?? null;
      perModel[m] = { pred, correct: row[`correct__${m}`] === 1 };
    }
    out.push({
      id,
      category,
      src: String(row.src),
      question: String(row.question),
      options: row.options as string[],
      answer: String(row.answer),
      perModel,
    });
    if (opts.limit !== undefined && out.length >= opts.limit) return false;
  });
  return out;
}

/** The full generated text of one model per question id (outputs/<model>.jsonl.gz). */
export async function loadModelOutputs(dir: string, model: string): Promise<Map<number, ModelOutput>> {
  const path = join(dir, 'outputs', `${model}.jsonl.gz`);
  const out = new Map<number, ModelOutput>();
  if (!existsSync(path)) return out;
  await readJsonLinesGz(path, (row) => {
    out.set(row.question_id as number, { pred: (row.pred as string | null) ?? null, text: String(row.text) });
  });
  return out;
}

/** MMLU-Pro chain-of-thought prompt for one question (zero-shot form of the dataset's 5-shot format). */
export function formatMmluPrompt(q: Pick<MmluQuestion, 'question' | 'options'>): string {
  const options = q.options.map((o, i) => `${LETTERS[i]}. ${o}`).join('\n');
  return `Question: ${q.question.trim()}\nOptions:\n${options}\nAnswer: Let's think step by step.`;
}

/**
 * The letter a model's text answers, as MMLU-Pro's evaluation extracts it: first "answer is (X)"; then
 * (mode 'mmlu-pro') the last "Answer: X"; then the last standalone capital A-J. The dataset's pred
 * columns were made with the first rule only, so mode 'strict' reproduces them exactly; the last fallback
 * also catches the article "A", so use 'strict' where agreement with the data matters.
 */
export function extractAnswerLetter(text: string, mode: 'mmlu-pro' | 'strict' = 'mmlu-pro'): string | null {
  const first = /[Aa]nswer is \(?([A-J])\)?/.exec(text);
  if (first) return first[1]!;
  if (mode === 'strict') return null;
  const colon = [...text.matchAll(/[Aa]nswer:\s*\(?([A-J])\b/g)].pop();
  if (colon) return colon[1]!;
  const standalone = [...text.matchAll(/\b([A-J])\b/g)].pop();
  return standalone ? standalone[1]! : null;
}
