import type { CertflowConfig } from '../../lib/config';
import type { KubernetesEmulatorHandle } from '../kubernetes/kubernetes-emulator';
import { parseLabelSelector } from '../kubernetes/label-selector';
import { CERTFLOW_KUBERNETES_USER } from './shipped-rbac';

type VaultDiscoveryConfig = NonNullable<CertflowConfig['vault']['discovery']>;

/** The sandbox's Vault nodes, when the config discovers them: one pod of the StatefulSet each. */
export const DISCOVERED_NODE_COUNT = 3;

/** The node ids the sandbox starts for a discovery config: the StatefulSet's pod names, `<statefulSet>-<ordinal>`. */
export function discoveredNodeIds(discovery: VaultDiscoveryConfig, count = DISCOVERED_NODE_COUNT): string[] {
  return Array.from({ length: count }, (_, ordinal) => `${discovery.statefulSet}-${ordinal}`);
}

/**
 * The labels a pod needs to match the configured selector. Only equality requirements (and
 * `exists`) name a value a pod can carry; a selector with any other operator is refused, since
 * the sandbox could only guess which labels a real StatefulSet's pods would carry.
 */
export function labelsForSelector(selector: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const requirement of parseLabelSelector(selector)) {
    if (requirement.operator === 'equals' || (requirement.operator === 'in' && requirement.values.length === 1)) labels[requirement.key] = requirement.values[0]!;
    else if (requirement.operator === 'exists') labels[requirement.key] = 'true';
    else throw new Error(`the sandbox seeds Vault pods for equality selectors only, not ${JSON.stringify(selector)}`);
  }
  return labels;
}

/** A pod of the Vault StatefulSet (or, with another owner, a look-alike) listening at `url`. */
export function vaultPod(discovery: VaultDiscoveryConfig, name: string, url: string, owner: string = discovery.statefulSet) {
  const { hostname, port } = new URL(url);
  return {
    metadata: {
      name,
      namespace: discovery.namespace,
      labels: labelsForSelector(discovery.labelSelector),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: owner, uid: `statefulset-${owner}`, controller: true, blockOwnerDeletion: true }],
    },
    spec: { containers: [{ name: 'vault', image: 'hashicorp/vault:1.19.0', ports: [{ name: discovery.portName, containerPort: Number(port), protocol: 'TCP' }] }] },
    // Every node listens on loopback: the pod IP is the host the Vault CA's certificate names.
    status: { phase: 'Running', podIP: hostname, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/**
 * Registers the sandbox's Vault nodes as the pods of the configured StatefulSet, and grants the
 * functions' user what README's "Vault nodes from the cluster" asks an operator to grant: `list`
 * on pods in the discovery namespace (and nothing else there).
 */
export function registerVaultPods(kubernetes: KubernetesEmulatorHandle, discovery: VaultDiscoveryConfig, nodes: ReadonlyArray<{ id: string; url: string }>): void {
  const store = kubernetes.store;
  if (!store.get('namespaces', { name: discovery.namespace })) store.create('namespaces', { metadata: { name: discovery.namespace } } as never);
  for (const node of nodes) store.create('pods', vaultPod(discovery, node.id, node.url) as never);
  const name = 'certflow-vault-discovery';
  kubernetes.applyRbac([
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: discovery.namespace }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace: discovery.namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: CERTFLOW_KUBERNETES_USER }],
    },
  ]);
}

/** Points the pod of a rescheduled node at its new address, as the kubelet reports a new pod. */
export function moveVaultPod(kubernetes: KubernetesEmulatorHandle, discovery: VaultDiscoveryConfig, name: string, url: string): void {
  kubernetes.store.delete('pods', { namespace: discovery.namespace, name });
  kubernetes.store.create('pods', vaultPod(discovery, name, url) as never);
}
