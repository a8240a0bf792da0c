// The usual request, checked by hand. zod's safeParse of a completion request costs several microseconds,
// as much as the rest of answering one at zero latency. A request this check accepts is one zod accepts
// too, with the same values in every field the schemas know (the handler reads no others); anything the
// check is not sure of (a wrong type, token-id prompts, content parts) goes to zod, which alone words
// the errors. test/unit/sim/request-check.test.ts holds the check to the schemas.
import { MAX_LOGPROBS, type ChatRequest, type CompletionRequest } from './protocol.js';

type Body = Record<string, unknown>;

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown) => v === undefined || v === null;
const optionalInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER) =>
  absent(v) || (Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max);
const optionalBoolean = (v: unknown) => absent(v) || typeof v === 'boolean';

function commonFieldsOk(b: Body): boolean {
  return (
    (absent(b.model) || (typeof b.model === 'string' && b.model.length > 0)) &&
    optionalInt(b.n, 1, 256) &&
    (absent(b.temperature) || (typeof b.temperature === 'number' && b.temperature >= 0 && Number.isFinite(b.temperature))) &&
    (absent(b.stop) || typeof b.stop === 'string' || (Array.isArray(b.stop) && b.stop.every((s) => typeof s === 'string'))) &&
    optionalBoolean(b.stream) &&
    (absent(b.stream_options) || (isObject(b.stream_options) && optionalBoolean(b.stream_options.include_usage))) &&
    optionalInt(b.seed, Number.MIN_SAFE_INTEGER) &&
    optionalInt(b.max_tokens, 1)
  );
}

/** The body as a CompletionRequest when it plainly is one (a string or string-list prompt), else null. */
export function checkedCompletionRequest(body: unknown): CompletionRequest | null {
  if (!isObject(body) || !commonFieldsOk(body) || !optionalInt(body.logprobs, 0, MAX_LOGPROBS)) return null;
  const p = body.prompt;
  const promptOk = typeof p === 'string' || (Array.isArray(p) && p.length > 0 && p.every((s) => typeof s === 'string'));
  return promptOk ? (body as CompletionRequest) : null;
}

/** The body as a ChatRequest when it plainly is one (every message content a string or absent), else null. */
export function checkedChatRequest(body: unknown): ChatRequest | null {
  if (!isObject(body) || !commonFieldsOk(body)) return null;
  if (!optionalInt(body.max_completion_tokens, 1) || !optionalBoolean(body.logprobs) || !optionalInt(body.top_logprobs, 0, MAX_LOGPROBS)) {
    return null;
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return null;
  for (const m of messages) {
    if (!isObject(m) || typeof m.role !== 'string' || m.role === '') return null;
    if (!(m.content === undefined || m.content === null || typeof m.content === 'string')) return null;
  }
  return body as ChatRequest;
}
