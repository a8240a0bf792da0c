// Histograms and counters whose label sets are bound once. prom-client's Histogram.observe and Counter.inc
// validate and hash the label object on every call (about a microsecond each), and at zero latency one
// self-verification call (8 sequences of ~40 tokens) made ~700 of them. These keep plain numbers per
// label set and give prom-client's registry exactly what prom-client's own Histogram and Counter would
// export for the same observations (same values, same order of label sets, label sets absent until first
// touched), so /metrics reads the same; test/unit/sim/metric-cells.test.ts compares the two.
import type { Metric, Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** One exported line, in the shape prom-client's Registry formats. */
interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
  /** prom-client's histograms give null (no exemplar) on bucket lines and undefined on _sum and _count. */
  exemplar?: null;
}

interface Exported {
  name: string;
  help: string;
  type: 'histogram' | 'counter';
  values: ExportedValue[];
  aggregator: 'sum';
}

/** Register an object that implements the part of prom-client's metric interface its Registry uses. */
function register(registry: Registry, metric: { name: string }): void {
  registry.registerMetric(metric as unknown as Metric);
}

/** A histogram with one label set (vLLM's latency histograms carry only model_name and engine). */
export class BoundHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** Observations per bucket (not cumulative), then sum and count; null until the first observation. */
  private counts: number[] | null = null;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
    private readonly labels: Labels,
    registry: Registry,
  ) {
    register(registry, this);
  }

  /** Observe `value` `times` times (zero-latency runs observe many equal inter-token latencies at once). */
  observe(value: number, times = 1): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    this.counts ??= this.upperBounds.map(() => 0);
    for (let i = 0; i < this.upperBounds.length; i++) {
      if (value <= this.upperBounds[i]!) {
        this.counts[i]! += times;
        break;
      }
    }
    // Added one at a time, as repeated observations would, so the sum rounds the same way.
    if (value !== 0) for (let i = 0; i < times; i++) this.sum += value;
    this.count += times;
  }

  getForPromString(): Exported {
    const values: ExportedValue[] = [];
    if (this.counts) {
      const shared = this.labels;
      const bucketName = `${this.name}_bucket`;
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += this.counts![i]!;
        values.push({ labels: { le }, sharedLabels: shared, value: cumulative, metricName: bucketName, exemplar: null });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: shared, value: this.count, metricName: bucketName, exemplar: null },
        { labels: {}, sharedLabels: shared, value: this.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: shared, value: this.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** As prom-client's Histogram.get(): shared labels folded into each value's labels. */
  get(): Exported {
    const exported = this.getForPromString();
    exported.values = exported.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return exported;
  }

  reset(): void {
    this.counts = null;
    this.sum = 0;
    this.count = 0;
  }
}

/** One label set of a BoundCounter. */
export interface CounterCell {
  inc(value?: number): void;
}

interface CounterEntry {
  labels: Labels;
  value: number;
}

/** A counter whose label sets are made once, by cell(), and then incremented without lookups. */
export class BoundCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  /** Label sets in the order of their first increment, as prom-client lists them. */
  private touched: CounterEntry[] = [];
  /** Bumped by reset(), so that cells start over. */
  private epoch = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    register(registry, this);
  }

  cell(labels: Labels): CounterCell {
    let entry: CounterEntry | null = null;
    let epoch = -1;
    return {
      inc: (value = 1) => {
        if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
        if (value < 0) throw new Error('It is not possible to decrease a counter');
        if (entry === null || epoch !== this.epoch) {
          entry = { labels, value: 0 };
          epoch = this.epoch;
          this.touched.push(entry);
        }
        entry.value += value;
      },
    };
  }

  getForPromString(): Exported {
    const values = this.touched.map((e) => ({ value: e.value, labels: { ...e.labels } }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  get(): Exported {
    return this.getForPromString();
  }

  reset(): void {
    this.touched = [];
    this.epoch++;
  }
}
