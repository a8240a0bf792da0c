// The baseline: KubeAI's documented per-model autoscaler, applied to each tier on its own (no cascade view,
// no GPU cap). From substratusai/kubeai internal/modelautoscaler/autoscaler.go, internal/modelscaler/scaler.go
// and internal/movingaverage/simple.go:
//   - every interval, push the summed in-flight requests into a simple moving average of
//     ceil(timeWindow / interval) samples, seeded with zeros (so it "can go to zero");
//   - a model without endpoints (no ready replica) is skipped that tick (its average is not updated);
//   - desired = ceil(average / targetRequests), clamped to [min, max];
//   - a lower desired is applied only after requiredConsecutiveScaleDowns = ceil(scaleDownDelaySeconds /
//     interval) lower decisions in a row; an up-or-equal decision resets the count (the count is not reset
//     by the scale-down itself);
//   - scale from zero is not the autoscaler's job: KubeAI's proxy scales a model at 0 replicas to 1 when a
//     request arrives and holds it. Here: at 0 replicas with requests in flight, desired = 1.
// Defaults (internal/config/system.go, api/k8s/v1/model_types.go): interval 10 s, timeWindow 10 min,
// scaleDownDelaySeconds 30.
import type { CascadeInput, ScalingDecision, ScalingStrategy } from './types.js';

export interface KubeaiSettings {
  intervalSeconds: number;
  timeWindowSeconds: number;
  /** Per tier override of the tier's scaleDownDelaySeconds (KubeAI's default is 30); undefined = the tier's own. */
  scaleDownDelaySeconds?: number;
}

export const KUBEAI_DEFAULTS: Readonly<KubeaiSettings> = { intervalSeconds: 10, timeWindowSeconds: 600, scaleDownDelaySeconds: 30 };

export interface KubeaiTierState {
  history: number[];
  index: number;
  consecutiveScaleDowns: number;
}

export type KubeaiState = Record<string, KubeaiTierState>;

const f1 = (x: number) => (Math.round(x * 10) / 10).toString();

export function kubeaiStrategy(settings: KubeaiSettings = KUBEAI_DEFAULTS): ScalingStrategy<KubeaiState> {
  const windowCount = Math.ceil(settings.timeWindowSeconds / settings.intervalSeconds);
  return {
    name: 'kubeai',
    initialState: () => ({}),
    decide(input: CascadeInput, state: KubeaiState, _nowMs: number) {
      const next: KubeaiState = {};
      const decisions: Record<string, ScalingDecision> = {};
      for (const t of input.tiers) {
        const prev = state[t.name] ?? { history: new Array<number>(windowCount).fill(0), index: 0, consecutiveScaleDowns: 0 };
        const required = Math.ceil((settings.scaleDownDelaySeconds ?? t.scaleDownDelaySeconds) / settings.intervalSeconds);
        if (t.current === 0) {
          const held = (t.inFlight ?? 0) > 0 && t.max > 0;
          next[t.name] = prev;
          decisions[t.name] = { desired: held ? 1 : 0, reason: held ? `scale from zero: ${f1(t.inFlight ?? 0)} requests held` : 'at zero, no requests' };
          continue;
        }
        if (t.inFlight === null || t.ready === 0) {
          next[t.name] = prev;
          decisions[t.name] = { desired: t.current, reason: t.inFlight === null ? 'no metrics: skipped' : 'no endpoints: skipped' };
          continue;
        }
        const history = [...prev.history];
        history[prev.index] = t.inFlight;
        const index = (prev.index + 1) % history.length;
        const avg = history.reduce((s, x) => s + x, 0) / history.length;
        const desired = Math.min(t.max, Math.max(t.min, Math.ceil(avg / t.targetInFlightPerReplica - 1e-9)));
        let consecutive = prev.consecutiveScaleDowns;
        let applied = desired;
        let reason = `ceil(${f1(avg)} / ${t.targetInFlightPerReplica}) = ${desired}`;
        if (desired < t.current) {
          if (consecutive < required) {
            consecutive++;
            applied = t.current;
            reason += `; ${consecutive - 1} consecutive scale downs (< ${required}), not scaling down yet`;
          }
        } else consecutive = 0;
        next[t.name] = { history, index, consecutiveScaleDowns: consecutive };
        decisions[t.name] = { desired: applied, reason };
      }
      return { decisions, state: next };
    },
  };
}
