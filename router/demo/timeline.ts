// Replicas over time: the demo polls the controller's /cascades (the statuses the local runtime keeps, what
// `kubectl get modelcascades -o yaml` shows on a cluster) and keeps every change of a tier's replicas. Pure functions
// turn the record into one line of digits per tier and the list of scaling decisions with their reasons.
import { fetchCascade } from './stack.js';

export interface TierSample {
  /** What the autoscaler asked for (status.tiers[].desiredReplicas). */
  desired: number;
  /** Replica processes that exist (loading or ready): the GPUs held. */
  replicas: number;
  ready: number;
  /** The autoscaler's reason for the last change (status.tiers[].scalingReason). */
  reason: string;
}

export interface TimelinePoint {
  /** Wall milliseconds since the stack started. */
  atMs: number;
  /** By the ModelCascade's tier name. */
  tiers: Record<string, TierSample>;
}

/** A named stretch of the run (start-up, a ramp step, the cool-down), from atMs to the next mark. */
export interface PhaseMark {
  atMs: number;
  /** One character for the load line (see PHASE_CHARS). */
  phase: keyof typeof PHASE_CHARS;
}

export const PHASE_CHARS = {
  'start-up': ' ',
  'routed low': 'r',
  'routed high': 'R',
  'routed flat': 'R',
  'cool-down': '.',
  'pinned low': 'p',
  'pinned high': 'P',
  'pinned flat': 'P',
} as const;

const same = (a: TierSample | undefined, b: TierSample) => !!a && a.desired === b.desired && a.replicas === b.replicas && a.ready === b.ready;

export class TimelineRecorder {
  private readonly points: TimelinePoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  /** Every replica process the controller ran (id -> PID), so that the caller can check none is left. */
  readonly replicaPids = new Map<string, number>();

  constructor(
    private readonly controllerUrl: string,
    private readonly cascade: string,
    /** performance.now() of the stack's start. */
    private readonly startedAt: number,
    private readonly everyMs = 250,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.everyMs);
    void this.poll();
  }

  async stop(): Promise<TimelinePoint[]> {
    clearInterval(this.timer);
    await this.poll();
    return this.points;
  }

  private poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    try {
      const view = await fetchCascade(this.controllerUrl, this.cascade);
      const tiers: Record<string, TierSample> = {};
      for (const t of view?.status?.tiers ?? []) {
        tiers[t.name] = { desired: t.desiredReplicas, replicas: t.replicas, ready: t.readyReplicas, reason: t.scalingReason ?? '' };
      }
      const procs = (await (await fetch(`${this.controllerUrl}/processes`, { signal: AbortSignal.timeout(2000) })).json()) as { id: string; pid: number | null }[];
      for (const p of procs) if (p.pid !== null) this.replicaPids.set(p.id, p.pid);
      const last = this.points.at(-1);
      if (!last || Object.entries(tiers).some(([name, s]) => !same(last.tiers[name], s))) {
        this.points.push({ atMs: performance.now() - this.startedAt, tiers });
      }
    } catch {
      // The next poll tries again; a controller that died fails the run elsewhere.
    }
  }
}

/** The sample of a tier in force at atMs (the last change at or before it). */
function sampleAt(points: readonly TimelinePoint[], tier: string, atMs: number): TierSample | undefined {
  let found: TierSample | undefined;
  for (const p of points) {
    if (p.atMs > atMs) break;
    found = p.tiers[tier] ?? found;
  }
  return found;
}

const digit = (n: number) => (n > 9 ? '+' : String(n));

/**
 * One character per cell of [0, endMs): the replica processes the tier held at the end of the cell (loading ones
 * included: they hold GPUs), so the last character is the state at the end; ' ' before the first sample.
 */
export function replicaStrip(points: readonly TimelinePoint[], tier: string, endMs: number, cells: number): string {
  let out = '';
  for (let k = 0; k < cells; k++) {
    const at = sampleAt(points, tier, ((k + 1) * endMs) / cells);
    out += at === undefined ? ' ' : digit(at.replicas);
  }
  return out;
}

/** The load line: which phase each cell was in (at the cell's middle). */
export function phaseStrip(marks: readonly PhaseMark[], endMs: number, cells: number): string {
  let out = '';
  for (let k = 0; k < cells; k++) {
    const mid = ((k + 0.5) * endMs) / cells;
    const mark = [...marks].reverse().find((m) => m.atMs <= mid);
    out += mark ? PHASE_CHARS[mark.phase] : ' ';
  }
  return out;
}

export interface ScalingEvent {
  atMs: number;
  tier: string;
  from: number;
  to: number;
  reason: string;
}

/** Every change of a tier's desired replicas, in time order, with the autoscaler's reason. */
export function scalingEvents(points: readonly TimelinePoint[]): ScalingEvent[] {
  const out: ScalingEvent[] = [];
  const last = new Map<string, number>();
  for (const p of points) {
    for (const [tier, s] of Object.entries(p.tiers)) {
      const before = last.get(tier);
      if (before !== undefined && before !== s.desired) out.push({ atMs: p.atMs, tier, from: before, to: s.desired, reason: s.reason });
      last.set(tier, s.desired);
    }
  }
  return out;
}

/** Per tier: the most replicas held, and how many scale-ups and scale-downs. */
export function scalingSummary(points: readonly TimelinePoint[], tiers: readonly string[]): Record<string, { peak: number; ups: number; downs: number; final: number }> {
  const events = scalingEvents(points);
  return Object.fromEntries(
    tiers.map((t) => [
      t,
      {
        peak: Math.max(0, ...points.map((p) => p.tiers[t]?.replicas ?? 0)),
        ups: events.filter((e) => e.tier === t && e.to > e.from).length,
        downs: events.filter((e) => e.tier === t && e.to < e.from).length,
        final: points.at(-1)?.tiers[t]?.desired ?? 0,
      },
    ]),
  );
}
