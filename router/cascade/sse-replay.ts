// A routed request is verified before it streams: once the cascade has chosen an answer, this turns that
// complete response into the SSE chunks an OpenAI client expects, so `stream: true` works for cascades.
import type { ApiKind } from '../api/requests.js';

interface Choice {
  index?: number;
  text?: string;
  message?: { role?: string; content?: string | null; [k: string]: unknown };
  finish_reason?: string | null;
}

/** Split text into pieces of a few words each, keeping all whitespace. */
export function textPieces(text: string, wordsPerPiece = 8): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerPiece) pieces.push(words.slice(i, i + wordsPerPiece).join(''));
  return pieces;
}

const frame = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;

export function sseFramesFromResponse(
  kind: ApiKind,
  body: Record<string, unknown>,
  opts: { includeUsage: boolean; tiermix: Record<string, unknown> },
): string[] {
  const id = typeof body.id === 'string' ? body.id : `cmpl-tiermix-${Date.now()}`;
  const created = typeof body.created === 'number' ? body.created : Math.floor(Date.now() / 1000);
  const model = body.model;
  const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const choices = (Array.isArray(body.choices) ? body.choices : []) as Choice[];
  const frames: string[] = [];
  const chunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    frame({ id, object, created, model, choices: [choice], ...extra });

  choices.forEach((c, i) => {
    const index = c.index ?? i;
    if (kind === 'chat') {
      const content = c.message?.content ?? '';
      frames.push(chunk({ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }));
      for (const piece of textPieces(content)) {
        frames.push(chunk({ index, delta: { content: piece }, logprobs: null, finish_reason: null }));
      }
    } else {
      for (const piece of textPieces(c.text ?? '')) {
        frames.push(chunk({ index, text: piece, logprobs: null, finish_reason: null }));
      }
    }
  });
  // The closing chunk of each choice carries its finish reason; the last one also says what tiermix did.
  choices.forEach((c, i) => {
    const index = c.index ?? i;
    const done = kind === 'chat'
      ? { index, delta: {}, logprobs: null, finish_reason: c.finish_reason ?? 'stop' }
      : { index, text: '', logprobs: null, finish_reason: c.finish_reason ?? 'stop' };
    frames.push(chunk(done, i === choices.length - 1 ? { tiermix: opts.tiermix } : {}));
  });
  if (opts.includeUsage && body.usage) frames.push(frame({ id, object, created, model, choices: [], usage: body.usage }));
  frames.push('data: [DONE]\n\n');
  return frames;
}
