// Apply one desired object with server-side apply, but only when the cached live object no longer says what we
// want (diff.ts). Returns what happened, so the caller can emit the right Event.
import { createHash } from 'node:crypto';
import type { ReconcileContext } from './context.js';
import { firstDifference } from './diff.js';
import { isConflict } from './rest.js';
import type { ResourceType, WireObject } from './resources.js';
import type { Store } from './informer.js';

export type ApplyOutcome =
  | { action: 'unchanged'; live: WireObject }
  | { action: 'created'; live: WireObject }
  | { action: 'updated'; live: WireObject; before: WireObject; changed: string }
  | { action: 'conflict'; message: string };

const hashOf = (obj: unknown): string => createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);

/**
 * `desired` is wire JSON with apiVersion, kind, metadata.name and metadata.namespace.
 * When nothing is cached (a new object, or one not labelled as ours) the apply is not forced: a field owned by
 * another manager then makes it fail with a conflict instead of silently taking over someone else's object.
 */
export async function applyIfChanged(
  ctx: ReconcileContext,
  rt: ResourceType,
  store: Store<WireObject>,
  desired: WireObject,
  opts: { alwaysForce?: boolean } = {},
): Promise<ApplyOutcome> {
  const ns = desired.metadata?.namespace;
  const name = desired.metadata?.name ?? '';
  const cached = store.get(ns, name);
  const live = ctx.overlay.latest(rt.plural, ns, name, cached);
  const objectKey = `${rt.plural}/${ns ?? ''}/${name}`;
  const hash = hashOf(desired);
  let changed = '(new)';
  if (live) {
    const d = firstDifference(desired, live);
    if (d === undefined) return { action: 'unchanged', live };
    if (ctx.guard.suppressed(objectKey, hash, d)) return { action: 'unchanged', live };
    changed = d;
  }
  let result: WireObject;
  try {
    result = await ctx.rest.apply<WireObject>(rt, ns, name, desired, { force: !!live || !!opts.alwaysForce });
  } catch (err) {
    if (isConflict(err)) return { action: 'conflict', message: (err as Error).message };
    throw err;
  }
  ctx.overlay.remember(rt.plural, ns, name, cached?.metadata?.resourceVersion, result);
  const after = firstDifference(desired, result);
  if (after !== undefined) {
    ctx.guard.note(objectKey, hash, after);
    ctx.log.warn(
      { object: objectKey, field: after },
      'the API server rewrote a field we apply; not re-applying the same content for this difference',
    );
  } else {
    ctx.guard.forget(objectKey);
  }
  return live ? { action: 'updated', live: result, before: live, changed } : { action: 'created', live: result };
}
