// Between our write and the watch event that brings it into the cache, the cache is stale. Reading the stale copy
// would make the next reconcile write the same thing again (and emit duplicate Events). The overlay remembers what
// we wrote, keyed by the resourceVersion the cache held at the time, and serves it until the cache moves on.
import type { WireObject } from './resources.js';

export class FreshnessOverlay {
  private readonly written = new Map<string, { staleRv: string | undefined; obj: WireObject }>();

  private static key(kind: string, namespace: string | undefined, name: string): string {
    return `${kind}/${namespace ?? ''}/${name}`;
  }

  /** Record what a write returned; `staleRv` is the cached resourceVersion before the write (undefined: none cached). */
  remember(kind: string, namespace: string | undefined, name: string, staleRv: string | undefined, obj: WireObject): void {
    this.written.set(FreshnessOverlay.key(kind, namespace, name), { staleRv, obj });
  }

  /** The newer of the cached object and what we last wrote. */
  latest<T extends WireObject>(kind: string, namespace: string | undefined, name: string, cached: T | undefined): T | undefined {
    const key = FreshnessOverlay.key(kind, namespace, name);
    const entry = this.written.get(key);
    if (!entry) return cached;
    if (cached?.metadata?.resourceVersion === entry.staleRv) return entry.obj as T;
    this.written.delete(key); // the cache has caught up (or moved past us)
    return cached;
  }

  /** The object was deleted: whatever we wrote is gone too. */
  drop(kind: string, namespace: string | undefined, name: string): void {
    this.written.delete(FreshnessOverlay.key(kind, namespace, name));
  }
}

/**
 * Guard against write loops: if the server returns an object that still differs from what we applied (a field we
 * set that it rewrites in a way diff.ts does not know), remember that (object, desired content, differing path) and
 * do not apply the same content again for that same difference. The first occurrence is logged by the caller.
 */
export class ApplyLoopGuard {
  private readonly noted = new Map<string, { hash: string; path: string }>();

  note(objectKey: string, hash: string, path: string): void {
    this.noted.set(objectKey, { hash, path });
  }

  suppressed(objectKey: string, hash: string, path: string): boolean {
    const n = this.noted.get(objectKey);
    return !!n && n.hash === hash && n.path === path;
  }

  forget(objectKey: string): void {
    this.noted.delete(objectKey);
  }
}
