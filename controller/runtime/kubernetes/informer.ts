// Watch-backed caches (client-node's ListWatch) of wire JSON objects, listed through KubeRest so list and watch
// objects have the same shape. client-node's ListWatch stops on a watch error; this wrapper restarts it with backoff
// and knows when the first list has arrived (readiness).
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from './clock.js';
import type { KubeRest } from './rest.js';
import { resourcePath, type ResourceType, type WireObject } from './resources.js';

export interface Store<T> {
  get(namespace: string | undefined, name: string): T | undefined;
  list(namespace?: string): readonly T[];
}

export interface InformerEvents<T> {
  onAdd?: (obj: T) => void;
  onUpdate?: (obj: T) => void;
  onDelete?: (obj: T) => void;
  onError?: (err: unknown) => void;
}

export interface InformerSpec {
  rt: ResourceType;
  /** undefined = all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** One list+watch of one resource in one namespace (or all). */
export class Informer<T extends WireObject> implements Store<T> {
  // Holds wire JSON; typed as client-node's minimal object and cast at the edges.
  private readonly lw: ListWatch<KubernetesObject>;
  private listed = false;
  private stopped = true;
  private failures = 0;
  private restartTimer: TimerHandle | undefined;

  constructor(
    kc: KubeConfig,
    rest: KubeRest,
    readonly spec: InformerSpec,
    private readonly clock: Clock,
    events: InformerEvents<T>,
  ) {
    rest.authorize('list', spec.rt);
    rest.authorize('watch', spec.rt);
    const listFn = async () => {
      const list = await rest.list<T>(spec.rt, spec.namespace, {
        labelSelector: spec.labelSelector,
        fieldSelector: spec.fieldSelector,
      });
      // The list API leaves apiVersion/kind off its items; the planners expect them.
      const apiVersion = spec.rt.group ? `${spec.rt.group}/${spec.rt.version}` : spec.rt.version;
      for (const item of list.items) Object.assign(item, { apiVersion, kind: spec.rt.kind });
      this.listed = true;
      this.failures = 0;
      return { apiVersion: 'v1', kind: 'List', items: list.items as KubernetesObject[], metadata: list.metadata ?? {} };
    };
    this.lw = new ListWatch<KubernetesObject>(
      resourcePath(spec.rt, spec.namespace),
      new Watch(kc),
      listFn,
      false,
      spec.labelSelector,
      spec.fieldSelector,
    );
    const { onAdd, onUpdate, onDelete } = events;
    if (onAdd) this.lw.on('add', (o) => onAdd(o as T));
    if (onUpdate) this.lw.on('update', (o) => onUpdate(o as T));
    if (onDelete) this.lw.on('delete', (o) => onDelete(o as T));
    this.lw.on('error', (err: unknown) => {
      if (this.stopped) return;
      events.onError?.(err);
      // ListWatch gave up; restart after a growing pause (0.5 s .. 30 s). A 410 Gone relists by itself.
      this.failures++;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures - 1, 10));
      this.restartTimer = this.clock.setTimeout(() => {
        this.restartTimer = undefined;
        if (!this.stopped) void this.lw.start();
      }, delay);
    });
  }

  /** Starts list+watch; resolves after the first attempt (see `hasSynced`). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.lw.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    await this.lw.stop();
  }

  /** True once a list has succeeded (the cache then mirrors the server, kept current by the watch). */
  hasSynced(): boolean {
    return this.listed;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.lw.get(name, namespace) as T | undefined;
  }

  list(namespace?: string): readonly T[] {
    return this.lw.list(namespace) as readonly T[];
  }
}

/** Several informers of one resource (one per watched namespace) behind one Store. */
export class MultiStore<T extends WireObject> implements Store<T> {
  constructor(private readonly informers: readonly Informer<T>[]) {}

  get(namespace: string | undefined, name: string): T | undefined {
    for (const i of this.informers) {
      const hit = i.get(namespace, name);
      if (hit) return hit;
    }
    return undefined;
  }

  list(namespace?: string): readonly T[] {
    return this.informers.flatMap((i) => i.list(namespace));
  }
}
