// A ScalingSource whose decisions are set by hand (the CLI, tests, a demo script). The autoscaler
// (controller/autoscale) is another ScalingSource; the runtimes do not care which one they get.
import type { CascadeKey, ScalingDecision, ScalingSource } from '../hooks.js';

export class ManualScaling implements ScalingSource {
  private readonly decisions = new Map<CascadeKey, Record<string, ScalingDecision>>();
  private readonly listeners = new Set<(cascade: CascadeKey) => void>();

  desired(cascade: CascadeKey): Record<string, ScalingDecision> | undefined {
    const d = this.decisions.get(cascade);
    return d && { ...d };
  }

  onChange(listener: (cascade: CascadeKey) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ask for `desired` replicas of one tier (the planner clamps it to the tier's [min, max]). */
  set(cascade: CascadeKey, tier: string, desired: number, reason = `set by hand to ${desired}`): void {
    this.decisions.set(cascade, { ...(this.decisions.get(cascade) ?? {}), [tier]: { desired, reason } });
    for (const l of this.listeners) l(cascade);
  }

  clear(cascade: CascadeKey): void {
    this.decisions.delete(cascade);
    for (const l of this.listeners) l(cascade);
  }
}
