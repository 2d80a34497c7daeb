import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import NodeVault = require('node-vault');
import { startCertManagerController, type CertManagerController } from '../../sandbox/cert-manager/cert-manager-controller';
import { startKubernetesEmulator, type CertificateObject, type KubernetesEmulatorHandle } from '../../sandbox/kubernetes/kubernetes-emulator';
import { bootstrapPki, type PkiBootstrapResult } from '../../sandbox/vault/pki/pki-bootstrap';
import { createPkiRoutes } from '../../sandbox/vault/pki/pki-routes';
import { startVaultCluster, type VaultClusterHandle } from '../../sandbox/vault/vault-cluster';

/**
 * The sandbox's cert-manager controller against the Kubernetes emulator and the Vault emulator:
 * Certificates are created and renewed through the real @kubernetes/client-node, and the
 * controller signs over HTTP with node-vault (DESIGN.md, The sandbox).
 */

const namespace = 'econ-graph';
const role = 'econ-graph-services';
const cert = { group: 'cert-manager.io', version: 'v1', namespace, plural: 'certificates' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let vault: VaultClusterHandle;
let unsealKey: string;
let pki: PkiBootstrapResult;
let kubernetes: KubernetesEmulatorHandle;
let custom: CustomObjectsApi;
let controller: CertManagerController;

beforeAll(async () => {
  vault = await startVaultCluster({ nodes: [{ id: 'vault-0' }], routes: [createPkiRoutes()] });
  const bootstrap = await vault.bootstrap({ shares: 1, threshold: 1 });
  unsealKey = bootstrap.keys[0]!;
  pki = await bootstrapPki({
    handle: vault,
    rootMount: 'pki_root',
    intermediateMount: 'pki_int',
    role,
    allowedDomains: ['econ-graph.svc', 'econ-graph.svc.cluster.local'],
    keyType: 'ec',
  });
  // As the sandbox's PKI set-up: the request (here, the CSR) decides the key type.
  await NodeVault({ endpoint: vault.nodes[0]!.url, token: bootstrap.rootToken }).update(`pki_int/roles/${role}`, { key_type: 'any', key_bits: 0 });

  kubernetes = await startKubernetesEmulator({ rolloutDelayMs: 10 });
  kubernetes.store.create('namespaces', { metadata: { name: namespace } });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sandbox', server: kubernetes.url, skipTLSVerify: true }],
    users: [{ name: 'certflow', token: kubernetes.token }],
    contexts: [{ name: 'sandbox', cluster: 'sandbox', user: 'certflow' }],
    currentContext: 'sandbox',
  });
  custom = kc.makeApiClient(CustomObjectsApi);
  controller = startCertManagerController({
    kubernetes,
    vault: { url: vault.nodes[0]!.url, token: bootstrap.rootToken, mount: 'pki_int', role },
    pollMs: 20,
    retry: { initialMs: 50, maxMs: 400 },
  });
});

afterAll(async () => {
  await controller?.close();
  await kubernetes?.close();
  await vault?.close();
});

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function certificate(name: string, privateKey?: Record<string, unknown>): CertificateObject {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name },
    spec: {
      secretName: `${name}-tls`,
      issuerRef: { name: 'vault-issuer', kind: 'Issuer' },
      commonName: `${name}.econ-graph.svc`,
      dnsNames: [`${name}.econ-graph.svc`, `${name}.econ-graph.svc.cluster.local`],
      ...(privateKey ? { privateKey } : {}),
    },
  };
}

function stored(name: string): CertificateObject {
  return kubernetes.store.get('certificates', { namespace, name })!;
}

function condition(name: string, type: string) {
  return stored(name).status?.conditions?.find((candidate) => candidate.type === type);
}

function ready(name: string, revision: number): CertificateObject | undefined {
  const current = stored(name);
  return current.status?.revision === revision && condition(name, 'Ready')?.status === 'True' ? current : undefined;
}

interface TlsSecret {
  chain: X509Certificate[];
  ca: X509Certificate;
  keyPem: string;
  type: string | undefined;
}

function secretOf(name: string): TlsSecret | undefined {
  const secret = kubernetes.store.get('secrets', { namespace, name: `${name}-tls` });
  if (!secret?.data) return undefined;
  const text = (key: string) => Buffer.from(secret.data![key] ?? '', 'base64').toString('utf8');
  const chain = (text('tls.crt').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem));
  return { chain, ca: new X509Certificate(text('ca.crt')), keyPem: text('tls.key'), type: secret.type };
}

function spki(key: KeyObject | string): string {
  const publicKey = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** What `cmctl renew` does: add Issuing=True (ManuallyTriggered) to the conditions, through the status subresource. */
async function requestRenewal(name: string): Promise<void> {
  const current = (await custom.getNamespacedCustomObject({ ...cert, name })) as CertificateObject;
  const conditions = [
    ...(current.status?.conditions ?? []).filter((existing) => existing.type !== 'Issuing'),
    { type: 'Issuing', status: 'True', reason: 'ManuallyTriggered', message: 'Certificate re-issuance manually triggered', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
  ];
  await custom.patchNamespacedCustomObjectStatus({ ...cert, name, body: { status: { conditions } } }, merge);
}

describe('the sandbox cert-manager controller', () => {
  it('issues the initial Secret for a new Certificate, chained to the root, and marks it Ready at revision 1', async () => {
    const before = controller.issued();
    await custom.createNamespacedCustomObject({ ...cert, body: certificate('frontend') });

    const issued = await waitFor('frontend to be Ready', () => ready('frontend', 1));

    const secret = secretOf('frontend')!;
    expect(secret.type).toBe('kubernetes.io/tls');
    const [leaf, intermediate, ...rest] = secret.chain;
    expect(rest).toHaveLength(0);
    const root = new X509Certificate(pki.rootCertificate);
    expect(intermediate!.fingerprint256).toBe(new X509Certificate(pki.intermediateCertificate).fingerprint256);
    expect(leaf!.checkIssued(intermediate!)).toBe(true);
    expect(leaf!.verify(intermediate!.publicKey)).toBe(true);
    expect(intermediate!.checkIssued(root)).toBe(true);
    expect(intermediate!.verify(root.publicKey)).toBe(true);
    expect(secret.ca.fingerprint256).toBe(root.fingerprint256);
    expect(leaf!.subjectAltName).toBe('DNS:frontend.econ-graph.svc, DNS:frontend.econ-graph.svc.cluster.local');
    expect(leaf!.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1']));

    expect(secret.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(secret.keyPem);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(spki(key)).toBe(spki(leaf!.publicKey));

    expect(issued.status?.conditions?.map((c) => c.type)).toEqual(['Ready']);
    expect(condition('frontend', 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(new Date(issued.status!.notAfter!).getTime()).toBe(new Date(leaf!.validTo).getTime());
    expect(new Date(issued.status!.notBefore!).getTime()).toBe(new Date(leaf!.validFrom).getTime());
    const notBefore = new Date(leaf!.validFrom).getTime();
    const twoThirds = notBefore + ((new Date(leaf!.validTo).getTime() - notBefore) * 2) / 3;
    expect(new Date(issued.status!.renewalTime!).getTime()).toBe(Math.floor(twoThirds / 1000) * 1000);
    expect(JSON.stringify(issued)).not.toContain('PRIVATE KEY');
    expect(controller.issued()).toBe(before + 1);
  });

  it('answers a renewal request (Issuing=True, ManuallyTriggered) with a new key and serial at revision 2, and clears Issuing', async () => {
    await custom.createNamespacedCustomObject({ ...cert, body: certificate('mcp-server') });
    await waitFor('mcp-server revision 1', () => ready('mcp-server', 1));
    const first = secretOf('mcp-server')!;

    await requestRenewal('mcp-server');
    const renewed = await waitFor('mcp-server revision 2', () => ready('mcp-server', 2));

    const second = secretOf('mcp-server')!;
    expect(second.chain[0]!.serialNumber).not.toBe(first.chain[0]!.serialNumber);
    expect(spki(second.keyPem)).not.toBe(spki(first.keyPem));
    expect(spki(second.keyPem)).toBe(spki(second.chain[0]!.publicKey));
    expect(renewed.status?.conditions?.find((c) => c.type === 'Issuing')).toBeUndefined();
    expect(new Date(renewed.status!.notAfter!).getTime()).toBe(new Date(second.chain[0]!.validTo).getTime());
  });

  it('makes an RSA 2048 key when spec.privateKey.algorithm is RSA', async () => {
    await custom.createNamespacedCustomObject({ ...cert, body: certificate('keycloak', { algorithm: 'RSA' }) });
    await waitFor('keycloak to be Ready', () => ready('keycloak', 1));

    const secret = secretOf('keycloak')!;
    const key = createPrivateKey(secret.keyPem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(spki(key)).toBe(spki(secret.chain[0]!.publicKey));
  });

  it('reissues a Certificate whose Secret was deleted', async () => {
    await custom.createNamespacedCustomObject({ ...cert, body: certificate('chart-api') });
    await waitFor('chart-api revision 1', () => ready('chart-api', 1));
    const serial = secretOf('chart-api')!.chain[0]!.serialNumber;

    kubernetes.store.delete('secrets', { namespace, name: 'chart-api-tls' });

    await waitFor('chart-api revision 2', () => ready('chart-api', 2));
    expect(secretOf('chart-api')!.chain[0]!.serialNumber).not.toBe(serial);
  });

  it('leaves Ready=False with a reason while Vault refuses to sign, retries with backoff, and recovers when the fault is cleared', async () => {
    const fault = vault.faults.inject({ operation: 'pki_int/sign', status: 500, message: 'injected: storage backend unavailable' });
    try {
      await custom.createNamespacedCustomObject({ ...cert, body: certificate('backend') });

      const failing = await waitFor('a second failed attempt', () => {
        const current = stored('backend');
        return ((current.status?.failedIssuanceAttempts as number | undefined) ?? 0) >= 2 ? current : undefined;
      });
      expect(failing.status?.failedIssuanceAttempts).toBeGreaterThanOrEqual(2);
      expect(condition('backend', 'Ready')).toMatchObject({ status: 'False', reason: 'Failed' });
      expect(condition('backend', 'Ready')?.message).toContain('injected: storage backend unavailable');
      expect(condition('backend', 'Issuing')).toMatchObject({ status: 'True', reason: 'DoesNotExist' });
      expect(failing.status?.revision).toBeUndefined();
      expect(kubernetes.store.get('secrets', { namespace, name: 'backend-tls' })).toBeUndefined();
      expect(controller.lastError('backend')).toContain('injected: storage backend unavailable');
      expect(controller.lastError(`${namespace}/backend`)).toBe(controller.lastError('backend'));
    } finally {
      vault.faults.clear(fault);
    }

    const recovered = await waitFor('backend to recover', () => ready('backend', 1));
    expect(recovered.status?.conditions?.find((c) => c.type === 'Issuing')).toBeUndefined();
    expect(recovered.status?.failedIssuanceAttempts).toBeUndefined();
    expect(controller.lastError('backend')).toBeUndefined();
    expect(secretOf('backend')!.chain).toHaveLength(2);
  });

  it('keeps a renewal pending while Vault is sealed and completes it once Vault is unsealed', async () => {
    await custom.createNamespacedCustomObject({ ...cert, body: certificate('sealed') });
    await waitFor('sealed revision 1', () => ready('sealed', 1));
    const serial = secretOf('sealed')!.chain[0]!.serialNumber;

    vault.node('vault-0').seal();
    try {
      await requestRenewal('sealed');
      await waitFor('Ready=False after the sealed answer', () => condition('sealed', 'Ready')?.status === 'False');
      expect(condition('sealed', 'Ready')?.message).toContain('Vault is sealed');
      expect(condition('sealed', 'Issuing')).toMatchObject({ status: 'True', reason: 'ManuallyTriggered' });
      expect(secretOf('sealed')!.chain[0]!.serialNumber).toBe(serial);
    } finally {
      await NodeVault({ endpoint: vault.nodes[0]!.url }).unseal({ key: unsealKey });
    }

    await waitFor('sealed revision 2', () => ready('sealed', 2));
    expect(secretOf('sealed')!.chain[0]!.serialNumber).not.toBe(serial);
    expect(condition('sealed', 'Issuing')).toBeUndefined();
  });
});
