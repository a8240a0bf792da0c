// A fake kubelet for tests on the real control plane (control-plane.ts, full mode), in the spirit of kwok.
//
// It registers Nodes with nvidia.com/gpu capacity and GPU labels, keeps them alive (Ready condition and node Lease
// renewed periodically), and watches pods: a pod the scheduler bound to one of its nodes is marked Running and Ready
// with a pod IP from a small 127.0.0.x allocator (a later end-to-end test runs one simulator process per pod on its
// own loopback address). A pod being deleted is finalized the way a kubelet does it (delete with grace period 0).
// Status is written with merge patches, never read-modify-replace, so it does not race the controller-manager (409).
import {
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { finalizePod, podInformer, statusCode } from './kubelet-pods.js';
import { rfc3339, runningContainerStatus } from './pod-status.js';
import { waitFor } from './wait.js';

export interface FakeNodeSpec {
  name: string;
  /** nvidia.com/gpu capacity and allocatable. */
  gpus: number;
  /** Label nvidia.com/gpu.product, e.g. "NVIDIA-H100-80GB-HBM3". */
  gpuProduct: string;
  /** Quantity, e.g. "32". */
  cpu: string;
  /** Quantity, e.g. "256Gi". */
  memory: string;
  /** Extra node labels. */
  labels?: Record<string, string>;
  /** Max pods; default 110. */
  pods?: number;
}

export interface FakeKubeletOptions {
  nodes: FakeNodeSpec[];
  /** Chooses a pod's IP instead of the built-in 127.0.0.x allocator. */
  podIp?: (pod: V1Pod) => string;
  /** Lease and Ready-condition heartbeat period; default 10 s (the node monitor grace period is 40 s). */
  heartbeatMs?: number;
  /** Called with errors that are retried in the background (watch failures, patch failures). */
  onError?: (err: unknown) => void;
  /**
   * Pods another runner handles (process-kubelet.ts runs them as processes): this kubelet neither marks them
   * Running nor finalizes their deletion. Default: none.
   */
  ignorePod?: (pod: V1Pod) => boolean;
}

export interface FakeKubelet {
  readonly nodeNames: readonly string[];
  /** Pod IPs handed out, by "namespace/name". */
  podIps(): Map<string, string>;
  /** Heartbeats sent so far (one per node per round). */
  heartbeats(): number;
  /** Stops the informer and the heartbeat; leaves the Nodes in place. Idempotent. */
  stop(): Promise<void>;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const applyPatch = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const FIELD_MANAGER = 'tiermix-fake-kubelet';

/** RFC 3339 with microseconds (metav1.MicroTime, used by Leases). */
const microTime = (d = new Date()): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 ${ip}`);
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}
const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** Hands out the lowest free address in [first, last] and takes addresses back. */
export class IpAllocator {
  private readonly first: number;
  private readonly last: number;
  private readonly used = new Set<number>();

  constructor(first = '127.0.0.2', last = '127.0.0.254') {
    this.first = ipToInt(first);
    this.last = ipToInt(last);
    if (this.last < this.first) throw new Error(`empty IP range ${first}-${last}`);
  }

  allocate(): string {
    for (let n = this.first; n <= this.last; n++) {
      if (!this.used.has(n)) {
        this.used.add(n);
        return intToIp(n);
      }
    }
    throw new Error(`pod IP range ${intToIp(this.first)}-${intToIp(this.last)} exhausted`);
  }

  /** Marks an address as taken (a pod that already has it). False if it is outside the range or already taken. */
  reserve(ip: string): boolean {
    let n: number;
    try {
      n = ipToInt(ip);
    } catch {
      return false;
    }
    if (n < this.first || n > this.last || this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }

  release(ip: string): void {
    try {
      this.used.delete(ipToInt(ip));
    } catch {
      // not ours
    }
  }

  get inUse(): number {
    return this.used.size;
  }
}

function isRunningAndReady(pod: V1Pod): boolean {
  return (
    pod.status?.phase === 'Running' &&
    Boolean(pod.status.podIP) &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

function nodeStatus(spec: FakeNodeSpec, since: string): object {
  const now = rfc3339();
  const resources = {
    cpu: spec.cpu,
    memory: spec.memory,
    pods: String(spec.pods ?? 110),
    'ephemeral-storage': '1Ti',
    'nvidia.com/gpu': String(spec.gpus),
  };
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: since,
  });
  return {
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'fake kubelet'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'fake kubelet'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'fake kubelet'),
        cond('Ready', 'True', 'KubeletReady', 'tiermix fake kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: spec.name },
      ],
      nodeInfo: {
        machineID: spec.name,
        systemUUID: spec.name,
        bootID: spec.name,
        kernelVersion: 'fake',
        osImage: 'tiermix fake kubelet',
        containerRuntimeVersion: 'fake://0',
        kubeletVersion: 'v1.20.2-fake',
        kubeProxyVersion: 'v1.20.2-fake',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/** Registers the nodes, waits until they are Ready and the pod informer has listed, then keeps them alive. */
export async function startFakeKubelet(kc: KubeConfig, opts: FakeKubeletOptions): Promise<FakeKubelet> {
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const nodes = new Map(opts.nodes.map((n) => [n.name, n]));
  if (nodes.size !== opts.nodes.length) throw new Error('fake kubelet: duplicate node names');
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const onError = opts.onError ?? (() => undefined);
  const allocator = new IpAllocator();
  const ipByUid = new Map<string, { ip: string; key: string; fromAllocator: boolean }>();
  const inFlight = new Set<string>(); // "<uid>/<action>"
  const pending = new Set<Promise<unknown>>();
  let stopped = false;
  let heartbeatCount = 0;
  const since = rfc3339();

  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };

  // --- Nodes and Leases ---------------------------------------------------------------------------------------
  async function register(spec: FakeNodeSpec): Promise<V1Node> {
    const labels = {
      'kubernetes.io/hostname': spec.name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'nvidia.com/gpu.present': 'true',
      'nvidia.com/gpu.product': spec.gpuProduct,
      'nvidia.com/gpu.count': String(spec.gpus),
      'tiermix.dev/fake-kubelet': 'true',
      ...spec.labels,
    };
    let node: V1Node;
    try {
      node = await core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name: spec.name, labels } } });
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
      node = await core.patchNode({ name: spec.name, body: { metadata: { labels } } }, mergePatch);
    }
    await core.patchNodeStatus({ name: spec.name, body: nodeStatus(spec, since) }, mergePatch);
    await renewLease(node);
    return node;
  }

  async function renewLease(node: V1Node): Promise<void> {
    const name = node.metadata?.name ?? '';
    await coordination.patchNamespacedLease(
      {
        name,
        namespace: 'kube-node-lease',
        fieldManager: FIELD_MANAGER,
        force: true,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name,
            namespace: 'kube-node-lease',
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata?.uid }],
          },
          spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime() },
        },
      },
      applyPatch,
    );
  }

  const registered = await Promise.all(opts.nodes.map(register));

  async function heartbeat(): Promise<void> {
    await Promise.all(
      registered.map(async (node) => {
        const spec = nodes.get(node.metadata?.name ?? '');
        if (!spec) return;
        try {
          await renewLease(node);
          await core.patchNodeStatus({ name: spec.name, body: nodeStatus(spec, since) }, mergePatch);
          heartbeatCount++;
        } catch (err) {
          onError(err);
        }
      }),
    );
  }
  const timer = setInterval(() => {
    if (!stopped) void track(heartbeat());
  }, heartbeatMs);
  timer.unref();

  // --- Pods -----------------------------------------------------------------------------------------------------
  function ipFor(pod: V1Pod): string {
    const uid = pod.metadata?.uid ?? '';
    const known = ipByUid.get(uid);
    if (known) return known.ip;
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const ip = opts.podIp ? opts.podIp(pod) : allocator.allocate();
    ipByUid.set(uid, { ip, key, fromAllocator: !opts.podIp });
    return ip;
  }

  function forget(uid: string): void {
    const entry = ipByUid.get(uid);
    if (!entry) return;
    ipByUid.delete(uid);
    if (entry.fromAllocator) allocator.release(entry.ip);
  }

  async function markRunning(pod: V1Pod): Promise<void> {
    const now = rfc3339();
    const ip = ipFor(pod);
    const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
    const completed = (c: { name: string; image?: string }) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: `fake://${c.image ?? ''}`,
      containerID: `fake://${pod.metadata?.uid}/${c.name}`,
      ready: true,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } },
    });
    await core.patchNamespacedPodStatus(
      {
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        body: {
          status: {
            phase: 'Running',
            hostIP: '127.0.0.1',
            podIP: ip,
            podIPs: [{ ip }],
            startTime: pod.status?.startTime ? rfc3339(new Date(pod.status.startTime)) : now,
            conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(cond),
            containerStatuses: (pod.spec?.containers ?? []).map((c) => runningContainerStatus(c, pod.metadata?.uid ?? '', now)),
            initContainerStatuses: (pod.spec?.initContainers ?? []).map(completed),
          },
        },
      },
      mergePatch,
    );
  }

  /** Runs `action` for the pod at most once at a time; failures are reported and retried on the next event. */
  function once(pod: V1Pod, action: string, fn: (pod: V1Pod) => Promise<void>): void {
    const id = `${pod.metadata?.uid}/${action}`;
    if (inFlight.has(id) || stopped) return;
    inFlight.add(id);
    void track(
      fn(pod)
        .catch((err: unknown) => {
          if (statusCode(err) === 404) return; // the pod is gone; nothing left to do
          onError(err);
          // Retry after a pause unless the pod moved on meanwhile (the informer will call us again then).
          setTimeout(() => {
            inFlight.delete(id);
            const current = informer.get(pod.metadata?.name ?? '', pod.metadata?.namespace);
            if (current && current.metadata?.uid === pod.metadata?.uid) onPod(current);
          }, 500).unref();
          throw err;
        })
        .then(() => inFlight.delete(id)),
    ).catch(() => undefined);
  }

  function onPod(pod: V1Pod): void {
    const nodeName = pod.spec?.nodeName;
    const uid = pod.metadata?.uid;
    if (!nodeName || !uid || !nodes.has(nodeName)) return;
    if (opts.ignorePod?.(pod)) return;
    if (pod.metadata?.deletionTimestamp) {
      once(pod, 'finalize', (p) => finalizePod(core, p));
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    if (isRunningAndReady(pod)) {
      // Already running (e.g. marked by an earlier fake kubelet): adopt its address.
      const ip = pod.status?.podIP ?? '';
      if (!ipByUid.has(uid)) {
        const fromAllocator = !opts.podIp && allocator.reserve(ip);
        ipByUid.set(uid, { ip, key: `${pod.metadata?.namespace}/${pod.metadata?.name}`, fromAllocator });
      }
      return;
    }
    once(pod, 'run', markRunning);
  }

  const informer = podInformer(kc, core, { onPod, onDelete: (pod) => forget(pod.metadata?.uid ?? '') }, onError, () => stopped);
  await informer.start();

  // Ready means: every node reports Ready with its GPUs, as the scheduler will see it.
  await waitFor(
    `fake nodes ${[...nodes.keys()].join(', ')} Ready`,
    async () => {
      for (const name of nodes.keys()) {
        const n = await core.readNode({ name });
        const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (!ready || n.status?.allocatable?.['nvidia.com/gpu'] !== String(nodes.get(name)?.gpus)) return false;
      }
      return true;
    },
    { timeoutMs: 30_000 },
  );

  return {
    nodeNames: [...nodes.keys()],
    podIps: () => new Map([...ipByUid.values()].map((e) => [e.key, e.ip])),
    heartbeats: () => heartbeatCount,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await informer.stop();
      await Promise.allSettled([...pending]);
    },
  };
}
