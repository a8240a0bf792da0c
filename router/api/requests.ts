// Validation of incoming OpenAI requests. We check what the router itself relies on and the types of the
// common sampling fields, and pass every other field through to vLLM unchanged (vLLM accepts many extras).
import { z } from 'zod';
import { badRequest, type ApiError } from './errors.js';

const stop = z.union([z.string(), z.array(z.string()).max(16)]).nullish();
const sampling = {
  model: z.string({ error: 'model is required and must be a string' }).min(1, 'model must not be empty'),
  stream: z.boolean().nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  stop,
  seed: z.number().int().nullish(),
  user: z.string().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).passthrough().nullish(),
};

const textPart = z.object({ type: z.literal('text'), text: z.string() }).passthrough();
const otherPart = z.object({ type: z.string() }).passthrough();
const content = z.union([z.string(), z.array(z.union([textPart, otherPart])), z.null()]);

export const ChatMessageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
    content: content.optional(),
    name: z.string().optional(),
  })
  .passthrough();

export const ChatRequestSchema = z
  .object({
    ...sampling,
    messages: z.array(ChatMessageSchema).min(1, 'messages must contain at least one message'),
    max_completion_tokens: z.number().int().min(1).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
  })
  .passthrough();

export const CompletionRequestSchema = z
  .object({
    ...sampling,
    prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1)], {
      error: 'prompt must be a string or an array of strings',
    }),
    logprobs: z.number().int().min(0).max(20).nullish(),
    echo: z.boolean().nullish(),
  })
  .passthrough();

export type ChatMessage = z.infer<typeof ChatMessageSchema>;
export type ChatRequest = z.infer<typeof ChatRequestSchema>;
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

export type ApiKind = 'chat' | 'completion';

function firstIssue(error: z.ZodError): ApiError {
  const issue = error.issues[0]!;
  const param = issue.path.length > 0 ? issue.path.map(String).join('.') : null;
  let message = issue.message;
  if (issue.code === 'invalid_type' && param !== null && issue.input === undefined) message = `${param} is required`;
  else if (param !== null && !message.startsWith(param)) message = `${param}: ${message}`;
  return badRequest(message, param, issue.input === undefined ? 'missing_required_parameter' : 'invalid_type');
}

function requireObject(body: unknown): asserts body is Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object.', null, 'invalid_json');
  }
}

export function parseChatRequest(body: unknown): ChatRequest {
  requireObject(body);
  const r = ChatRequestSchema.safeParse(body);
  if (!r.success) throw firstIssue(r.error);
  return r.data;
}

export function parseCompletionRequest(body: unknown): CompletionRequest {
  requireObject(body);
  const r = CompletionRequestSchema.safeParse(body);
  if (!r.success) throw firstIssue(r.error);
  return r.data;
}

/** Plain text of a message's content (text parts joined; other parts such as images are skipped). */
export function messageText(m: ChatMessage): string {
  const c = m.content;
  if (c === undefined || c === null) return '';
  if (typeof c === 'string') return c;
  return c
    .map((p) => (p.type === 'text' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
    .filter((s) => s !== '')
    .join('\n');
}
