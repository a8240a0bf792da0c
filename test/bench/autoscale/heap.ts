// A binary min-heap of timed events for the discrete-event simulation (ties: insertion order, so runs are
// deterministic).
export interface TimedEvent {
  t: number;
  seq: number;
  run: () => void;
}

export class EventQueue {
  private readonly heap: TimedEvent[] = [];
  private seq = 0;
  now = 0;

  get size(): number {
    return this.heap.length;
  }

  at(t: number, run: () => void): void {
    const e = { t: Math.max(t, this.now), seq: this.seq++, run };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Runs events in time order up to and including `until`. */
  runUntil(until: number): void {
    const h = this.heap;
    while (h.length > 0 && h[0]!.t <= until) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && less(h[l]!, h[m]!)) m = l;
          if (r < h.length && less(h[r]!, h[m]!)) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m]!, h[i]!];
          i = m;
        }
      }
      this.now = top.t;
      top.run();
    }
    this.now = Math.max(this.now, until);
  }
}

const less = (a: TimedEvent, b: TimedEvent) => a.t < b.t || (a.t === b.t && a.seq < b.seq);
