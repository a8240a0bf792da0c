// The pods/status a kubelet reports for a pod whose main container runs as a local process (process-kubelet.ts):
// Running with its IP; Ready and ContainersReady as the readiness probe says; the container running, or waiting in
// CrashLoopBackOff after a crash, with its restart count and last termination. Other containers of the pod are
// reported running and ready (runningContainerStatus, as fake-kubelet.ts reports every container). Pure: state in,
// merge patch body out (lists are replaced whole by a merge patch, so every call sends the full conditions and
// containerStatuses).
import type { V1Pod } from '@kubernetes/client-node';

/** RFC 3339 with seconds (metav1.Time). */
export const rfc3339 = (d = new Date()): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A container running and ready since `startedAt`, never restarted. */
export function runningContainerStatus(c: { name: string; image?: string }, uid: string, startedAt: string): object {
  const image = c.image ?? '';
  return { name: c.name, image, imageID: `fake://${image}`, containerID: `fake://${uid}/${c.name}`, ready: true, started: true, restartCount: 0, state: { running: { startedAt } } };
}

export interface Termination {
  exitCode: number;
  /** Signal number when the process was killed by one. */
  signal?: number;
  reason: string;
  startedAt: string;
  finishedAt: string;
}

export interface ProcessContainerState {
  pod: V1Pod;
  uid: string;
  ip: string;
  /** The container the process plays. */
  container: string;
  /** The process is alive. */
  running: boolean;
  /** The probe passed since the last (re)start (the startupProbe is the same GET). */
  started: boolean;
  ready: boolean;
  readySince: string;
  podStartTime: string;
  /** When the current process started. */
  startedAt: string;
  restarts: number;
  lastTermination: Termination | undefined;
}

export function podStatusPatch(s: ProcessContainerState): object {
  const cond = (type: string, ok: boolean, since: string) => ({
    type,
    status: ok ? 'True' : 'False',
    ...(ok ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${s.container}]` }),
    lastProbeTime: null,
    lastTransitionTime: since,
  });
  const terminated = (t: Termination) => ({
    terminated: { exitCode: t.exitCode, ...(t.signal ? { signal: t.signal } : {}), reason: t.reason, startedAt: t.startedAt, finishedAt: t.finishedAt },
  });
  const containerStatuses = (s.pod.spec?.containers ?? []).map((c) => {
    if (c.name !== s.container) return runningContainerStatus(c, s.uid, s.podStartTime);
    return {
      name: c.name,
      image: c.image ?? '',
      imageID: `fake://${c.image ?? ''}`,
      containerID: `process://${s.uid}/${c.name}/${s.restarts}`,
      ready: s.ready,
      started: s.running && s.started,
      restartCount: s.restarts,
      state: s.running
        ? { running: { startedAt: s.startedAt } }
        : { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container ${c.name}` } },
      lastState: s.lastTermination ? terminated(s.lastTermination) : {},
    };
  });
  return {
    status: {
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: s.ip,
      podIPs: [{ ip: s.ip }],
      startTime: s.podStartTime,
      conditions: [
        cond('Initialized', true, s.podStartTime),
        cond('Ready', s.ready, s.readySince),
        cond('ContainersReady', s.ready, s.readySince),
        cond('PodScheduled', true, s.podStartTime),
      ],
      containerStatuses,
    },
  };
}
