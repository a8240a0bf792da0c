// A fake kubelet that RUNS pods: each pod it accepts (e.g. a tier pod, see vllm-sim-pod.ts) bound to one of its nodes
// becomes a local process on the pod's own loopback IP (127.a.b.c: the whole 127/8 is local), so clients reach pods by
// their pod IPs as they would in a cluster. It does what a kubelet does for such a pod, in compressed time:
//
// - Running at once, but Ready only once the process answers its readiness probe (HTTP GET on the pod IP), and not
//   Ready again after failureThreshold failed probes;
// - a process that exits by itself is a crashed container: the pod goes not Ready at once (containerStatuses
//   terminated, then waiting CrashLoopBackOff), and the process restarts after a back-off with restartCount + 1;
// - deletion: the preStop wait (the pod's `sleep 15` compressed to preStopMs), SIGTERM, SIGKILL after the grace
//   period, then the pod is finalized (deleted with grace 0), as fake-kubelet.ts does for the pods it runs.
//
// Nodes, heartbeats and every other pod (marked Running at once) are fake-kubelet.ts's. Processes are stopped by
// PID only, and a guard process stops them if the test process dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import http from 'node:http';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { IpAllocator, startFakeKubelet, type FakeKubelet, type FakeNodeSpec } from './fake-kubelet.js';
import { finalizePod, podInformer, statusCode } from './kubelet-pods.js';
import { ProcessGuard } from './process-guard.js';
import { podStatusPatch, rfc3339, type Termination } from './pod-status.js';
import type { PodProcess } from './vllm-sim-pod.js';

export interface ProcessKubeletOptions {
  nodes: FakeNodeSpec[];
  /** Pods to run as processes; all others are left to the plain fake kubelet. */
  runs: (pod: V1Pod) => boolean;
  /** The process for an accepted pod on its IP. */
  processFor: (pod: V1Pod, ip: string) => PodProcess;
  /** One log file per pod: <namespace>_<name>.log (stdout and stderr, all restarts). */
  logDir: string;
  /** Readiness probe period; default 200 ms (compressed: pods say 5 s). */
  probePeriodMs?: number;
  /** First restart back-off, doubling up to 8x; default 500 ms (a kubelet starts at 10 s). */
  restartBackoffMs?: number;
  /** The preStop wait on deletion; default 1500 ms (the tier pods' preStop is `sleep 15`). */
  preStopMs?: number;
  /** SIGTERM to SIGKILL; default 5 s. */
  stopGraceMs?: number;
  /** Pod IP range; default a random 127.x.y.2-254 (so parallel runs rarely collide). */
  ipRange?: { first: string; last: string };
  heartbeatMs?: number;
  onError?: (err: unknown) => void;
}

export interface PodRunInfo {
  namespace: string;
  name: string;
  uid: string;
  ip: string;
  pid: number | undefined;
  restarts: number;
  ready: boolean;
  terminating: boolean;
  /** Milliseconds from the current process's spawn to its first passed probe (undefined until then). */
  startupMs: number | undefined;
}

export interface ProcessKubelet {
  readonly fake: FakeKubelet;
  /** Pods running (or restarting, or terminating) as processes. */
  pods(): PodRunInfo[];
  /** Sends a signal to a pod's process (a crash when SIGKILL); returns its PID. */
  kill(namespace: string, name: string, signal?: NodeJS.Signals): number;
  /** Stops every process (SIGTERM, SIGKILL after a grace), the informer and the fake kubelet. Idempotent. */
  stop(): Promise<void>;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

interface PodRun {
  pod: V1Pod;
  uid: string;
  key: string;
  ip: string;
  proc: PodProcess;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  startedAt: string;
  podStartTime: string;
  restarts: number;
  ready: boolean;
  readySince: string;
  /** The probe passed since the last (re)start: the container has started (its startupProbe is the same GET). */
  started: boolean;
  spawnedAtMs: number;
  startupMs: number | undefined;
  failures: number;
  probing: boolean;
  terminating: boolean;
  gone: boolean;
  lastTermination: Termination | undefined;
  patches: Promise<void>;
  timer: NodeJS.Timeout | undefined;
}

function randomRange(): { first: string; last: string } {
  const b = 100 + Math.floor(Math.random() * 100);
  const c = Math.floor(Math.random() * 256);
  return { first: `127.${b}.${c}.2`, last: `127.${b}.${c}.254` };
}

/** One HTTP GET; true on 200. */
function probe(ip: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function statusPatch(run: PodRun): object {
  const c = run.child;
  return podStatusPatch({
    pod: run.pod,
    uid: run.uid,
    ip: run.ip,
    container: run.proc.container,
    running: c !== undefined && c.exitCode === null && c.signalCode === null,
    started: run.started,
    ready: run.ready,
    readySince: run.readySince,
    podStartTime: run.podStartTime,
    startedAt: run.startedAt,
    restarts: run.restarts,
    lastTermination: run.lastTermination,
  });
}

export async function startProcessKubelet(kc: KubeConfig, opts: ProcessKubeletOptions): Promise<ProcessKubelet> {
  const core = kc.makeApiClient(CoreV1Api);
  const probePeriodMs = opts.probePeriodMs ?? 200;
  const backoffMs = opts.restartBackoffMs ?? 500;
  const preStopMs = opts.preStopMs ?? 1500;
  const stopGraceMs = opts.stopGraceMs ?? 5000;
  const onError = opts.onError ?? (() => undefined);
  const range = opts.ipRange ?? randomRange();
  const allocator = new IpAllocator(range.first, range.last);
  const nodeNames = new Set(opts.nodes.map((n) => n.name));
  const runs = new Map<string, PodRun>();
  const guard = new ProcessGuard();
  let stopped = false;
  mkdirSync(opts.logDir, { recursive: true });

  const fake = await startFakeKubelet(kc, {
    nodes: opts.nodes,
    onError,
    ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
    ignorePod: (pod) => opts.runs(pod),
  });

  function patch(run: PodRun): void {
    run.patches = run.patches
      .then(async () => {
        if (run.gone || stopped) return;
        await core.patchNamespacedPodStatus(
          { name: run.pod.metadata?.name ?? '', namespace: run.pod.metadata?.namespace ?? '', body: statusPatch(run) },
          mergePatch,
        );
      })
      .catch((err: unknown) => {
        if (statusCode(err) === 404) run.gone = true;
        else onError(err);
      });
  }

  function setReady(run: PodRun, ready: boolean): void {
    if (run.ready === ready) return;
    run.ready = ready;
    run.readySince = rfc3339();
    patch(run);
  }

  function spawnProcess(run: PodRun): void {
    const fd = openSync(join(opts.logDir, `${run.key.replace('/', '_')}.log`), 'a');
    let child: ChildProcess;
    try {
      child = spawn(run.proc.command, run.proc.args, { env: { ...process.env, ...run.proc.env }, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    child.on('error', onError);
    child.unref();
    run.child = child;
    run.startedAt = rfc3339();
    run.started = false;
    run.spawnedAtMs = Date.now();
    run.startupMs = undefined;
    run.failures = 0;
    const pid = child.pid;
    if (pid !== undefined) guard.watch(pid);
    run.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (pid !== undefined) guard.release(pid);
        resolve();
        if (run.terminating || stopped || run.gone) return;
        // A crash: not Ready at once (the runtime reports the exit; no probe needed), restart after a back-off.
        const signum = signal ? (osConstants.signals[signal] ?? 0) : 0;
        run.lastTermination = {
          exitCode: code ?? 128 + signum,
          ...(signum ? { signal: signum } : {}),
          reason: code === 0 ? 'Completed' : 'Error',
          startedAt: run.startedAt,
          finishedAt: rfc3339(),
        };
        run.ready = false;
        run.readySince = rfc3339();
        patch(run);
        const delay = Math.min(backoffMs * 2 ** run.restarts, backoffMs * 8);
        setTimeout(() => {
          if (run.terminating || stopped || run.gone) return;
          run.restarts++;
          spawnProcess(run);
          patch(run);
        }, delay).unref();
      });
    });
  }

  async function probeOnce(run: PodRun): Promise<void> {
    const c = run.child;
    if (!c || c.exitCode !== null || c.signalCode !== null || run.terminating || run.probing) return;
    run.probing = true;
    try {
      const ok = await probe(run.ip, run.proc.port, run.proc.path, Math.max(probePeriodMs * 4, 1000));
      if (run.child !== c || run.terminating) return;
      if (ok) {
        run.failures = 0;
        run.started = true;
        run.startupMs ??= Date.now() - run.spawnedAtMs;
        setReady(run, true);
      } else if (++run.failures >= run.proc.failureThreshold) {
        setReady(run, false);
      }
    } finally {
      run.probing = false;
    }
  }

  function begin(pod: V1Pod): void {
    const uid = pod.metadata!.uid!;
    const ip = allocator.allocate();
    const now = rfc3339();
    const run: PodRun = {
      pod,
      uid,
      key: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
      ip,
      proc: opts.processFor(pod, ip),
      child: undefined,
      exited: Promise.resolve(),
      startedAt: now,
      podStartTime: now,
      restarts: 0,
      ready: false,
      readySince: now,
      started: false,
      spawnedAtMs: Date.now(),
      startupMs: undefined,
      failures: 0,
      probing: false,
      terminating: false,
      gone: false,
      lastTermination: undefined,
      patches: Promise.resolve(),
      timer: undefined,
    };
    runs.set(uid, run);
    spawnProcess(run);
    patch(run); // Running with its IP, not Ready until the probe passes
    run.timer = setInterval(() => void probeOnce(run), probePeriodMs);
    run.timer.unref();
  }

  async function stopProcess(run: PodRun, graceMs: number): Promise<void> {
    const c = run.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await run.exited;
    clearTimeout(timer);
  }

  async function terminate(run: PodRun): Promise<void> {
    run.terminating = true;
    await sleep(preStopMs); // preStop: keep serving while the endpoint leaves the router's configuration
    clearInterval(run.timer);
    const grace = Math.min(stopGraceMs, (run.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
    await stopProcess(run, grace);
    allocator.release(run.ip);
    runs.delete(run.uid);
    if (run.gone || stopped) return;
    await finalizePod(core, run.pod).catch(onError);
  }

  function onPod(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (stopped || !uid || !pod.spec?.nodeName || !nodeNames.has(pod.spec.nodeName) || !opts.runs(pod)) return;
    const run = runs.get(uid);
    if (run) {
      run.pod = pod;
      if (pod.metadata?.deletionTimestamp && !run.terminating) void terminate(run).catch(onError);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      // Never started here (e.g. deleted before we saw it bound): finalize like the fake kubelet.
      void finalizePod(core, pod).catch(onError);
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    begin(pod);
  }

  function onDelete(pod: V1Pod): void {
    const run = runs.get(pod.metadata?.uid ?? '');
    if (!run) return;
    run.gone = true;
    if (!run.terminating) {
      // Removed without a graceful deletion (force delete): stop at once.
      run.terminating = true;
      clearInterval(run.timer);
      void stopProcess(run, 0).then(() => {
        allocator.release(run.ip);
        runs.delete(run.uid);
      });
    }
  }

  const informer = podInformer(kc, core, { onPod, onDelete }, onError, () => stopped);
  await informer.start();

  return {
    fake,
    pods: () =>
      [...runs.values()].map((r) => ({
        namespace: r.pod.metadata?.namespace ?? '',
        name: r.pod.metadata?.name ?? '',
        uid: r.uid,
        ip: r.ip,
        pid: r.child && r.child.exitCode === null && r.child.signalCode === null ? r.child.pid : undefined,
        restarts: r.restarts,
        startupMs: r.startupMs,
        ready: r.ready,
        terminating: r.terminating,
      })),
    kill(namespace, name, signal = 'SIGKILL') {
      const run = [...runs.values()].find((r) => r.pod.metadata?.namespace === namespace && r.pod.metadata?.name === name);
      const pid = run?.child?.pid;
      if (!run || pid === undefined || run.child!.exitCode !== null || run.child!.signalCode !== null) {
        throw new Error(`no running process for pod ${namespace}/${name}`);
      }
      process.kill(pid, signal);
      return pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const r of runs.values()) clearInterval(r.timer);
      await Promise.all([...runs.values()].map((r) => stopProcess(r, 3000)));
      await informer.stop();
      await fake.stop();
      await Promise.allSettled([...runs.values()].map((r) => r.patches));
      guard.close();
    },
  };
}
