// Progress of a phase on stderr: one line rewritten in place on a terminal, a line every few seconds
// otherwise (CI logs, pipes), and always a final line.
import type { RequestResult } from './types.js';
import { escalationsOf } from './stats.js';

export interface ProgressSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export class Progress {
  private done = 0;
  private escalations = 0;
  private errors = 0;
  private readonly started = performance.now();
  private lastPrint = this.started;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number,
    private readonly everyMs = sink.isTTY ? 100 : 5000,
  ) {}

  record(r: RequestResult): void {
    this.done++;
    if (!r.ok) this.errors++;
    this.escalations += escalationsOf(r.steps).length;
    const now = performance.now();
    if (now - this.lastPrint >= this.everyMs && this.done < this.total) {
      this.lastPrint = now;
      this.print(false);
    }
  }

  finish(): void {
    this.print(true);
  }

  line(): string {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const width = String(this.total).length;
    return (
      `${this.label}: ${String(this.done).padStart(width)}/${this.total} done, ${rate.toFixed(1)} req/s, ` +
      `${this.escalations} escalations, ${this.errors} errors, ${seconds.toFixed(0)} s`
    );
  }

  private print(final: boolean): void {
    if (this.sink.isTTY) this.sink.write(`\r\x1b[2K${this.line()}${final ? '\n' : ''}`);
    else this.sink.write(`${this.line()}\n`);
  }
}
