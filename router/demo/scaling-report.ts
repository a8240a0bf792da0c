// The autoscaling part of the demo's report, as data and as text: replicas over time per tier with the controller's
// reasons, GPU-seconds per tier from the controller's meter (serving / idle / loading), and GPU-seconds per request
// and per 1,000 tokens per tier. Built from what the demo recorded (timeline.ts, tier-cost.ts); no I/O here.
import type { DemoScaling } from './cascade.js';
import type { PromSample } from './metrics-check.js';
import { describeRamp, type RampStep } from './ramp.js';
import { meterDelta, meterTotal, tierCosts, type MeterSplit, type TierCosts } from './tier-cost.js';
import { phaseStrip, replicaStrip, scalingEvents, scalingSummary, type PhaseMark, type TimelinePoint } from './timeline.js';
import type { DemoTier, RequestResult } from './types.js';

/** What run.ts recorded for this part of the report. */
export interface ScalingInputs {
  schedule: RampStep[];
  settings: DemoScaling;
  coldStartSeconds: number;
  points: TimelinePoint[];
  marks: PhaseMark[];
  /** Wall ms since the stack started, at the end of the last phase. */
  endAtMs: number;
  /** The tiers were back at their minimum before the cool-down limit. */
  settled: boolean;
  coolDownWallSeconds: number;
  /** The controller's meter at the phase boundaries (modelled GPU-seconds by ModelCascade tier name). */
  meters: {
    routedStart: Record<string, MeterSplit>;
    routedEnd: Record<string, MeterSplit>;
    cooledDown: Record<string, MeterSplit>;
    pinnedStart?: Record<string, MeterSplit>;
    pinnedEnd?: Record<string, MeterSplit>;
  };
  /** The router's /metrics right after the routed phase. */
  routerAfterRouted: PromSample[];
}

export interface ScalingReport {
  note: string;
  settings: DemoScaling & { coldStartSeconds: number; tiers: { tier: string; target: number; min: number; max: number }[] };
  ramp: RampStep[];
  /** Replicas over time: one character per cell of `secondsPerCell` modelled seconds. */
  timeline: {
    secondsPerCell: number;
    load: string;
    tiers: { tier: string; strip: string; peak: number; ups: number; downs: number; final: number }[];
  };
  events: { atSeconds: number; tier: string; from: number; to: number; reason: string }[];
  coolDown: { settled: boolean; modelledSeconds: number };
  /** The controller's meter over the routed phase and its cool-down, per tier (modelled GPU-seconds). */
  metered: { tier: string; gpusPerReplica: number; split: MeterSplit; total: number }[];
  /** Metered GPU-seconds (all states, all tiers) while the routed load ran, and during the cool-down after it. */
  phases: { load: number; coolDown: number };
  /**
   * Metered GPU-seconds while the same ramp ran pinned to the largest tier: that tier alone (an always-largest
   * deployment would run nothing else); null without the pinned phase.
   */
  pinned: { tier: string; split: MeterSplit; total: number } | null;
  costs: TierCosts;
}

const CELLS = 60;

export function buildScalingReport(s: ScalingInputs, tiers: readonly DemoTier[], cascade: string, routed: readonly RequestResult[], timeScale: number): ScalingReport {
  const toSeconds = (ms: number) => ms / 1000 / timeScale;
  const routerName = new Map(tiers.map((t) => [t.tier, t.name]));
  const summary = scalingSummary(s.points, tiers.map((t) => t.tier));
  const meteredRun = meterDelta(s.meters.routedStart, s.meters.cooledDown);
  const sum = (m: Record<string, MeterSplit>) => Object.values(m).reduce((x, v) => x + meterTotal(v), 0);
  const largest = tiers[tiers.length - 1]!;
  const pinnedSplit = s.meters.pinnedStart && s.meters.pinnedEnd ? meterDelta(s.meters.pinnedStart, s.meters.pinnedEnd)[largest.tier] : undefined;
  return {
    note:
      'SIMULATION: tiermix controller --runtime local ran each tier\'s replicas as simulator processes and autoscaled them ' +
      `from the router's /metrics; its clock ran at the simulators' time scale (${timeScale}), so every time and GPU-second here is modelled.`,
    settings: {
      ...s.settings,
      coldStartSeconds: s.coldStartSeconds,
      tiers: tiers.map((t) => ({ tier: t.name, target: t.targetInFlightPerReplica, min: t.replicas.min, max: t.replicas.max })),
    },
    ramp: s.schedule,
    timeline: {
      secondsPerCell: toSeconds(s.endAtMs) / CELLS,
      load: phaseStrip(s.marks, s.endAtMs, CELLS),
      tiers: tiers.map((t) => ({ tier: t.name, strip: replicaStrip(s.points, t.tier, s.endAtMs, CELLS), ...summary[t.tier]! })),
    },
    events: scalingEvents(s.points).map((e) => ({ atSeconds: toSeconds(e.atMs), tier: routerName.get(e.tier) ?? e.tier, from: e.from, to: e.to, reason: e.reason })),
    coolDown: { settled: s.settled, modelledSeconds: s.coolDownWallSeconds / timeScale },
    metered: tiers.map((t) => {
      const split = meteredRun[t.tier] ?? { serving: 0, idle: 0, loading: 0 };
      return { tier: t.name, gpusPerReplica: t.gpusPerReplica, split, total: meterTotal(split) };
    }),
    phases: { load: sum(meterDelta(s.meters.routedStart, s.meters.routedEnd)), coolDown: sum(meterDelta(s.meters.routedEnd, s.meters.cooledDown)) },
    pinned: pinnedSplit ? { tier: largest.name, split: pinnedSplit, total: meterTotal(pinnedSplit) } : null,
    costs: tierCosts({ tiers, cascade, routerSamples: s.routerAfterRouted, results: routed, timeScale, metered: meteredRun }),
  };
}

const num = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits));

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ').filter(Boolean)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line.length > 0 ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

/** `text` wrapped to `width` columns, the first line after `first`, the others indented as far. */
function hang(first: string, text: string, width = 116): string[] {
  const pad = ' '.repeat(first.length);
  return wrap(text, Math.max(30, width - first.length)).map((l, i) => (i === 0 ? first : pad) + l);
}

/** The report's text for this part; `table` aligns columns (format.ts). */
export function formatScaling(r: ScalingReport, table: (rows: readonly (readonly string[])[]) => string[], largestAlways: string | null): string[] {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line('Autoscaling (modelled seconds):');
  out.push(...hang('  ', r.note));
  const st = r.settings;
  out.push(
    ...hang(
      '  ',
      `Tiers: ${st.tiers.map((t) => `${t.tier} ${t.min}-${t.max} replicas, target ${t.target} in flight per replica`).join('; ')}. ` +
        `Scale-down delay ${st.scaleDownDelaySeconds} s, autoscaler every ${st.intervalSeconds} s, a new replica loads for ${st.coldStartSeconds} s ` +
        '(plus its process start).',
    ),
  );
  out.push(...hang('  ', `Load: ${describeRamp(r.ramp)} (routed), a cool-down${largestAlways ? `, then the same ramp pinned to ${largestAlways}` : ''}.`));
  line();
  line(`  Replicas over time (one column = ${num(r.timeline.secondsPerCell, 1)} s; digit = replicas held at the end of the column, loading ones included):`);
  const rows: string[][] = [['    load', r.timeline.load]];
  for (const t of r.timeline.tiers) rows.push([`    ${t.tier}`, t.strip]);
  out.push(...table(rows).map((l) => l.replace(/\s+$/, '')));
  line('    (load: r/R routed at low/high concurrency, . cool-down, p/P pinned to the largest tier at low/high)');
  const peaks = r.timeline.tiers.map((t) => `${t.tier} peak ${t.peak} (${t.ups} up, ${t.downs} down, ${t.final} at the end)`);
  out.push(...hang('    ', `${peaks.join('; ')}.`));
  line(
    r.coolDown.settled
      ? `  Every tier was back at its minimum ${num(r.coolDown.modelledSeconds, 0)} s after the routed load ended.`
      : `  The tiers were not all back at their minimum ${num(r.coolDown.modelledSeconds, 0)} s after the routed load ended (cool-down limit).`,
  );
  line();
  const shown = r.events.slice(0, 14);
  line(`  Scaling decisions (${r.events.length}; the reason is the controller's status.tiers[].scalingReason):`);
  for (const e of shown) {
    out.push(...hang(`    t=${num(e.atSeconds, 0).padStart(4)} s  ${e.tier} ${e.from} -> ${e.to}: `, e.reason));
  }
  if (r.events.length > shown.length) line(`    ... ${r.events.length - shown.length} more (--json has all)`);
  line();

  const total = r.metered.reduce((s, m) => s + m.total, 0);
  line('GPU-seconds per tier held by the replicas (the controller\'s meter, tiermix_gpu_seconds_total{state}; routed phase and cool-down):');
  const meter: string[][] = [['  tier', 'GPUs/replica', 'serving', 'idle', 'loading', 'total', 'share']];
  for (const m of r.metered) {
    meter.push([`  ${m.tier}`, String(m.gpusPerReplica), num(m.split.serving, 1), num(m.split.idle, 1), num(m.split.loading, 1), num(m.total, 1), total > 0 ? `${((m.total / total) * 100).toFixed(1)}%` : '-']);
  }
  meter.push(['  total', '', ...(['serving', 'idle', 'loading'] as const).map((k) => num(r.metered.reduce((s, m) => s + m.split[k], 0), 1)), num(total, 1), '']);
  out.push(...table(meter));
  out.push(...hang('  ', `Of these, ${num(r.phases.load, 1)} GPU-s while the routed load ran and ${num(r.phases.coolDown, 1)} in the cool-down after it; start-up is not counted.`));
  if (r.pinned) {
    const p = r.pinned;
    const share = p.total > 0 ? ` (routed: ${((r.phases.load / p.total) * 100).toFixed(1)}% of it)` : '';
    out.push(
      ...hang(
        '  ',
        `The same ramp pinned to ${p.tier}: its replicas held ${num(p.total, 1)} GPU-s while the load ran (serving ${num(p.split.serving, 1)}, ` +
          `idle ${num(p.split.idle, 1)}, loading ${num(p.split.loading, 1)}), against ${num(r.phases.load, 1)} for the three tiers routed${share}. ` +
          'The smaller tiers, idle at their minimum during the pinned phase, are left out: an always-largest deployment would not run them.',
      ),
    );
  }
  line();

  const c = r.costs;
  line(`GPU-seconds per request and per 1k tokens, per tier (routed phase; calls and tokens from the ${c.source}):`);
  const cost: string[][] = [['  tier', 'requests', 'verifications', 'tokens', 'GPU-s/request', 'GPU-s/1k tokens', 'metered GPU-s/request']];
  for (const x of c.rows) {
    cost.push([`  ${x.tier}`, String(x.answerCalls), String(x.verifyCalls), String(x.tokens), num(x.attributedPerRequest, 3), num(x.attributedPer1kTokens, 3), num(x.meteredPerRequest, 2)]);
  }
  out.push(...table(cost));
  line('  requests: answer calls that reached the tier; GPU-s/request and /1k tokens: what the router attributed to them');
  line('  (its answer and verification calls); metered GPU-s/request: the meter\'s total for the tier (idle and loading');
  line('  included) over those requests, the fully loaded cost.');
  if (c.source === 'demo records') out.push(...hang('  ', `Note: ${c.note}.`));
  return out;
}
