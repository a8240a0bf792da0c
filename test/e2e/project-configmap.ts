// What a kubelet does for a ConfigMap volume, for one key: watch the ConfigMap and write the key's value to a file,
// atomically, whenever it changes. The router pod in the chart mounts the controller's `tiermix-router` ConfigMap
// this way; here the router runs as a local process on the projected file. A kubelet syncs such volumes every
// minute or so (plus its cache TTL); this writes on every watch event, so the delay measured here is the
// controller's and the router's, not the kubelet's.
import { CoreV1Api, makeInformer, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { writeFileAtomic } from './files.js';

export interface Projection {
  /** The values written so far, with when (Date.now()). */
  readonly writes: readonly { atMs: number; text: string }[];
  /** The last value written, if any. */
  current(): string | undefined;
  stop(): Promise<void>;
}

export async function projectConfigMapKey(kc: KubeConfig, namespace: string, name: string, key: string, file: string): Promise<Projection> {
  const core = kc.makeApiClient(CoreV1Api);
  const writes: { atMs: number; text: string }[] = [];
  let stopped = false;
  const onObject = (cm: V1ConfigMap): void => {
    if (stopped || cm.metadata?.name !== name) return;
    const text = cm.data?.[key];
    if (text === undefined || text === writes.at(-1)?.text) return;
    writeFileAtomic(file, text);
    writes.push({ atMs: Date.now(), text });
  };
  const informer = makeInformer(kc, `/api/v1/namespaces/${namespace}/configmaps`, () => core.listNamespacedConfigMap({ namespace }));
  informer.on('add', onObject);
  informer.on('update', onObject);
  informer.on('error', () => {
    if (stopped) return;
    setTimeout(() => {
      if (!stopped) informer.start().catch(() => undefined);
    }, 500).unref();
  });
  await informer.start();
  return {
    writes,
    current: () => writes.at(-1)?.text,
    async stop() {
      stopped = true;
      await informer.stop();
    },
  };
}
