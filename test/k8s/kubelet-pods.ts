// What fake-kubelet.ts and process-kubelet.ts both do with pods: watch every pod (restarting the watch after an
// error), and finalize a deleted pod the way a kubelet does once its containers stopped.
import { makeInformer, type CoreV1Api, type Informer, type KubeConfig, type ObjectCache, type V1Pod } from '@kubernetes/client-node';

export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

/**
 * A cluster-wide pod informer with `onPod` on add and update, not yet started. client-node's informer stops on
 * errors; this one reports the error and restarts after a pause unless `stopped()`.
 */
export function podInformer(
  kc: KubeConfig,
  core: CoreV1Api,
  handlers: { onPod: (pod: V1Pod) => void; onDelete: (pod: V1Pod) => void },
  onError: (err: unknown) => void,
  stopped: () => boolean,
): Informer<V1Pod> & ObjectCache<V1Pod> {
  const informer = makeInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
  informer.on('add', handlers.onPod);
  informer.on('update', handlers.onPod);
  informer.on('delete', handlers.onDelete);
  informer.on('error', (err) => {
    if (stopped()) return;
    onError(err);
    setTimeout(() => {
      if (!stopped()) informer.start().catch(onError);
    }, 1000).unref();
  });
  return informer;
}

/** Deletes the pod with grace period 0 (this uid only); a pod already gone or replaced (404, 409) is no error. */
export async function finalizePod(core: CoreV1Api, pod: V1Pod): Promise<void> {
  try {
    await core.deleteNamespacedPod({
      name: pod.metadata?.name ?? '',
      namespace: pod.metadata?.namespace ?? '',
      gracePeriodSeconds: 0,
      body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } },
    });
  } catch (err) {
    const code = statusCode(err);
    if (code !== 404 && code !== 409) throw err;
  }
}
