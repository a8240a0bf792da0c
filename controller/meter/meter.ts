// The GPU-seconds meter of one tier: a pure function that moves the tier's counters forward in time.
//
// A pod holds its GPUs from the moment it is scheduled onto a node until it ends. While it does, it is
//   loading  scheduled, not Ready (image pull, model load, CUDA graphs; also a restart after being Ready)
//   serving  Ready, with requests in flight
//   idle     Ready, none in flight
// The router reports in-flight requests per tier, not per pod. Its upstream pool sends each request to the
// least-loaded ready replica, so with I requests in flight over N ready pods, min(I, N) pods are serving and
// the rest idle; GPU-seconds are split in that proportion.
//
// Time only moves forward: `advanceMeter` integrates from the last accounted moment to `nowMs`. Pod
// transitions inside that span land at their own timestamps (exact); a transition reported after its span
// was already counted (a late informer event) is moved to the start of the new span (the error is the
// delay times the pod's GPUs). The in-flight reading holds from the moment it was taken until the next.
import type { PodFacts } from './pod-facts.js';

export type PodPhase = 'pending' | 'loading' | 'ready' | 'gone';
export const METER_STATES = ['serving', 'idle', 'loading'] as const;
export type MeterState = (typeof METER_STATES)[number];
export type GpuSecondsByState = Record<MeterState, number>;

export interface TierMeter {
  /** Counted up to here (ms). */
  accountedUntil: number;
  inFlight: number;
  /** Pods still holding or waiting for GPUs, by uid, with their phase at accountedUntil. */
  pods: Record<string, { phase: PodPhase; gpus: number }>;
  totals: GpuSecondsByState;
}

export interface MeterUpdate {
  /** The tier's pods as observed now (all of them: a tracked pod missing from the list has ended). */
  pods?: readonly PodFacts[];
  /** The routers' in-flight requests to this tier, read now. */
  inFlight?: number;
}

export function newTierMeter(nowMs: number): TierMeter {
  return { accountedUntil: nowMs, inFlight: 0, pods: {}, totals: { serving: 0, idle: 0, loading: 0 } };
}

interface Change {
  at: number;
  uid: string;
  phase: PodPhase;
}

// Which moves a pod can make. Ready -> loading only on the pod's own Ready=False transition (restart).
function allowed(from: PodPhase, to: PodPhase, restart: boolean): boolean {
  if (from === to || from === 'gone') return false;
  if (to === 'gone') return true;
  if (from === 'ready') return to === 'loading' && restart;
  if (from === 'loading') return to === 'ready';
  return true; // pending -> loading | ready
}

/** The pod's phase changes in (t0, t1], walked from its previous phase (late news lands at t0). */
function podChanges(uid: string, from: PodPhase, f: PodFacts, t0: number, t1: number): Change[] {
  const points: { at: number; phase: PodPhase; restart: boolean; rank: number }[] = [];
  if (f.scheduledAt !== null) points.push({ at: f.scheduledAt, phase: 'loading', restart: false, rank: 0 });
  if (f.readySince !== null) points.push({ at: f.readySince, phase: 'ready', restart: false, rank: 1 });
  if (f.notReadySince !== null) points.push({ at: f.notReadySince, phase: 'loading', restart: true, rank: 2 });
  if (f.endedAt !== null) points.push({ at: f.endedAt, phase: 'gone', restart: false, rank: 3 });
  points.sort((a, b) => a.at - b.at || a.rank - b.rank);
  const out: Change[] = [];
  let phase = from;
  for (const p of points) {
    const at = Math.max(p.at, t0);
    if (at > t1 || !allowed(phase, p.phase, p.restart)) continue;
    phase = p.phase;
    out.push({ at, uid, phase });
  }
  return out;
}

/** The meter moved forward to nowMs, with the pods and in-flight reading observed at nowMs. */
export function advanceMeter(m: TierMeter, nowMs: number, update: MeterUpdate = {}): TierMeter {
  const t0 = m.accountedUntil;
  const t1 = Math.max(nowMs, t0);
  const pods: Record<string, { phase: PodPhase; gpus: number }> = {};
  for (const [uid, p] of Object.entries(m.pods)) pods[uid] = { ...p };
  const changes: Change[] = [];
  if (update.pods) {
    const seen = new Set<string>();
    for (const f of update.pods) {
      seen.add(f.uid);
      const prev = pods[f.uid] ?? (pods[f.uid] = { phase: 'pending', gpus: f.gpus });
      changes.push(...podChanges(f.uid, prev.phase, f, t0, t1));
    }
    for (const [uid, p] of Object.entries(pods)) if (!seen.has(uid) && p.phase !== 'gone') changes.push({ at: t1, uid, phase: 'gone' });
  }
  changes.sort((a, b) => a.at - b.at);

  const totals = { ...m.totals };
  const phaseNow: Record<string, PodPhase> = {};
  for (const [uid, p] of Object.entries(pods)) phaseNow[uid] = p.phase;
  let at = t0;
  const integrate = (until: number) => {
    const dt = (until - at) / 1000;
    if (dt <= 0) return;
    let readyGpus = 0;
    let readyPods = 0;
    let loadingGpus = 0;
    for (const [uid, phase] of Object.entries(phaseNow)) {
      const g = pods[uid]!.gpus;
      if (phase === 'ready') {
        readyGpus += g;
        readyPods++;
      } else if (phase === 'loading') loadingGpus += g;
    }
    const serving = readyPods === 0 ? 0 : (readyGpus * Math.min(Math.max(m.inFlight, 0), readyPods)) / readyPods;
    totals.serving += serving * dt;
    totals.idle += (readyGpus - serving) * dt;
    totals.loading += loadingGpus * dt;
    at = until;
  };
  for (const c of changes) {
    integrate(c.at);
    phaseNow[c.uid] = c.phase;
  }
  integrate(t1);

  const next: Record<string, { phase: PodPhase; gpus: number }> = {};
  for (const [uid, phase] of Object.entries(phaseNow)) if (phase !== 'gone') next[uid] = { phase, gpus: pods[uid]!.gpus };
  return { accountedUntil: t1, inFlight: update.inFlight ?? m.inFlight, pods: next, totals };
}

export const totalOf = (t: GpuSecondsByState): number => t.serving + t.idle + t.loading;
