import { K8sNames, type Target } from '../../functions/contracts/targets';
import { TargetPolicySchema, type TargetPolicy } from '../../functions/contracts/target-policy';
import { admitCandidate, certificateRefusal, declaredBackupOf, declaredNamespaces, declaredTargets, meshPermittedDnsDomains, recheckTarget, type DiscoveredObject } from '../../functions/domain/target-policy';
import { loadConfig } from '../../lib/config';

const policy: TargetPolicy = TargetPolicySchema.parse({
  clusters: [
    {
      cluster: 'primary',
      namespaces: [
        {
          name: 'econ-graph',
          services: [
            { name: 'frontend', kind: 'cert-manager', canary: true, dnsNamePatterns: ['*.frontend.econ-graph.svc'] },
            { name: 'backend', kind: 'tls-secret', extraDnsNames: ['api.econgraph.example'] },
            { name: 'keycloak', kind: 'tls-secret', keyAlgorithm: 'rsa-2048', endpoint: { port: 8443 } },
          ],
        },
      ],
    },
  ],
});
const secret = (namespace: string, name: string, annotations: Record<string, string> = {}): DiscoveredObject => ({ cluster: 'primary', namespace, name, resource: 'Secret', annotations });
const reasonOf = (object: DiscoveredObject) => {
  const admission = admitCandidate(policy, object, 'ecdsa-p256');
  return 'refused' in admission ? admission.refused.reason : 'Admitted';
};
const target = (id: string) => declaredTargets(policy, 'ecdsa-p256').find((entry) => entry.id === id)!;

describe('the declared target policy', () => {
  it('derives every declared target from the policy alone: names, Secret, workloads, endpoint and key algorithm', () => {
    expect(declaredTargets(policy, 'ecdsa-p256')).toEqual([
      expect.objectContaining({ id: 'primary/econ-graph/backend-tls', kind: 'tls-secret', secretName: 'backend-tls', workloads: ['backend'], dnsNames: ['backend.econ-graph.svc', 'backend.econ-graph.svc.cluster.local', 'api.econgraph.example'], endpoint: { host: 'backend.econ-graph.svc', port: 443, serverName: 'backend.econ-graph.svc' } }),
      expect.objectContaining({ id: 'primary/econ-graph/frontend', kind: 'cert-manager', certificateName: 'frontend', secretName: 'frontend-tls', canary: true }),
      expect.objectContaining({ id: 'primary/econ-graph/keycloak-tls', keyAlgorithm: 'rsa-2048', endpoint: { host: 'keycloak.econ-graph.svc', port: 8443, serverName: 'keycloak.econ-graph.svc' } }),
    ]);
  });

  it.each([
    ['a declared service Secret, whatever its annotations claim', secret('econ-graph', 'backend-tls', { [K8sNames.DnsNamesAnnotation]: 'www.bank.example', [K8sNames.EndpointAnnotation]: 'evil.example:443' }), 'Admitted'],
    ['the default mesh location istio-system/cacerts', secret('istio-system', 'cacerts', { [K8sNames.KindAnnotation]: 'istio-cacerts' }), 'Admitted'],
    ['a labelled Secret in a namespace the policy does not declare', secret('tenant-x', 'anything'), 'NamespaceNotDeclared'],
    ['an istio-cacerts claim in a tenant namespace', secret('tenant-x', 'cacerts', { [K8sNames.KindAnnotation]: 'istio-cacerts' }), 'MeshLocationNotDeclared'],
    ['an istio-cacerts claim inside a declared namespace', secret('econ-graph', 'mesh', { [K8sNames.KindAnnotation]: 'istio-cacerts' }), 'MeshLocationNotDeclared'],
    ['a Secret claiming backend and keycloak names', secret('econ-graph', 'stolen', { [K8sNames.DnsNamesAnnotation]: 'backend.econ-graph.svc,keycloak.econ-graph.svc' }), 'ServiceClaimRefused'],
    ['a Secret naming another service in its service annotation', secret('econ-graph', 'stolen', { [K8sNames.ServiceAnnotation]: 'keycloak' }), 'ServiceClaimRefused'],
    ['an undeclared Secret in a declared namespace', secret('econ-graph', 'random-tls'), 'NotDeclared'],
    ['a declared Secret claiming another kind', secret('econ-graph', 'backend-tls', { [K8sNames.KindAnnotation]: 'istio-cacerts' }), 'MeshLocationNotDeclared'],
    ['a mesh location claimed as a tls-secret', secret('istio-system', 'cacerts', { [K8sNames.KindAnnotation]: 'tls-secret' }), 'KindNotAllowed'],
    ['a cluster the policy does not declare', { ...secret('econ-graph', 'backend-tls'), cluster: 'other' }, 'ClusterNotDeclared'],
  ])('judges %s', (_name, object, expected) => {
    expect(reasonOf(object)).toBe(expected);
  });

  it('refuses a declared Certificate whose spec carries a name outside the policy, and admits pattern names', () => {
    const frontend = target('primary/econ-graph/frontend');
    expect(certificateRefusal(policy, frontend, { secretName: 'frontend-tls', dnsNames: ['frontend.econ-graph.svc', 'a.frontend.econ-graph.svc'] })).toBeUndefined();
    expect(certificateRefusal(policy, frontend, { secretName: 'frontend-tls', dnsNames: ['frontend.econ-graph.svc', 'www.bank.example'] })?.reason).toBe('NamesNotAllowed');
    expect(certificateRefusal(policy, frontend, { secretName: 'frontend-tls', dnsNames: ['a.b.frontend.econ-graph.svc'] })?.reason).toBe('NamesNotAllowed');
    expect(certificateRefusal(policy, frontend, { secretName: 'keycloak-tls', dnsNames: ['frontend.econ-graph.svc'] })?.reason).toBe('TargetAltered');
  });

  it('refuses a forged ledger item: an istio-cacerts target away from the mesh locations', () => {
    const forged: Target = { ...target('primary/econ-graph/backend-tls'), id: 'primary/tenant-x/cacerts', namespace: 'tenant-x', kind: 'istio-cacerts', secretName: 'cacerts', endpoint: undefined } as Target;
    const check = recheckTarget(policy, forged, 'ecdsa-p256');
    expect('refused' in check && check.refused.reason).toBe('MeshLocationNotDeclared');
  });

  it.each([
    ['more names', { dnsNames: ['backend.econ-graph.svc', 'www.bank.example'] }, 'dnsNames'],
    ['another endpoint', { endpoint: { host: 'evil.example', port: 443, serverName: 'backend.econ-graph.svc' } }, 'endpoint'],
    ['another kind', { kind: 'istio-cacerts' as const }, 'NotDeclared'],
    ['other workloads', { workloads: ['keycloak'] }, 'workloads'],
  ])('refuses a ledger item altered to carry %s', (_name, change, named) => {
    const check = recheckTarget(policy, { ...target('primary/econ-graph/backend-tls'), ...change }, 'ecdsa-p256');
    expect('refused' in check).toBe(true);
    if ('refused' in check) expect(`${check.refused.reason} ${check.refused.detail}`).toContain(named === 'NotDeclared' ? 'MeshLocationNotDeclared' : named);
  });

  it('gives back the policy’s own target for an untouched ledger item', () => {
    const backend = target('primary/econ-graph/backend-tls');
    expect(recheckTarget(policy, structuredClone(backend), 'ecdsa-p256')).toEqual({ target: backend });
  });

  it('reads only the declared namespaces and the mesh locations', () => {
    expect(declaredNamespaces(policy, 'primary')).toEqual(['econ-graph', 'istio-system']);
    expect(declaredNamespaces(policy, 'other')).toEqual([]);
  });

  it('constrains the mesh CA to the declared namespaces’ service domains unless the config names them', () => {
    expect(meshPermittedDnsDomains(policy)).toEqual(['econ-graph.svc', 'econ-graph.svc.cluster.local']);
    expect(policy.mesh.trustDomain).toBe('cluster.local');
    expect(meshPermittedDnsDomains(loadConfig('config/econgraph.json').kubernetes.targets)).toEqual(['econ-graph.svc', 'econ-graph.svc.cluster.local']);
  });

  it.each([
    ['a backup certflow names for a declared Secret', { namespace: 'econ-graph', name: 'backend-tls-cfbk-0a1b2c3d', annotations: { [K8sNames.BackupOfAnnotation]: 'backend-tls' } }, 'tls-secret'],
    ['a backup of the mesh location', { namespace: 'istio-system', name: 'cacerts-cfbk-0a1b2c3d', annotations: { [K8sNames.BackupOfAnnotation]: 'cacerts' } }, 'istio-cacerts'],
    ['a labelled Secret not named as a backup', { namespace: 'econ-graph', name: 'keycloak-admin', annotations: { [K8sNames.BackupOfAnnotation]: 'keycloak-tls' } }, undefined],
    ['a backup of an undeclared Secret', { namespace: 'econ-graph', name: 'random-cfbk-0a1b2c3d', annotations: { [K8sNames.BackupOfAnnotation]: 'random' } }, undefined],
    ['a backup in an undeclared namespace', { namespace: 'tenant-x', name: 'backend-tls-cfbk-0a1b2c3d', annotations: { [K8sNames.BackupOfAnnotation]: 'backend-tls' } }, undefined],
  ])('recognises %s as certflow’s only when it is one', (_name, backup, kind) => {
    expect(declaredBackupOf(policy, 'primary', backup)?.kind).toBe(kind);
  });
});
