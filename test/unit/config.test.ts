import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig, parseDuration } from '../../lib/config';
import { ConfigError } from '../../functions/contracts/errors';
import { makeKeys, makeLeaf, makeRoot } from '../support/pki-fixtures';

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
    ['both vault.nodes and vault.discovery', (c: any) => (c.vault.discovery = { cluster: 'primary', namespace: 'vault', labelSelector: 'app=vault', statefulSet: 'vault' }), 'vault.nodes'],
    ['vault.discovery in a cluster that kubernetes.clusters does not name', (c: any) => { delete c.vault.nodes; c.vault.discovery = { cluster: 'elsewhere', namespace: 'vault', labelSelector: 'app=vault', statefulSet: 'vault' }; }, 'vault.discovery.cluster'],
    ['a rollout budget below the batches running at once', (c: any) => (c.policy.rolloutBudget = { perCluster: 8, perNamespace: 2 }), 'policy.rolloutBudget.perNamespace'],
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

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:certflow/kube-token-AbC123';
const tokenCluster = { name: 'primary', auth: 'token', server: 'https://api.primary.example:6443', tokenSecretArn: SECRET_ARN };
const problemsOf = (raw: unknown, text?: string): string => {
  try {
    parseConfig(raw, 'config', text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
};

describe('the strict deployment config (issue 13 item 4)', () => {
  it.each([
    ['an unknown top-level key', (c: any) => (c.valut = {}), '(root)'],
    ['an unknown key in vault', (c: any) => (c.vault.caFile = 'x'), 'vault'],
    ['an unknown key in a Vault node', (c: any) => (c.vault.nodes[0].tls = false), 'vault.nodes.0'],
    ['an unknown key in vault.auth', (c: any) => (c.vault.auth.header = 'x'), 'vault.auth'],
    ['an unknown key in kms', (c: any) => (c.kms.keyArn = 'x'), 'kms'],
    ['an unknown key in pki', (c: any) => (c.pki.maxTtl = '1d'), 'pki'],
    ['an unknown key in policy', (c: any) => (c.policy.batch = 3), 'policy'],
    ['an unknown key in schedules', (c: any) => (c.schedules.sweep = 'rate(1 day)'), 'schedules'],
    ['an unknown key in compromise', (c: any) => (c.compromise.approval = false), 'compromise'],
    ['an unknown key in alarms', (c: any) => (c.alarms.topic = 'x'), 'alarms'],
    ['an unknown key in a cluster', (c: any) => (c.kubernetes.clusters[0].insecure = true), 'kubernetes.clusters.0'],
  ])('rejects %s, naming the object that holds it', (_name, mutate, field) => {
    const raw = seed();
    mutate(raw);
    expect(problemsOf(raw)).toMatch(new RegExp(`${field.replace(/[.()]/g, '\\$&')}: unknown key`));
  });

  it('suggests the key that a misspelled one was probably meant to be', () => {
    const raw = seed();
    raw.vault.treshold = raw.vault.threshold;
    delete raw.vault.threshold;
    raw.policy.concurency = 2;
    const message = problemsOf(raw);
    expect(message).toContain('vault: unknown key "treshold" (did you mean "threshold"?)');
    expect(message).toContain('policy: unknown key "concurency" (did you mean "concurrency"?)');
  });

  it('suggests nothing for a key far from every known one', () => {
    const raw = seed();
    raw.kms.frobnicate = true;
    expect(problemsOf(raw)).toMatch(/kms: unknown key "frobnicate"; allowed: unsealKeyAlias, operatorRoles, adminRoles/);
  });

  it.each([
    ['an http:// Vault address', (c: any) => (c.vault.address = 'http://vault.internal:8200'), 'vault.address'],
    ['an http:// Vault node', (c: any) => (c.vault.nodes[1].url = 'http://vault-1.internal:8200'), 'vault.nodes.1.url'],
    ['no Vault CA (the public roots would decide which Vault is ours)', (c: any) => delete c.vault.caCertificate, 'vault.caCertificate'],
    ['Vault pods discovered over http', (c: any) => ((c.vault.discovery = { cluster: 'primary', namespace: 'vault', labelSelector: 'app=vault', statefulSet: 'vault', scheme: 'http' }), delete c.vault.nodes), 'vault.discovery.scheme'],
    ['an http:// cluster endpoint', (c: any) => (c.kubernetes.clusters[0] = { name: 'primary', auth: 'eks', endpoint: 'http://x.eks.amazonaws.com', caData: 'Q0E=', region: 'eu-west-1' }), 'kubernetes.clusters.0.endpoint'],
    ['an http:// token cluster server', (c: any) => (c.kubernetes.clusters[0].server = 'http://api.primary.example:6443'), 'kubernetes.clusters.0.server'],
    ['an http:// token-cluster server', (c: any) => (c.kubernetes.clusters[0] = { ...tokenCluster, server: 'http://api:6443' }), 'kubernetes.clusters.0.server'],
    ['an inline cluster token', (c: any) => (c.kubernetes.clusters[0] = { ...tokenCluster, token: 's3cr3t' }), 'kubernetes.clusters.0.token'],
    ['skipTlsVerify on a cluster', (c: any) => (c.kubernetes.clusters[0] = { ...tokenCluster, skipTlsVerify: true }), 'kubernetes.clusters.0.skipTlsVerify'],
    ['skipTlsVerify: false on a cluster as well', (c: any) => (c.kubernetes.clusters[0] = { ...tokenCluster, skipTlsVerify: false }), 'kubernetes.clusters.0.skipTlsVerify'],
    ['a kubeconfig secret that is not an ARN', (c: any) => (c.kubernetes.clusters[0] = { name: 'primary', auth: 'kubeconfig-secret', secretArn: 'certflow/kubeconfig' }), 'kubernetes.clusters.0.secretArn'],
    ['a secret ARN without its six-character suffix', (c: any) => (c.vault.auth = { method: 'token', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:certflow' }), 'vault.auth.secretArn'],
    ['an inline AppRole secret id', (c: any) => (c.vault.auth = { method: 'approle', secretArn: SECRET_ARN, secretId: 'x' }), 'vault.auth.secretId'],
    ['an inline Vault token', (c: any) => (c.vault.auth = { method: 'token', secretArn: SECRET_ARN, token: 'hvs.x' }), 'vault.auth.token'],
    ['an auth mount that climbs out of auth/', (c: any) => (c.vault.auth.mount = '../../sys/raw'), 'vault.auth.mount'],
    ['an auth mount with a leading slash', (c: any) => (c.vault.auth.mount = '/aws'), 'vault.auth.mount'],
    ['a Vault login role with a slash', (c: any) => (c.vault.auth.roles.rotation = '../admin'), 'vault.auth.roles.rotation'],
    ['one Vault login role for every function (the old single role)', (c: any) => (c.vault.auth.role = 'certflow-lambda'), 'vault.auth.role'],
    ['a server id header that is not host-like', (c: any) => (c.vault.auth.iamServerIdHeader = 'vault\nX-Evil: 1'), 'vault.auth.iamServerIdHeader'],
    ['a PKI role that climbs a path', (c: any) => (c.vault.role = '../../sys/raw'), 'vault.role'],
    ['a PKI mount with a slash', (c: any) => (c.vault.rootMount = 'pki/../sys'), 'vault.rootMount'],
    ['a trust-bundle ConfigMap name with a slash', (c: any) => (c.kubernetes.trustBundleConfigMap = '../kube-system/x'), 'kubernetes.trustBundleConfigMap'],
    ['an AWS managed key alias', (c: any) => (c.kms.unsealKeyAlias = 'alias/aws/kms'), 'kms.unsealKeyAlias'],
    ['a schedule that is not an expression', (c: any) => (c.schedules.unseal = 'every minute'), 'schedules.unseal'],
    ['no clusters at all', (c: any) => delete c.kubernetes.clusters, 'kubernetes.clusters'],
    ['a Vault CA that is not a PEM certificate', (c: any) => (c.vault.caCertificate = 'not a certificate'), 'vault.caCertificate'],
    ['a log retention CloudWatch does not offer', (c: any) => (c.logs = { retentionDays: 42 }), 'logs.retentionDays'],
    ['no operator role for the root token', (c: any) => delete c.kms.operatorRoles, 'kms.operatorRoles'],
    ['an IAM user as a key administrator', (c: any) => (c.kms.adminRoles = ['user/alice']), 'kms.adminRoles.0'],
    ['the account root as a key operator', (c: any) => (c.kms.operatorRoles = ['arn:aws:iam::123456789012:root']), 'kms.operatorRoles.0'],
    ['no network at all (no silent default outside a VPC)', (c: any) => delete c.network, 'network'],
    ['vpc "none" without its reason', (c: any) => (c.network = { vpc: 'none' }), 'network.reason'],
    ['vpc "none" with a reason too short to be one', (c: any) => (c.network = { vpc: 'none', reason: 'dev' }), 'network.reason'],
    ['a reason given with a VPC', (c: any) => (c.network.reason = 'the functions run in the VPC anyway'), 'network.reason'],
    ['a subnet that is not a subnet id', (c: any) => (c.network.vpc.subnets[0].id = 'subnet-xyz'), 'network.vpc.subnets.0.id'],
    ['a misspelled VPC key', (c: any) => (c.network.vpc.subnetIds = []), 'network.vpc'],
    ['no security group', (c: any) => (c.network.vpc.securityGroupIds = []), 'network.vpc.securityGroupIds'],
    ['a reserved concurrency below the batches certflow runs at once', (c: any) => (c.functions = { reservedConcurrency: 2 }), 'functions.reservedConcurrency'],
    ['a reserved concurrency for a function that does not exist', (c: any) => (c.functions = { reservedConcurrencyOf: { UnsealNod: 5 } }), 'functions.reservedConcurrencyOf'],
    ['a function reserved below one UnsealNode per Vault node', (c: any) => (c.functions = { reservedConcurrencyOf: { UnsealNode: 1 } }), 'functions.reservedConcurrencyOf.UnsealNode'],
    ['an IAM user as the CloudFormation execution role', (c: any) => (c.kms.cloudFormationExecutionRole = 'user/deployer'), 'kms.cloudFormationExecutionRole'],
    ['EKS access entries without a cluster name', (c: any) => (c.kubernetes.clusters[0] = { name: 'primary', auth: 'eks', endpoint: 'https://x.eks.amazonaws.com', caData: 'Q0E=', region: 'eu-west-1', accessEntries: {} }), 'kubernetes.clusters.0.accessEntries.clusterName'],
  ])('refuses %s, naming the field', (_name, mutate, field) => {
    const raw = seed();
    mutate(raw);
    expect(problemsOf(raw)).toMatch(new RegExp(`(^|\\s)${field.replace(/\./g, '\\.')}: `));
  });

  it('accepts vpc "none" with its reason, and per-function concurrency and EKS access entries', () => {
    const raw = seed();
    raw.network = { vpc: 'none', reason: 'a sandbox account whose Vault nodes are public' };
    raw.functions = { reservedConcurrency: 5, reservedConcurrencyOf: { UnsealNode: 6 } };
    raw.kubernetes.clusters[0] = { name: 'primary', auth: 'eks', endpoint: 'https://x.eks.amazonaws.com', caData: 'Q0E=', region: 'eu-west-1', accessEntries: { clusterName: 'prod-eks' } };
    const config = parseConfig(raw);
    expect(config.network).toEqual({ vpc: 'none', reason: 'a sandbox account whose Vault nodes are public' });
    expect(config.functions).toEqual({ reservedConcurrency: 5, reservedConcurrencyOf: { UnsealNode: 6 } });
    expect(config.kubernetes.clusters[0]).toMatchObject({ accessEntries: { clusterName: 'prod-eks', username: 'certflow' } });
  });

  it('says why an inline credential or skipTlsVerify is refused', () => {
    const raw = seed();
    raw.kubernetes.clusters[0] = { ...tokenCluster, token: 's3cr3t', skipTlsVerify: true };
    const message = problemsOf(raw);
    expect(message).toContain('kubernetes.clusters.0.token: inline credentials are refused');
    expect(message).toContain('kubernetes.clusters.0.skipTlsVerify: skipTlsVerify is refused');
    expect(message).not.toContain('s3cr3t');
  });

  it('accepts every cluster form when its credential is a full Secrets Manager ARN', () => {
    const raw = seed();
    raw.kubernetes.clusters = [tokenCluster, { name: 'onprem', auth: 'kubeconfig-secret', secretArn: SECRET_ARN }];
    raw.vault.auth = { method: 'approle', secretArn: SECRET_ARN, mount: 'approle/certflow' };
    const config = parseConfig(raw);
    expect(config.kubernetes.clusters.map((cluster) => cluster.auth)).toEqual(['token', 'kubeconfig-secret']);
    expect(config.vault.auth).toEqual({ method: 'approle', secretArn: SECRET_ARN, mount: 'approle/certflow' });
  });

  it('accepts a PEM CA certificate as the pinned Vault CA and refuses a server certificate there', async () => {
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(Date.now() + 86_400_000);
    const ca = await makeRoot({ name: 'CN=vault CA', key: await makeKeys('ec'), notBefore, notAfter });
    const leaf = await makeLeaf({ issuer: ca, key: await makeKeys('ec'), commonName: 'vault-0', dnsNames: ['vault-0.internal'], notBefore, notAfter });
    const raw = seed();
    raw.vault.caCertificate = ca.pem;
    expect(parseConfig(raw).vault.caCertificate).toBe(ca.pem);
    raw.vault.caCertificate = leaf.pem;
    expect(problemsOf(raw)).toMatch(/vault\.caCertificate: every certificate must be a CA certificate/);
  });

  it('names the line of the file where the bad field sits', () => {
    const raw = seed();
    raw.pki.leafTtl = '30 days';
    raw.vault.treshold = 3;
    const text = JSON.stringify(raw, null, 2);
    const lines = text.split('\n');
    const leafLine = lines.findIndex((line) => line.includes('"leafTtl"')) + 1;
    const vaultLine = lines.findIndex((line) => line.includes('"vault"')) + 1;
    const message = problemsOf(raw, text);
    expect(message).toMatch(new RegExp(`pki\\.leafTtl: a duration like 30d, 720h, 90m or 45s \\(line ${leafLine}\\)`));
    expect(message).toMatch(new RegExp(`vault: unknown key "treshold".*\\(line ${vaultLine}\\)`));
  });

  it('names the line and column of a JSON syntax error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certflow-config-'));
    try {
      const path = join(dir, 'broken.json');
      writeFileSync(path, '{\n  "name": "x",\n  "vault": {,\n}\n');
      expect(() => loadConfig(path)).toThrow(/is not valid JSON: line 3, column 13/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
