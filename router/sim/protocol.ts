// The OpenAI-compatible wire format as vLLM speaks it: request validation, stop/max_tokens handling,
// logprobs, and the shapes of responses, stream chunks and errors. Pure functions, no HTTP.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { hashString, seededRng } from './rng.js';
import { leadingTokens } from './tokens.js';

/** vLLM's default --max-logprobs. */
export const MAX_LOGPROBS = 20;

const stop = z.union([z.string(), z.array(z.string())]).nullish();
const streamOptions = z.object({ include_usage: z.boolean().nullish() }).nullish();
const common = {
  model: z.string().min(1).nullish(),
  n: z.number().int().min(1).max(256).nullish(),
  temperature: z.number().min(0).nullish(),
  stop,
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  seed: z.number().int().nullish(),
};

// Unknown fields pass through (zod strips them), as vLLM logs and ignores them.
export const CompletionRequestSchema = z.object({
  ...common,
  prompt: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int().min(0)).min(1),
    z.array(z.array(z.number().int().min(0)).min(1)).min(1),
  ]),
  max_tokens: z.number().int().min(1).nullish(),
  logprobs: z.number().int().min(0).max(MAX_LOGPROBS).nullish(),
});

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
export const ChatRequestSchema = z.object({
  ...common,
  messages: z
    .array(z.looseObject({ role: z.string().min(1), content: z.union([z.string(), z.array(contentPart), z.null()]).optional() }))
    .min(1),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(MAX_LOGPROBS).nullish(),
});

export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;
export type ChatRequest = z.infer<typeof ChatRequestSchema>;
export type ChatMessage = ChatRequest['messages'][number];

/** One readable line per problem: `messages.0.role: Invalid input ...`. */
export function describeZodError(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}

export function messageText(m: ChatMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content)) return m.content.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

export interface FinishedText {
  text: string;
  /** Tokens in `text`; splitTokens(text) gives them one by one, for a stream or logprobs. */
  tokenCount: number;
  finishReason: 'stop' | 'length';
  /** The stop string that ended the text, as vLLM's stop_reason; null for end of sequence or length. */
  stopReason: string | null;
}

/** Cut at the first stop sequence, then at max_tokens, as vLLM's detokenizer does while generating. */
export function finishText(full: string, stops: readonly string[], maxTokens: number): FinishedText {
  let stopReason: string | null = null;
  let cut = full.length;
  for (const s of stops) {
    if (s === '') continue;
    const at = full.indexOf(s);
    if (at >= 0 && at < cut) {
      cut = at;
      stopReason = s;
    }
  }
  const text = full.slice(0, cut);
  const lead = leadingTokens(text, maxTokens);
  if (lead.end < text.length) return { text: text.slice(0, lead.end), tokenCount: lead.count, finishReason: 'length', stopReason: null };
  return { text, tokenCount: lead.count, finishReason: 'stop', stopReason };
}

export function stopList(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return typeof stop === 'string' ? [stop] : stop;
}

const ALTERNATIVES = [' the', ' a', ',', '.', ' of', ' and', ' to', ' is', ' in', ' that', ' it', ' answer', '\n', ' option', ' we', ' this', ' be', ' for', ' on', ' as', ' not'];

export interface TokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

/**
 * Plausible log-probabilities: the sampled token is the most likely, the alternatives share part of the
 * remaining mass, so probabilities stay below 1 in total. Deterministic from the text.
 */
export function tokenLogprobs(tokens: readonly string[], topK: number, salt: string): TokenLogprob[] {
  const rng = seededRng(hashString('logprobs', salt, tokens.length));
  return tokens.map((token) => {
    const p = 0.35 + 0.64 * rng() ** 0.5;
    const logprob = Math.log(p);
    const top = [{ token, logprob }];
    let rest = 1 - p;
    for (const alt of ALTERNATIVES) {
      if (top.length >= Math.max(1, topK)) break;
      if (alt === token || rng() < 0.3) continue;
      rest *= 0.3 + 0.4 * rng();
      top.push({ token: alt, logprob: Math.log(Math.min(rest, p)) });
    }
    return { token, logprob, top };
  });
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

export function completionLogprobs(lps: readonly TokenLogprob[], startOffset: number): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = startOffset;
  for (const lp of lps) {
    out.tokens.push(lp.token);
    out.token_logprobs.push(lp.logprob);
    out.top_logprobs.push(Object.fromEntries(lp.top.map((t) => [t.token, t.logprob])));
    out.text_offset.push(offset);
    offset += lp.token.length;
  }
  return out;
}

const bytesOf = (s: string) => [...Buffer.from(s, 'utf8')];

export function chatLogprobs(lps: readonly TokenLogprob[], topK: number) {
  return {
    content: lps.map((lp) => ({
      token: lp.token,
      logprob: lp.logprob,
      bytes: bytesOf(lp.token),
      top_logprobs: lp.top.slice(0, topK).map((t) => ({ token: t.token, logprob: t.logprob, bytes: bytesOf(t.token) })),
    })),
  };
}

export function newId(kind: 'cmpl' | 'chatcmpl'): string {
  return `${kind}-${randomUUID().replace(/-/g, '')}`;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/** vLLM's error body: `code` is the HTTP status as an integer, `type` the exception class name. */
export interface VllmErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

export function errorBody(status: number, message: string, param: string | null = null): VllmErrorBody {
  return { error: { message, type: ERROR_TYPES[status] ?? 'InternalServerError', param, code: status } };
}

export function sse(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}
