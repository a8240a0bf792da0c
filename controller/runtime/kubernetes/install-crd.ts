// `tiermix controller --install-crd`: server-side apply of the ModelCascade CRD (sent as given, so `default` and the
// other schema keywords survive), then wait until the API server reports it Established.
import type { KubeConfig } from '@kubernetes/client-node';
import { CRD_INSTALL_RULES } from '../rbac.js';
import { KubeRest } from './rest.js';
import { RESOURCES } from './resources.js';

interface Crd {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

export async function installCrd(kc: KubeConfig, crd: { metadata: { name: string } }, opts: { timeoutMs?: number } = {}): Promise<void> {
  const rest = new KubeRest(kc, { rules: CRD_INSTALL_RULES });
  try {
    const name = crd.metadata.name;
    await rest.apply(RESOURCES.customresourcedefinitions, undefined, name, crd, { force: true });
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
      const got = await rest.get<Crd>(RESOURCES.customresourcedefinitions, undefined, name);
      const conds = got.status?.conditions ?? [];
      if (conds.some((c) => c.type === 'Established' && c.status === 'True')) return;
      const bad = conds.find((c) => c.type === 'NamesAccepted' && c.status === 'False');
      if (bad) throw new Error(`CRD ${name} not accepted: ${bad.message ?? ''}`);
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${opts.timeoutMs ?? 30_000} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    rest.close();
  }
}
