import { loadConfig, parseConfig, parseDuration } from '../../lib/config';
import { ConfigError } from '../../functions/contracts/errors';

const seed = () => structuredClone(loadConfig('config/econgraph.json')) as unknown as Record<string, any>;

describe('the deployment config', () => {
  it('accepts the seed topology with five services and three Vault nodes', () => {
    const config = loadConfig('config/econgraph.json');
    expect(config.kubernetes.targets.clusters[0]!.namespaces[0]!.services.map((s) => s.name)).toEqual(['frontend', 'backend', 'chart-api', 'mcp-server', 'keycloak']);
    expect(config.vault.nodes).toHaveLength(3);
    expect(parseDuration(config.pki.leafTtl)).toBe(30 * 86400);
  });

  it.each([
    ['a threshold above the share count', (c: any) => (c.vault.threshold = 9), 'vault.threshold'],
    ['a node URL that is not a URL', (c: any) => (c.vault.nodes[0].url = 'vault-0'), 'vault.nodes.0.url'],
    ['duplicate node ids', (c: any) => (c.vault.nodes[1].id = 'vault-0'), 'vault.nodes'],
    ['renewBefore longer than the leaf TTL', (c: any) => (c.pki.renewBefore = '31d'), 'pki.renewBefore'],
    ['a KMS alias without the alias/ prefix', (c: any) => (c.kms.unsealKeyAlias = 'certflow'), 'kms.unsealKeyAlias'],
    ['an unknown target kind', (c: any) => (c.kubernetes.targets.clusters[0].namespaces[0].services[0].kind = 'acme'), 'kubernetes.targets.clusters.0.namespaces.0.services.0.kind'],
    ['istio-cacerts declared as a service kind', (c: any) => (c.kubernetes.targets.clusters[0].namespaces[0].services[0].kind = 'istio-cacerts'), 'kubernetes.targets.clusters.0.namespaces.0.services.0.kind'],
    ['a policy cluster that kubernetes.clusters does not name', (c: any) => (c.kubernetes.targets.clusters[0].cluster = 'elsewhere'), 'kubernetes.targets.clusters.0.cluster'],
    ['a service declared twice in one namespace', (c: any) => c.kubernetes.targets.clusters[0].namespaces[0].services.push({ name: 'backend', kind: 'tls-secret' }), 'kubernetes.targets.clusters.0.namespaces.0.services.5.name'],
    ['an unknown key in a service', (c: any) => (c.kubernetes.targets.clusters[0].namespaces[0].services[0].dnsNames = ['x.example']), 'kubernetes.targets.clusters.0.namespaces.0.services.0'],
    ['an account root as a compromise reporter', (c: any) => (c.compromise.reporterPrincipals = ['arn:aws:iam::123456789012:root']), 'compromise.reporterPrincipals.0'],
    ['no compromise reporter', (c: any) => (c.compromise.reporterPrincipals = []), 'compromise.reporterPrincipals'],
    ['the old kubernetes.services list', (c: any) => (c.kubernetes.services = []), 'kubernetes'],
    ['a wildcard among the extra names', (c: any) => (c.kubernetes.targets.clusters[0].namespaces[0].services[1].extraDnsNames = ['*.bank.example']), 'kubernetes.targets.clusters.0.namespaces.0.services.1.extraDnsNames.0'],
  ])('rejects %s with a message naming the field', (_name, mutate, field) => {
    const raw = seed();
    mutate(raw);
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(new RegExp(`${field.replace(/\./g, '\\.')}:`));
  });

  it('rejects a file that is not JSON with a ConfigError', () => {
    expect(() => loadConfig('README.md')).toThrow(/not valid JSON/);
  });
});
