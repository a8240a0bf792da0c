// The chart's security posture, for every tested value set: pods run as non-root with a read-only root
// filesystem, no capabilities, seccomp RuntimeDefault and no privilege escalation; the controller's RBAC is
// exactly CONTROLLER_RULES (controller/runtime/rbac.ts); the router has no API access at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ClusterRole, V1ClusterRoleBinding, V1Deployment, V1ServiceAccount } from '@kubernetes/client-node';
import { CONTROLLER_RULES, type PolicyRule } from '../../../controller/runtime/rbac.js';
import { VALUE_SETS, ofKind, one, render, type K8sObject } from './helm.js';

const rendered = Object.entries(VALUE_SETS).map(([name, opts]) => ({ name, objs: render(opts) }));

function deployments(objs: K8sObject[]): (V1Deployment & K8sObject)[] {
  return ofKind(objs, 'Deployment') as (V1Deployment & K8sObject)[];
}

/** Rules as sorted, comparable strings (the order of rules and of list items carries no meaning). */
function normalize(rules: readonly PolicyRule[]): string[] {
  return rules
    .map((r) => JSON.stringify({ apiGroups: [...r.apiGroups].sort(), resources: [...r.resources].sort(), verbs: [...r.verbs].sort() }))
    .sort();
}

for (const { name, objs } of rendered) {
  describe(`chart security (${name})`, () => {
    it('runs both Deployments as non-root with seccomp RuntimeDefault at pod level', () => {
      const deps = deployments(objs);
      assert.deepEqual(deps.map((d) => d.metadata.name).sort(), ['tiermix-controller', 'tiermix-router']);
      for (const d of deps) {
        const pod = d.spec?.template.spec?.securityContext;
        assert.equal(pod?.runAsNonRoot, true, `${d.metadata.name}: runAsNonRoot`);
        assert.ok((pod?.runAsUser ?? 0) > 0, `${d.metadata.name}: numeric non-root runAsUser`);
        assert.equal(pod?.seccompProfile?.type, 'RuntimeDefault', `${d.metadata.name}: seccomp`);
      }
    });

    it('gives every container a read-only root filesystem, no capabilities, no privilege escalation, and a /tmp emptyDir', () => {
      for (const d of deployments(objs)) {
        const spec = d.spec!.template.spec!;
        for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
          const sc = c.securityContext;
          const where = `${d.metadata.name}/${c.name}`;
          assert.equal(sc?.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
          assert.equal(sc?.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
          assert.deepEqual(sc?.capabilities?.drop, ['ALL'], `${where}: drop ALL`);
          assert.equal(sc?.capabilities?.add, undefined, `${where}: adds no capability`);
          assert.notEqual(sc?.privileged, true, `${where}: not privileged`);
          const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
          assert.ok(tmp, `${where}: /tmp is mounted (the root filesystem is read-only)`);
          const vol = spec.volumes?.find((v) => v.name === tmp.name);
          assert.ok(vol?.emptyDir, `${where}: /tmp is an emptyDir`);
          assert.ok(c.resources?.requests && c.resources.limits?.memory, `${where}: requests and a memory limit`);
        }
        assert.equal(spec.hostNetwork ?? false, false);
        assert.equal(spec.hostPID ?? false, false);
      }
    });

    it('grants the controller exactly CONTROLLER_RULES through one ClusterRole bound to its ServiceAccount', () => {
      const role = one<V1ClusterRole>(objs, 'ClusterRole', '-controller');
      assert.deepEqual(normalize((role.rules ?? []) as PolicyRule[]), normalize(CONTROLLER_RULES));
      // Nothing else grants anything.
      assert.equal(ofKind(objs, 'ClusterRole').length, 1);
      assert.equal(ofKind(objs, 'Role').length, 0);
      assert.equal(ofKind(objs, 'RoleBinding').length, 0);
      const binding = one<V1ClusterRoleBinding>(objs, 'ClusterRoleBinding', '-controller');
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
      const sa = one<V1ServiceAccount>(objs, 'ServiceAccount', '-controller');
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'tiermix' }]);
      const controller = one<V1Deployment>(objs, 'Deployment', '-controller');
      assert.equal(controller.spec?.template.spec?.serviceAccountName, sa.metadata.name);
      assert.notEqual(controller.spec?.template.spec?.automountServiceAccountToken, false, 'the controller needs its token');
    });

    it('gives the router a ServiceAccount with no token and no bindings', () => {
      const sa = one<V1ServiceAccount>(objs, 'ServiceAccount', '-router');
      assert.equal(sa.automountServiceAccountToken, false);
      const router = one<V1Deployment>(objs, 'Deployment', '-router');
      assert.equal(router.spec?.template.spec?.serviceAccountName, sa.metadata.name);
      assert.equal(router.spec?.template.spec?.automountServiceAccountToken, false);
      const bound = ofKind(objs, 'ClusterRoleBinding').flatMap((b) => (b as unknown as V1ClusterRoleBinding).subjects ?? []);
      assert.ok(!bound.some((s) => s.name === sa.metadata.name), 'no binding names the router');
    });
  });
}
