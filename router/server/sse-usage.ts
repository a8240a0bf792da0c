// The token usage of a streamed pass-through. With stream_options.include_usage, vLLM (like OpenAI) sends the usage
// in the last chunk before `data: [DONE]`; the router keeps only the stream's tail to read it, not the whole answer.
import { StringDecoder } from 'node:string_decoder';

export class SseUsageTap {
  private tail = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly keepChars = 16_384) {}

  /** Feed every chunk of the stream, in order. */
  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    this.tail = this.tail.length + text.length > this.keepChars ? (this.tail + text).slice(-this.keepChars) : this.tail + text;
  }

  /** The last SSE event that carries a usage object ({usage: {...}}), or undefined. */
  usageBody(): { usage: unknown } | undefined {
    const lines = this.tail.split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!.trim();
      if (!line.startsWith('data:') || !line.includes('"usage"')) continue;
      try {
        const event = JSON.parse(line.slice(5)) as { usage?: unknown };
        if (event.usage && typeof event.usage === 'object') return { usage: event.usage };
      } catch {
        // a line cut at the start of the kept tail; an earlier one cannot be newer
        return undefined;
      }
    }
    return undefined;
  }
}
