// A continuous-batching scheduler in the manner of vLLM's: up to max-num-seqs sequences run at once, the
// rest wait in FIFO order; a sequence is admitted when a slot is free and the KV cache has room for its
// prompt. Each running sequence produces its tokens at the times the latency model gives for the batch
// size at that moment. The clock is injected so tests can drive time by hand.
import { interTokenMs, prefillMs, type LatencyProfile, type StepContext } from './latency.js';

export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export type FinishReason = 'stop' | 'length';

export interface SequenceSpec {
  promptTokens: number;
  /** Tokens of text this sequence returns (0 is allowed: it still takes one engine step). */
  outputTokens: number;
  /** Reported in vllm:request_success_total when the sequence completes. */
  finishReason: FinishReason;
}

export interface SequenceObserver {
  /** Left the waiting queue after `queueMs`. */
  onAdmitted?(queueMs: number): void;
  /** Output token `index` (0-based) is ready to send. */
  onToken?(index: number): void;
  /** Every token delivered. Not called after cancel(). */
  onFinished(): void;
}

/** Observations for the Prometheus metrics (seconds of wall time). */
export interface EngineEvents {
  onAdmitted?(queueSeconds: number, promptTokens: number): void;
  onFirstToken?(ttftSeconds: number): void;
  /** `times` equal inter-token latencies at once (1 if not given). */
  onInterToken?(seconds: number, times?: number): void;
  onGeneratedTokens?(count: number): void;
  onFinished?(e2eSeconds: number, reason: FinishReason | 'abort'): void;
}

export interface EngineSettings {
  profile: LatencyProfile;
  maxNumSeqs: number;
  /** Longest allowed waiting queue (Infinity = unbounded). */
  maxWaiting: number;
  kvCapacityTokens: number;
  timeScale: number;
  /** Read at every step, so that a fault injected at runtime applies at once. */
  slowFactor: () => number;
}

export interface EngineStats {
  running: number;
  waiting: number;
  kvTokens: number;
  /** 0..1 */
  kvUsage: number;
}

export interface SequenceHandle {
  cancel(): void;
}

interface Sequence {
  spec: SequenceSpec;
  observer: SequenceObserver;
  arrivedAt: number;
  admittedAt: number;
  steps: number;
  emitted: number;
  /** Engine time at which the next token is produced. */
  nextAt: number;
  lastAt: number;
  timer: TimerHandle | null;
  state: 'waiting' | 'running' | 'done';
}

export class QueueFullError extends Error {
  constructor(readonly maxWaiting: number) {
    super(`The waiting queue is full (${maxWaiting} sequences).`);
    this.name = 'QueueFullError';
  }
}

/** The handle of a sequence that finished within submit(): nothing left to cancel. */
const FINISHED: SequenceHandle = { cancel: () => {} };

export class Engine {
  private readonly running = new Set<Sequence>();
  private readonly waiting: Sequence[] = [];
  private kvTokens = 0;

  constructor(
    private readonly settings: EngineSettings,
    private readonly clock: Clock = realClock,
    private readonly events: EngineEvents = {},
  ) {}

  stats(): EngineStats {
    return {
      running: this.running.size,
      waiting: this.waiting.length,
      kvTokens: this.kvTokens,
      kvUsage: Math.min(1, this.kvTokens / this.settings.kvCapacityTokens),
    };
  }

  /** Whether `count` new sequences fit: in free slots, or else in the waiting queue. */
  hasRoomFor(count: number): boolean {
    const free = Math.max(0, this.settings.maxNumSeqs - this.running.size);
    const queued = this.waiting.length > 0 ? count : Math.max(0, count - free);
    return this.waiting.length + queued <= this.settings.maxWaiting;
  }

  submit(spec: SequenceSpec, observer: SequenceObserver): SequenceHandle {
    if (!this.hasRoomFor(1)) throw new QueueFullError(this.settings.maxWaiting);
    if (this.settings.timeScale === 0) {
      this.runAtOnce(spec, observer);
      return FINISHED;
    }
    const now = this.clock.now();
    const seq: Sequence = {
      spec,
      observer,
      arrivedAt: now,
      admittedAt: now,
      steps: Math.max(1, spec.outputTokens),
      emitted: 0,
      nextAt: now,
      lastAt: now,
      timer: null,
      state: 'waiting',
    };
    this.waiting.push(seq);
    this.admitWaiting();
    return { cancel: () => this.cancel(seq) };
  }

  private fits(seq: Sequence): boolean {
    if (this.running.size >= this.settings.maxNumSeqs) return false;
    // An empty engine always takes the next sequence, as vLLM does not refuse a prompt that fits alone.
    return this.running.size === 0 || this.kvTokens + seq.spec.promptTokens <= this.settings.kvCapacityTokens;
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!)) {
      this.admit(this.waiting.shift()!);
    }
  }

  private context(): StepContext {
    return {
      profile: this.settings.profile,
      maxNumSeqs: this.settings.maxNumSeqs,
      running: this.running.size,
      timeScale: this.settings.timeScale,
      slowFactor: this.settings.slowFactor(),
    };
  }

  private admit(seq: Sequence): void {
    const now = this.clock.now();
    seq.state = 'running';
    seq.admittedAt = now;
    this.running.add(seq);
    this.kvTokens += seq.spec.promptTokens;
    const queueMs = now - seq.arrivedAt;
    this.events.onAdmitted?.(queueMs / 1000, seq.spec.promptTokens);
    seq.observer.onAdmitted?.(queueMs);
    seq.nextAt = now + prefillMs(seq.spec.promptTokens, this.context());
    this.arm(seq);
  }

  /**
   * Zero latency: a sequence is admitted, produces every token and finishes before submit() returns, so
   * at time scale 0 no sequence is ever left running or waiting, and the scheduler has nothing to do. The
   * events are those the stepping path gives: all tokens share one instant, so each inter-token latency
   * is 0, and they are reported together (nothing can read the metrics in between).
   */
  private runAtOnce(spec: SequenceSpec, observer: SequenceObserver): void {
    const arrivedAt = this.clock.now();
    const queueMs = this.clock.now() - arrivedAt;
    this.events.onAdmitted?.(queueMs / 1000, spec.promptTokens);
    observer.onAdmitted?.(queueMs);
    this.events.onFirstToken?.((this.clock.now() - arrivedAt) / 1000);
    const steps = Math.max(1, spec.outputTokens);
    if (steps > 1) this.events.onInterToken?.(0, steps - 1);
    if (spec.outputTokens > 0) {
      this.events.onGeneratedTokens?.(spec.outputTokens);
      if (observer.onToken) for (let i = 0; i < spec.outputTokens; i++) observer.onToken(i);
    }
    this.events.onFinished?.((this.clock.now() - arrivedAt) / 1000, spec.finishReason);
    observer.onFinished();
  }

  private arm(seq: Sequence): void {
    const delay = Math.max(0, seq.nextAt - this.clock.now());
    seq.timer = this.clock.setTimer(() => this.fire(seq), delay);
  }

  private fire(seq: Sequence): void {
    seq.timer = null;
    // Timers fire late by a millisecond or more; emit every token that is due so that the total time
    // follows the model even when one modelled step is shorter than the timer resolution.
    const now = this.clock.now();
    while (seq.state === 'running' && seq.nextAt <= now + 0.01) this.step(seq, seq.nextAt);
    if (seq.state === 'running') this.arm(seq);
  }

  /** Produce one token at engine time `at`. */
  private step(seq: Sequence, at: number): void {
    const index = seq.emitted++;
    if (index === 0) this.events.onFirstToken?.((this.clock.now() - seq.arrivedAt) / 1000);
    else this.events.onInterToken?.((at - seq.lastAt) / 1000);
    seq.lastAt = at;
    if (index < seq.spec.outputTokens) {
      this.kvTokens++;
      this.events.onGeneratedTokens?.(1);
      seq.observer.onToken?.(index);
    }
    if (seq.emitted >= seq.steps) {
      this.finish(seq, seq.spec.finishReason);
      seq.observer.onFinished();
      this.admitWaiting();
      return;
    }
    seq.nextAt = at + interTokenMs(this.context());
  }

  private finish(seq: Sequence, reason: FinishReason | 'abort'): void {
    if (seq.state === 'done') return;
    const wasRunning = seq.state === 'running';
    seq.state = 'done';
    if (seq.timer !== null) this.clock.clearTimer(seq.timer);
    seq.timer = null;
    if (wasRunning) {
      this.running.delete(seq);
      this.kvTokens -= seq.spec.promptTokens + Math.min(seq.emitted, seq.spec.outputTokens);
    } else {
      const i = this.waiting.indexOf(seq);
      if (i >= 0) this.waiting.splice(i, 1);
    }
    this.events.onFinished?.((this.clock.now() - seq.arrivedAt) / 1000, reason);
  }

  /** The client went away: free the slot (or the queue place) without telling the observer. */
  private cancel(seq: Sequence): void {
    if (seq.state === 'done') return;
    this.finish(seq, 'abort');
    this.admitWaiting();
  }
}
