import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { RbacAuthorizer, type KubernetesUser } from '../../sandbox/kubernetes/rbac-authorizer';
import type { ResourceTarget, Verb } from '../../sandbox/kubernetes/request-path';
import { kindOf } from '../../sandbox/kubernetes/resource-kinds';
import type { ResourceName } from '../../sandbox/kubernetes/kube-objects';
import { SHIPPED_RBAC_PATH } from '../../sandbox/compose/shipped-rbac';

/** The Kubernetes emulator's RBAC decisions, as the API server's authorizer makes them. */
const certflow: KubernetesUser = { name: 'certflow', groups: ['system:authenticated'] };
const target = (verb: Verb, resource: ResourceName, namespace?: string, name?: string, subresource?: 'status'): ResourceTarget => ({
  type: 'resource',
  verb,
  kind: kindOf(resource),
  ...(namespace ? { namespace } : {}),
  ...(name ? { name } : {}),
  ...(subresource ? { subresource } : {}),
});
const rbac = (...objects: unknown[]) => {
  const authorizer = new RbacAuthorizer();
  authorizer.apply(objects);
  return authorizer;
};
const role = (namespace: string, rules: unknown[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace }, rules });
const binding = (namespace: string, roleKind: 'Role' | 'ClusterRole', subjects: unknown[]) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'b', namespace },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: 'r' },
  subjects,
});
const user = [{ kind: 'User', name: 'certflow' }];

describe('the Kubernetes emulator’s RBAC', () => {
  it('allows only what a bound Role’s rules name, in the binding’s namespace', () => {
    const authorizer = rbac(role('econ-graph', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }]), binding('econ-graph', 'Role', user));
    expect(authorizer.allows(certflow, target('get', 'secrets', 'econ-graph', 'a'))).toBe(true);
    expect(authorizer.allows(certflow, target('list', 'secrets', 'econ-graph'))).toBe(true);
    expect(authorizer.allows(certflow, target('update', 'secrets', 'econ-graph', 'a'))).toBe(false);
    expect(authorizer.allows(certflow, target('get', 'secrets', 'kube-system', 'a'))).toBe(false);
    expect(authorizer.allows(certflow, target('list', 'secrets'))).toBe(false);
    expect(authorizer.allows(certflow, target('get', 'configmaps', 'econ-graph', 'a'))).toBe(false);
    expect(authorizer.allows({ name: 'someone-else', groups: [] }, target('get', 'secrets', 'econ-graph', 'a'))).toBe(false);
  });

  it('needs the subresource named (or <resource>/*) for a status write, and the main resource does not grant it', () => {
    const main = rbac(role('econ-graph', [{ apiGroups: ['cert-manager.io'], resources: ['certificates'], verbs: ['*'] }]), binding('econ-graph', 'Role', user));
    const status = rbac(role('econ-graph', [{ apiGroups: ['cert-manager.io'], resources: ['certificates/status'], verbs: ['patch'] }]), binding('econ-graph', 'Role', user));
    const any = rbac(role('econ-graph', [{ apiGroups: ['cert-manager.io'], resources: ['certificates/*'], verbs: ['patch'] }]), binding('econ-graph', 'Role', user));
    const write = target('patch', 'certificates', 'econ-graph', 'frontend', 'status');
    expect([main.allows(certflow, write), status.allows(certflow, write), any.allows(certflow, write)]).toEqual([false, true, true]);
    expect(status.allows(certflow, target('patch', 'certificates', 'econ-graph', 'frontend'))).toBe(false);
  });

  it('limits a rule with resourceNames to those objects, so it grants no list and no create', () => {
    const authorizer = rbac(role('istio-system', [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['cacerts'], verbs: ['get', 'update', 'list', 'create'] }]), binding('istio-system', 'Role', user));
    expect(authorizer.allows(certflow, target('get', 'secrets', 'istio-system', 'cacerts'))).toBe(true);
    expect(authorizer.allows(certflow, target('get', 'secrets', 'istio-system', 'istio-ca-secret'))).toBe(false);
    expect(authorizer.allows(certflow, target('list', 'secrets', 'istio-system'))).toBe(false);
    expect(authorizer.allows(certflow, target('create', 'secrets', 'istio-system'))).toBe(false);
  });

  it('grants a ClusterRole in one namespace through a RoleBinding and everywhere through a ClusterRoleBinding, to groups and service accounts too', () => {
    const clusterRole = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' }, rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }] };
    const inOne = rbac(clusterRole, binding('econ-graph', 'ClusterRole', [{ kind: 'Group', name: 'certflow-operators' }]));
    const operator = { name: 'alice', groups: ['certflow-operators'] };
    expect(inOne.allows(operator, target('get', 'deployments', 'econ-graph', 'backend'))).toBe(true);
    expect(inOne.allows(operator, target('get', 'deployments', 'kube-system', 'coredns'))).toBe(false);
    const everywhere = rbac(clusterRole, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'b' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'r' },
      subjects: [{ kind: 'ServiceAccount', name: 'certflow', namespace: 'certflow' }],
    });
    const serviceAccount = { name: 'system:serviceaccount:certflow:certflow', groups: [] };
    expect(everywhere.allows(serviceAccount, target('get', 'deployments', 'kube-system', 'coredns'))).toBe(true);
    expect(everywhere.allows(serviceAccount, target('patch', 'deployments', 'kube-system', 'coredns'))).toBe(false);
  });

  it('refuses with the API server’s Forbidden Status: the message names the user, verb, resource, group and scope', () => {
    const authorizer = rbac();
    const refusal = (request: ResourceTarget) => {
      try {
        authorizer.authorize(certflow, request);
      } catch (error) {
        return (error as { toStatus(): unknown }).toStatus();
      }
      return undefined;
    };
    expect(refusal(target('get', 'secrets', 'kube-system', 'admin-token'))).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'secrets "admin-token" is forbidden: User "certflow" cannot get resource "secrets" in API group "" in the namespace "kube-system"',
      reason: 'Forbidden',
      details: { name: 'admin-token', kind: 'secrets' },
      code: 403,
    });
    expect(refusal(target('list', 'secrets'))).toMatchObject({ message: 'secrets is forbidden: User "certflow" cannot list resource "secrets" in API group "" at the cluster scope', details: { kind: 'secrets' } });
    expect(refusal(target('patch', 'certificates', 'econ-graph', 'frontend', 'status'))).toMatchObject({
      message: 'certificates.cert-manager.io "frontend" is forbidden: User "certflow" cannot patch resource "certificates/status" in API group "cert-manager.io" in the namespace "econ-graph"',
      details: { name: 'frontend', group: 'cert-manager.io', kind: 'certificates' },
    });
  });

  it('takes the shipped deploy/kubernetes/rbac.yaml: Roles in the declared namespaces only, nothing cluster-wide', () => {
    const objects = parseAllDocuments(readFileSync(SHIPPED_RBAC_PATH, 'utf8')).map((document) => document.toJS() as { kind: string; metadata: { namespace?: string } });
    const authorizer = rbac(...objects);
    expect(new Set(objects.map((object) => object.kind))).toEqual(new Set(['Role', 'RoleBinding']));
    expect(new Set(objects.map((object) => object.metadata.namespace))).toEqual(new Set(['econ-graph', 'istio-system']));
    expect(authorizer.allows(certflow, target('list', 'secrets', 'econ-graph'))).toBe(true);
    expect(authorizer.allows(certflow, target('list', 'secrets'))).toBe(false);
    expect(authorizer.allows(certflow, target('get', 'secrets', 'tenant-x', 'x'))).toBe(false);
  });
});
