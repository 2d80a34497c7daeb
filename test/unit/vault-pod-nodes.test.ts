import { vaultNodesFromPods, type PodFacts, type PodRefusal } from '../../functions/domain/vault-pod-nodes';

const discovery = { statefulSet: 'vault', portName: 'https', scheme: 'https' as const };
const pod = (overrides: Partial<PodFacts> = {}): PodFacts => ({ name: 'vault-0', phase: 'Running', podIp: '10.0.0.10', ownerStatefulSet: 'vault', ports: [{ name: 'https', port: 8200 }], ...overrides });

describe('Vault nodes from the pods of its StatefulSet', () => {
  it('addresses an IPv6 pod in brackets, at its named port', () => {
    expect(vaultNodesFromPods([pod({ podIp: 'fd00::1' })], discovery).nodes).toEqual([{ id: 'vault-0', url: 'https://[fd00::1]:8200' }]);
  });

  it.each<[string, Partial<PodFacts>, PodRefusal]>([
    ['a pod another StatefulSet controls', { ownerStatefulSet: 'other' }, 'NotOwnedByStatefulSet'],
    ['a pod no StatefulSet controls', { ownerStatefulSet: undefined }, 'NotOwnedByStatefulSet'],
    ['a pod that is not running', { phase: 'Pending' }, 'NotRunning'],
    ['a pod without an IP', { podIp: undefined }, 'NoPodIp'],
    ['a pod whose IP could carry a host or a path', { podIp: '10.0.0.1@evil.example/' }, 'NoPodIp'],
    ['a pod without the named port', { ports: [{ name: 'http', port: 8200 }] }, 'NoSuchPort'],
    ['a pod whose name is no node id', { name: 'Vault_0' }, 'BadName'],
  ])('refuses %s, and names why', (_name, overrides, reason) => {
    const { nodes, refused } = vaultNodesFromPods([pod(overrides)], discovery);
    expect(nodes).toEqual([]);
    expect(refused.map((entry) => entry.reason)).toEqual([reason]);
  });
});
