import type { VaultDiscovery, VaultNode } from '../contracts/env';

/**
 * Vault nodes from the pods of its StatefulSet (DESIGN.md Unseal step 1), each addressed directly
 * at its pod IP and the declared container port, never through the Service. Pod labels are
 * adversarial (anyone who may create a pod in the namespace writes them), so a pod becomes a node
 * only when the config's StatefulSet controls it, it runs and has an IP, and it declares the named
 * port; every other match is refused with its reason. Even an admitted node gets a share only
 * after it proves the pinned CA and the configured identity (unseal-decision.ts).
 */
export const PodRefusals = {
  NotOwnedByStatefulSet: 'NotOwnedByStatefulSet',
  NotRunning: 'NotRunning',
  NoPodIp: 'NoPodIp',
  NoSuchPort: 'NoSuchPort',
  BadName: 'BadName',
} as const;
export type PodRefusal = (typeof PodRefusals)[keyof typeof PodRefusals];

export interface PodFacts {
  name: string;
  phase: string;
  podIp?: string;
  ownerStatefulSet?: string;
  ports: ReadonlyArray<{ name: string; port: number }>;
}

const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** IPv4 dotted quad or an IPv6 address: nothing that could carry a path, a user or another host. */
const POD_IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/;

export function vaultNodesFromPods(pods: readonly PodFacts[], discovery: Pick<VaultDiscovery, 'statefulSet' | 'portName' | 'scheme'>): { nodes: VaultNode[]; refused: Array<{ pod: string; reason: PodRefusal }> } {
  const nodes: VaultNode[] = [];
  const refused: Array<{ pod: string; reason: PodRefusal }> = [];
  for (const pod of [...pods].sort((a, b) => a.name.localeCompare(b.name))) {
    const port = pod.ports.find((entry) => entry.name === discovery.portName);
    const reason: PodRefusal | undefined =
      pod.ownerStatefulSet !== discovery.statefulSet ? PodRefusals.NotOwnedByStatefulSet
      : !NODE_ID.test(pod.name) ? PodRefusals.BadName
      : pod.phase !== 'Running' ? PodRefusals.NotRunning
      : !pod.podIp || !POD_IP.test(pod.podIp) ? PodRefusals.NoPodIp
      : !port ? PodRefusals.NoSuchPort
      : undefined;
    if (reason) {
      refused.push({ pod: pod.name, reason });
      continue;
    }
    const host = pod.podIp!.includes(':') ? `[${pod.podIp}]` : pod.podIp!;
    nodes.push({ id: pod.name, url: `${discovery.scheme}://${host}:${port!.port}` });
  }
  return { nodes, refused };
}
