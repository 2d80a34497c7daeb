import { NodeVaultPki } from '../../functions/adapters/vault/node-vault-pki';
import { CachedLogin, appRoleLogin, awsIamLogin, staticToken } from '../../functions/adapters/vault/vault-login';
import { tokenProviderFromEnv } from '../../functions/adapters/vault/token-provider-from-env';
import { createVaultClient } from '../../functions/adapters/vault/vault-client';
import { VaultPermissionError, VaultRateLimitedError, VaultRequestError, VaultSealedError } from '../../functions/contracts/errors';
import type { Log } from '../../functions/ports/log';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { SandboxPki } from '../../sandbox/compose/pki-setup';
import { SANDBOX_CREDENTIALS } from '../../sandbox/compose/sandbox';
import { startPkiCloud } from '../support/local-cloud-fixture';
import { createServingCertificate } from '../../sandbox/x509/serving-certificate';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';

/** The VaultPki adapter and the Vault logins against the sandbox Vault, over HTTPS (its CA pinned) with node-vault. */
jest.setTimeout(30_000);

const warnings: Array<{ operation: string; warnings: string[] }> = [];
const log: Log = {
  debug() {},
  info() {},
  warn(_message, ...fields) {
    warnings.push(fields[0] as { operation: string; warnings: string[] });
  },
  error() {},
};
const clock = { now: () => new Date() };

describe('the node-vault PKI adapter', () => {
  let cloud: LocalCloud;
  let sandboxPki: SandboxPki;
  let url: string;
  const adapter = (token = sandboxPki.rootToken) => new NodeVaultPki(createVaultClient({ endpoint: url, caPem: cloud.sandbox.vaultCaCertificate }), staticToken(token), log);

  beforeAll(async () => {
    ({ cloud, pki: sandboxPki } = await startPkiCloud());
    url = cloud.sandbox.vault.nodes[0]!.url;
  });
  afterAll(async () => cloud?.sandbox.close());
  afterEach(() => cloud.sandbox.vault.faults.clear());

  it('reaches the sandbox\'s Vault over https only, and refuses its node when pinned to another CA, with a typed error and no answer read', async () => {
    // The sandbox's Vault is pinned like a production one (issue 13 item 1): Node's TLS decides.
    const stranger = await createServingCertificate('127.0.0.1', 'some other CA');
    const pinnedElsewhere = new NodeVaultPki(createVaultClient({ endpoint: url, caPem: stranger.certPem, timeoutMs: 2000 }), staticToken(sandboxPki.rootToken), log);

    const failure = await pinnedElsewhere.listIssuers('pki_int').catch((error: unknown) => error);

    expect(cloud.sandbox.vault.nodes.map((node) => new URL(node.url).protocol)).toEqual(['https:', 'https:', 'https:']);
    expect(failure).toMatchObject({ name: 'TlsIdentityError', retryable: false });
    expect(String((failure as Error & { cause?: { code?: string } }).cause?.code ?? (failure as Error).message)).toMatch(/CERT|certificate|verify/i);
  });

  it('lists issuers with their names and which one is default, the imported root without a key', async () => {
    const issuers = await adapter().listIssuers('pki_int');
    expect(issuers).toHaveLength(2);
    expect(issuers).toContainEqual(expect.objectContaining({ issuerId: sandboxPki.intermediateIssuerId, issuerName: 'intermediate', isDefault: true, keyId: sandboxPki.intermediateKeyId }));
    expect(issuers).toContainEqual(expect.objectContaining({ isDefault: false, keyId: '' }));
  });

  it('reads an empty LIST (Vault answers 404) as an empty list', async () => {
    const client = sandboxVaultClient(cloud.sandbox, { token: sandboxPki.rootToken });
    await client.write('sys/mounts/pki_empty', { type: 'pki' });
    expect(await adapter().listIssuers('pki_empty')).toEqual([]);
    expect(await adapter().listCertificates('pki_empty')).toEqual([]);
  });

  it('updates an issuer with PATCH, leaving the fields it does not name as they were', async () => {
    const pki = adapter();
    await pki.updateIssuer('pki_int', sandboxPki.intermediateIssuerId, { leafNotAfterBehavior: 'truncate' });
    const renamed = await pki.updateIssuer('pki_int', sandboxPki.intermediateIssuerId, { issuerName: 'intermediate-g1' });

    expect(renamed.issuerName).toBe('intermediate-g1');
    expect(renamed.leafNotAfterBehavior).toBe('truncate');
    expect(renamed.usage).toEqual(['crl-signing', 'issuing-certificates', 'ocsp-signing', 'read-only']);
    await pki.updateIssuer('pki_int', sandboxPki.intermediateIssuerId, { issuerName: 'intermediate', leafNotAfterBehavior: 'err' });
  });

  it('treats the 202 of tidy as started and logs its warnings', async () => {
    const result = await adapter().tidy('pki_int', { tidy_cert_store: true, tidy_revoked_certs: true });
    expect(result.started).toBe(true);
    expect(result.warnings.join(' ')).toMatch(/Tidy operation successfully started/);
  });

  it('issues a leaf with the key type the request asks for and returns its chain', async () => {
    const leaf = await adapter().issueLeaf('pki_int', 'econ-graph-services', { commonName: 'keycloak.econ-graph.svc', keyType: 'rsa', keyBits: 2048, ttl: '24h' });
    expect(leaf.privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
    expect(leaf.caChainPem[0]!.trim()).toBe(sandboxPki.intermediateCertificate.trim());
    expect(leaf.serialNumber).toMatch(/^([0-9a-f]{2}:)+[0-9a-f]{2}$/);
  });

  it.each([
    ['a name the role does not allow', { commonName: 'evil.example.com' }, /not allowed by this role/],
  ])('turns a 400 for %s into a VaultRequestError carrying Vault’s message', async (_name, request, message) => {
    const call = adapter().issueLeaf('pki_int', 'econ-graph-services', { ...request, keyType: 'ec' });
    await expect(call).rejects.toBeInstanceOf(VaultRequestError);
    await expect(call).rejects.toThrow(message);
  });

  it('refuses, terminally, to issue with a retired issuer, which Vault answers with 500', async () => {
    const pki = adapter();
    await pki.updateIssuer('pki_int', sandboxPki.intermediateIssuerId, { usage: ['read-only', 'crl-signing', 'ocsp-signing'] });
    let refusal: unknown;
    try {
      refusal = await pki.issueLeaf('pki_int', 'econ-graph-services', { commonName: 'keycloak.econ-graph.svc', keyType: 'ec', ttl: '24h' }).catch((error: unknown) => error);
    } finally {
      await pki.updateIssuer('pki_int', sandboxPki.intermediateIssuerId, { usage: ['read-only', 'issuing-certificates', 'crl-signing', 'ocsp-signing'] });
    }

    expect(refusal).toBeInstanceOf(VaultRequestError);
    expect(refusal).toMatchObject({ retryable: false, details: { status: 500, reason: 'IssuerUsageRefused' } });
  });

  it('turns a sealed node into a retryable VaultSealedError', async () => {
    cloud.sandbox.vault.faults.inject({ operation: 'pki_int/issuers', status: 503, message: 'Vault is sealed', times: 1 });
    const call = adapter().listIssuers('pki_int');
    await expect(call).rejects.toBeInstanceOf(VaultSealedError);
    await expect(call.catch((error: VaultSealedError) => error.retryable)).resolves.toBe(true);
  });

  it('turns a 429 into a retryable VaultRateLimitedError', async () => {
    cloud.sandbox.vault.faults.inject({ operation: 'pki_int/config/issuers', status: 429, times: 1 });
    await expect(adapter().defaultIssuer('pki_int')).rejects.toBeInstanceOf(VaultRateLimitedError);
  });

  it('gives VaultPermissionError for a bad token after one fresh login', async () => {
    let logins = 0;
    const tokens = new CachedLogin(async () => {
      logins += 1;
      return { token: 'hvs.not-a-token', leaseDuration: 0 };
    }, clock);
    const pki = new NodeVaultPki(createVaultClient({ endpoint: url, caPem: cloud.sandbox.vaultCaCertificate }), tokens, log);

    await expect(pki.defaultIssuer('pki_int')).rejects.toBeInstanceOf(VaultPermissionError);
    expect(logins).toBe(2);
  });
});

describe('Vault logins for the Lambdas', () => {
  let cloud: LocalCloud;
  let sandboxPki: SandboxPki;
  beforeAll(async () => {
    ({ cloud, pki: sandboxPki } = await startPkiCloud());
  });
  afterAll(async () => cloud?.sandbox.close());
  const client = () => createVaultClient({ endpoint: cloud.sandbox.vault.nodes[0]!.url, caPem: cloud.sandbox.vaultCaCertificate });

  it('logs in with AWS IAM, caches the token for the cold start, and the token works', async () => {
    let calls = 0;
    const env = cloud.runner.functionEnv('PrepareIntermediate');
    const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! };
    const login = awsIamLogin(client(), { role: 'certflow-rotation', serverIdHeader: 'vault.econ-graph.internal', credentials: async () => credentials, clock });
    const tokens = new CachedLogin(async () => {
      calls += 1;
      return login();
    }, clock);

    const first = await tokens.token();
    const second = await tokens.token();

    expect(first).toBe(second);
    expect(calls).toBe(1);
    const pki = new NodeVaultPki(client(), tokens, log);
    expect(await pki.defaultIssuer('pki_int')).toBe(sandboxPki.intermediateIssuerId);
  });

  it('replaces a token whose lease is nearly over', async () => {
    let now = new Date('2026-11-28T00:00:00Z');
    const movingClock = { now: () => now };
    let calls = 0;
    const tokens = new CachedLogin(async () => ({ token: `t${++calls}`, leaseDuration: 900 }), movingClock);
    expect(await tokens.token()).toBe('t1');
    now = new Date(now.getTime() + 4 * 60_000);
    expect(await tokens.token()).toBe('t1');
    now = new Date(now.getTime() + 6 * 60_000);
    expect(await tokens.token()).toBe('t2');
  });

  it('binds the AWS IAM auth role to the functions\' own roles, so the operator cannot log in as certflow', async () => {
    const login = awsIamLogin(client(), { role: 'certflow-rotation', serverIdHeader: 'vault.econ-graph.internal', credentials: async () => ({ ...SANDBOX_CREDENTIALS }), clock });
    await expect(login()).rejects.toThrow(/assumed-role\/certflow-sandbox-operator\/operator" does not belong to the role "certflow-rotation"/);
  });

  it('refuses an AWS IAM login for a role that does not exist with a typed error', async () => {
    const login = awsIamLogin(client(), { role: 'nobody', serverIdHeader: 'vault.econ-graph.internal', credentials: async () => ({ ...SANDBOX_CREDENTIALS }), clock });
    await expect(login()).rejects.toBeInstanceOf(VaultRequestError);
    await expect(login()).rejects.toThrow(/entry for role "nobody" not found/);
  });

  it('logs in with AppRole credentials read from Secrets Manager', async () => {
    const root = sandboxVaultClient(cloud.sandbox, { token: sandboxPki.rootToken });
    await root.write('auth/approle/role/certflow', { token_policies: ['certflow-rotation'] });
    const roleId = ((await root.read('auth/approle/role/certflow/role-id')).data as { role_id: string }).role_id;
    const secretId = ((await root.write('auth/approle/role/certflow/secret-id', {})).data as { secret_id: string }).secret_id;
    const arn = cloud.sandbox.secretsManager.putSecret('certflow/approle', JSON.stringify({ role_id: roleId, secret_id: secretId }));

    const tokens = tokenProviderFromEnv({ method: 'approle', secretArn: arn, mount: 'approle' }, client(), cloud.sandbox.awsEnv, clock);
    const pki = new NodeVaultPki(client(), tokens, log);

    expect(await pki.defaultIssuer('pki_int')).toBe(sandboxPki.intermediateIssuerId);
  });

  it('refuses AppRole credentials that Vault does not know', async () => {
    const login = appRoleLogin(client(), async () => ({ roleId: 'x', secretId: 'y' }));
    await expect(login()).rejects.toThrow(/invalid role or secret ID/);
  });

  it('uses a token read from Secrets Manager', async () => {
    const arn = cloud.sandbox.secretsManager.putSecret('certflow/token', `${sandboxPki.rootToken}\n`);
    const tokens = tokenProviderFromEnv({ method: 'token', secretArn: arn }, client(), cloud.sandbox.awsEnv, clock);
    expect(await tokens.token()).toBe(sandboxPki.rootToken);
  });
});
