// What the cascade needs from a request and a response, in plain text: the query the policy looks at, the
// context and question the verifier judges against, and the answer a tier gave.
import { badRequest } from '../api/errors.js';
import { messageText, type ApiKind, type ChatRequest, type CompletionRequest } from '../api/requests.js';

export interface RoutedQuery {
  kind: ApiKind;
  /** Text for the policy (and, later, the classifier). */
  query: string;
  /** Conversation or documents the question refers to ('' when none). */
  context: string;
  question: string;
}

export function chatQuery(req: ChatRequest): RoutedQuery {
  let lastUser = -1;
  req.messages.forEach((m, i) => {
    if (m.role === 'user') lastUser = i;
  });
  if (lastUser < 0) throw badRequest('A routed chat request needs at least one user message.', 'messages');
  const question = messageText(req.messages[lastUser]!);
  // Everything said before the last user turn (system prompt, earlier turns) is the context it is asked in.
  const context = req.messages
    .slice(0, lastUser)
    .map((m) => `${m.role}: ${messageText(m)}`)
    .filter((line) => !line.endsWith(': '))
    .join('\n');
  return { kind: 'chat', query: question, context, question };
}

export function completionQuery(req: CompletionRequest): RoutedQuery {
  const p = req.prompt;
  if (typeof p !== 'string') {
    if (p.length === 1 && typeof p[0] === 'string') return completionQuery({ ...req, prompt: p[0] });
    throw badRequest('A routed completion takes one prompt string; send batches to a tier directly.', 'prompt');
  }
  return { kind: 'completion', query: p, context: '', question: p };
}

/** The answer text of the first choice of a non-streaming response, or null if there is none. */
export function answerText(kind: ApiKind, body: unknown): string | null {
  const choice = (body as { choices?: unknown[] } | null)?.choices?.[0] as Record<string, unknown> | undefined;
  if (!choice) return null;
  if (kind === 'completion') return typeof choice.text === 'string' ? choice.text : null;
  const message = choice.message as { content?: unknown } | undefined;
  return typeof message?.content === 'string' ? message.content : null;
}
