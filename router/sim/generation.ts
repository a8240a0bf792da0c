// POST /v1/completions and /v1/chat/completions: validate, decide the texts, run every sample as a
// sequence in the engine, and answer as one JSON body or as an SSE stream at the modelled token times.
// It takes the parsed body and node's response, so that both express and the plain node:http route in
// front of it (fast-route.ts) can call it.
import type { ServerResponse } from 'node:http';
import { VERIFY_PROMPT_PREFIX } from '../verify/prompt.js';
import type { Engine, SequenceHandle } from './engine.js';
import { sendJson } from '../server/send-json.js';
import {
  chatLogprobs,
  ChatRequestSchema,
  completionLogprobs,
  CompletionRequestSchema,
  describeZodError,
  errorBody,
  finishText,
  messageText,
  newId,
  sse,
  stopList,
  tokenLogprobs,
  usage,
  type ChatRequest,
  type CompletionRequest,
  type FinishedText,
  type TokenLogprob,
} from './protocol.js';
import { checkedChatRequest, checkedCompletionRequest } from './request-check.js';
import type { AnswerSource, Responder } from './responder.js';
import { prefixAwareTokenCounter, splitTokens } from './tokens.js';

export type Endpoint = 'completion' | 'chat';

export interface GenerationContext {
  servedModelName: string;
  maxModelLen: number;
  maxWaiting: number;
  engine: Engine;
  responder: Responder;
}

/** vLLM's default max_tokens for /v1/completions (the OpenAI default). */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;
/** Approximate chat-template overhead: role markers per message and the assistant header. */
const CHAT_TOKENS_PER_MESSAGE = 4;
const CHAT_TOKENS_PER_REPLY = 2;

/** Prompt tokens; the router's self-verification prompts share their first 2 KB, counted once. */
const countPromptTokens = prefixAwareTokenCounter(VERIFY_PROMPT_PREFIX);

interface Job {
  /** What the responder reads (a prompt, or the last user message). */
  text: string;
  promptTokens: number;
}

interface Choice extends FinishedText {
  index: number;
  promptTokens: number;
  logprobs: TokenLogprob[] | null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

function completionJobs(prompt: string | string[] | number[] | number[][]): Job[] {
  const ids = (list: number[]): Job => ({ text: `token-ids:${list.join(',')}`, promptTokens: list.length });
  if (typeof prompt === 'string') return [{ text: prompt, promptTokens: countPromptTokens(prompt) }];
  if (prompt.every((p) => typeof p === 'string')) return (prompt as string[]).map((p) => ({ text: p, promptTokens: countPromptTokens(p) }));
  if (prompt.every((p) => typeof p === 'number')) return [ids(prompt as number[])];
  return (prompt as number[][]).map(ids);
}

/** Answer one generation request; throws only what is not the request's fault (a bug). */
export async function handleGeneration(endpoint: Endpoint, ctx: GenerationContext, body: unknown, res: ServerResponse): Promise<void> {
  try {
    await generate(endpoint, ctx, body, res);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    sendJson(res, err.status, errorBody(err.status, err.message, err.param));
  }
}

/** The checked request: by hand when it is plainly valid, else by zod (whose messages name the fields). */
function parseRequest(endpoint: Endpoint, body: unknown): CompletionRequest | ChatRequest {
  const checked = endpoint === 'chat' ? checkedChatRequest(body) : checkedCompletionRequest(body);
  if (checked) return checked;
  const parsed = (endpoint === 'chat' ? ChatRequestSchema : CompletionRequestSchema).safeParse(body ?? {});
  if (!parsed.success) throw new HttpError(400, describeZodError(parsed.error));
  return parsed.data;
}

async function generate(endpoint: Endpoint, ctx: GenerationContext, body: unknown, res: ServerResponse): Promise<void> {
  const r = parseRequest(endpoint, body);
  if (r.model && r.model !== ctx.servedModelName) throw new HttpError(404, `The model \`${r.model}\` does not exist.`, 'model');

  let jobs: Job[];
  let requested: number | null;
  let topK: number | null = null;
  if (endpoint === 'chat') {
    const c = r as ChatRequest;
    const lastUser = [...c.messages].reverse().find((m) => m.role === 'user') ?? c.messages[c.messages.length - 1]!;
    const promptTokens =
      c.messages.reduce((sum, m) => sum + countPromptTokens(messageText(m)) + CHAT_TOKENS_PER_MESSAGE, 0) + CHAT_TOKENS_PER_REPLY;
    jobs = [{ text: messageText(lastUser), promptTokens }];
    requested = c.max_completion_tokens ?? c.max_tokens ?? null;
    if ((c.top_logprobs ?? 0) > 0 && !c.logprobs) throw new HttpError(400, 'when using `top_logprobs`, `logprobs` must be set to true.', 'top_logprobs');
    if (c.logprobs) topK = c.top_logprobs ?? 0;
  } else {
    const c = r as CompletionRequest;
    jobs = completionJobs(c.prompt);
    requested = c.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS;
    topK = c.logprobs ?? null;
  }

  const n = r.n ?? 1;
  const temperature = r.temperature ?? 1;
  const stops = stopList(r.stop);
  const choices: Choice[] = [];
  const sources = new Set<AnswerSource>();
  for (const [ji, job] of jobs.entries()) {
    const maxTokens = requested ?? ctx.maxModelLen - job.promptTokens;
    if (job.promptTokens + maxTokens > ctx.maxModelLen || maxTokens < 1) {
      throw new HttpError(
        400,
        `This model's maximum context length is ${ctx.maxModelLen} tokens. However, you requested ${job.promptTokens + maxTokens} tokens ` +
          `(${job.promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
      );
    }
    const samples = ctx.responder.respond({ prompt: job.text, style: endpoint, n, temperature, seed: r.seed ?? null });
    sources.add(samples.source);
    samples.texts.forEach((full, i) => {
      const finished = finishText(full, stops, maxTokens);
      const logprobs = topK === null ? null : tokenLogprobs(splitTokens(finished.text), topK, `${job.text}|${i}`);
      // Field by field: object spread is slow in node 20 (~3 µs here, per choice).
      const { text, tokenCount, finishReason, stopReason } = finished;
      choices.push({ text, tokenCount, finishReason, stopReason, index: ji * n + i, promptTokens: job.promptTokens, logprobs });
    });
  }

  if (!ctx.engine.hasRoomFor(choices.length)) {
    throw new HttpError(503, `The server is overloaded: the waiting queue is full (--max-waiting ${ctx.maxWaiting}). Retry later.`);
  }
  res.setHeader('x-tiermix-sim-source', [...sources].join(','));
  const promptTokens = jobs.reduce((s, j) => s + j.promptTokens, 0);
  const completionTokens = choices.reduce((s, c) => s + c.tokenCount, 0);
  const head = { id: newId(endpoint === 'chat' ? 'chatcmpl' : 'cmpl'), created: Math.floor(Date.now() / 1000), model: ctx.servedModelName };

  if (r.stream) {
    streamChoices(endpoint, ctx, res, choices, head, r.stream_options?.include_usage === true, topK ?? 0, usage(promptTokens, completionTokens));
    return;
  }
  const finished = await runChoices(ctx, res, choices, {});
  if (!finished) return;
  // Fields written out rather than spread from `head`: object spread is slow in node 20 (~3 µs).
  sendJson(res, 200, {
    id: head.id,
    created: head.created,
    model: head.model,
    object: endpoint === 'chat' ? 'chat.completion' : 'text_completion',
    choices: choices.map((c) =>
      endpoint === 'chat'
        ? {
            index: c.index,
            message: { role: 'assistant', content: c.text, tool_calls: [] },
            logprobs: c.logprobs ? chatLogprobs(c.logprobs, topK ?? 0) : null,
            finish_reason: c.finishReason,
            stop_reason: c.stopReason,
          }
        : {
            index: c.index,
            text: c.text,
            logprobs: c.logprobs ? completionLogprobs(c.logprobs, 0) : null,
            finish_reason: c.finishReason,
            stop_reason: c.stopReason,
          },
    ),
    usage: usage(promptTokens, completionTokens),
  });
}

interface ChoiceHooks {
  onToken?(choice: Choice, index: number): void;
  onChoiceDone?(choice: Choice): void;
}

/** Run every choice as an engine sequence; resolves true when all finish, false if the client left. */
function runChoices(ctx: GenerationContext, res: ServerResponse, choices: Choice[], hooks: ChoiceHooks): Promise<boolean> {
  return new Promise((resolve) => {
    let remaining = choices.length;
    const handles: SequenceHandle[] = [];
    const { onToken, onChoiceDone } = hooks;
    for (const choice of choices) {
      handles.push(
        ctx.engine.submit(
          { promptTokens: choice.promptTokens, outputTokens: choice.tokenCount, finishReason: choice.finishReason },
          {
            // Only a stream listens to single tokens; without a listener the engine skips the per-token calls.
            onToken: onToken ? (i: number) => onToken(choice, i) : undefined,
            onFinished: () => {
              onChoiceDone?.(choice);
              if (--remaining === 0) resolve(true);
            },
          },
        ),
      );
    }
    // At zero latency every sequence has finished by now; otherwise a client that leaves frees them.
    if (remaining === 0) return;
    res.on('close', () => {
      if (remaining === 0) return;
      remaining = -1; // the client went away: free every sequence, answer nothing
      for (const h of handles) h.cancel();
      resolve(false);
    });
  });
}

function streamChoices(
  endpoint: Endpoint,
  ctx: GenerationContext,
  res: ServerResponse,
  choices: Choice[],
  head: { id: string; created: number; model: string },
  includeUsage: boolean,
  topK: number,
  totals: ReturnType<typeof usage>,
): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache');
  res.flushHeaders();
  const object = endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const write = (choice: Record<string, unknown>) =>
    res.write(sse({ ...head, object, choices: [choice], ...(includeUsage ? { usage: null } : {}) }));
  const offsets = new Map<Choice, number>();
  if (endpoint === 'chat') {
    for (const c of choices) write({ index: c.index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });
  }
  const piece = (c: Choice, text: string, lp: TokenLogprob | undefined, last: boolean) => {
    const offset = offsets.get(c) ?? 0;
    offsets.set(c, offset + text.length);
    const finish = last ? { finish_reason: c.finishReason, stop_reason: c.stopReason } : { finish_reason: null };
    if (endpoint === 'chat') {
      write({ index: c.index, delta: { content: text }, logprobs: lp ? chatLogprobs([lp], topK) : null, ...finish });
    } else {
      write({ index: c.index, text, logprobs: lp ? completionLogprobs([lp], offset) : null, ...finish });
    }
  };
  const pieces = new Map(choices.map((c) => [c, splitTokens(c.text)]));
  void runChoices(ctx, res, choices, {
    onToken: (c, i) => piece(c, pieces.get(c)![i]!, c.logprobs?.[i], i === c.tokenCount - 1),
    onChoiceDone: (c) => {
      if (c.tokenCount === 0) piece(c, '', undefined, true);
    },
  }).then((finished) => {
    if (!finished) return;
    if (includeUsage) res.write(sse({ ...head, object, choices: [], usage: totals }));
    res.end(sse('[DONE]'));
  });
}
