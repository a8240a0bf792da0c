// Active health checks: GET <replica><path> for every replica on a fixed interval; 200 = ready.
import type { KeepAliveAgents } from './agents.js';
import { splitUrl } from './http.js';
import { upstreamCall } from './upstream-call.js';

export interface HealthCheckOptions {
  intervalSeconds: number;
  path: string;
}

export const DEFAULT_HEALTH_CHECK: HealthCheckOptions = { intervalSeconds: 5, path: '/health' };

export interface HealthCheckParams {
  /** The tier client's connection pools (read per check: their dispatcher can be replaced). */
  agents: Pick<KeepAliveAgents, 'dispatcher'>;
  /** Base URLs (no trailing slash), index-aligned with the replica set. */
  baseUrls: readonly string[];
  options: HealthCheckOptions;
  /** Limit for one check. A check still running when the next round starts is not doubled up. */
  timeoutMs: number;
  onResult(index: number, ok: boolean): void;
}

export interface HealthChecker {
  stop(): void;
}

/** Checks every replica right away, then every intervalSeconds. The timer is unref'd. */
export function startHealthChecks(params: HealthCheckParams): HealthChecker {
  const { agents, baseUrls, options, timeoutMs, onResult } = params;
  const targets = baseUrls.map((base) => splitUrl(base + options.path));
  const running: (AbortController | undefined)[] = baseUrls.map(() => undefined);
  let stopped = false;

  const checkOne = async (index: number, target: { origin: string; path: string }): Promise<void> => {
    // A check still waiting on a slow replica is not doubled up.
    if (running[index]) return;
    // The controller lets stop() cancel a check that is still waiting.
    const controller = new AbortController();
    running[index] = controller;
    let ok = false;
    try {
      const res = await upstreamCall(agents.dispatcher, {
        ...target,
        method: 'GET',
        headersTimeoutMs: timeoutMs,
        bodyTimeoutMs: timeoutMs,
        signal: controller.signal,
        stream: false,
      });
      ok = res.status === 200;
    } catch {
      ok = false;
    } finally {
      running[index] = undefined;
    }
    if (!stopped) onResult(index, ok);
  };

  const checkAll = (): void => {
    targets.forEach((target, i) => void checkOne(i, target));
  };

  const interval = setInterval(checkAll, options.intervalSeconds * 1000);
  interval.unref();
  checkAll();

  return {
    stop() {
      stopped = true;
      clearInterval(interval);
      for (const c of running) c?.abort();
    },
  };
}
