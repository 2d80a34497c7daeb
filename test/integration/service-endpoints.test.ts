import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import * as x509 from '@peculiar/x509';
import { AppsV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import NodeVault = require('node-vault');
import { parseConfig, type CertflowConfig } from '../../lib/config';
import { K8sNames } from '../../functions/contracts/targets';
import { admitCandidate, type DiscoveredObject } from '../../functions/domain/target-policy';
import { declaredServices, sandboxTargetPolicy } from '../../sandbox/compose/declared-services';
import { startCertManagerController, type CertManagerController } from '../../sandbox/cert-manager/cert-manager-controller';
import { managedServices, seedKubernetes, type KubernetesSeed } from '../../sandbox/compose/kubernetes-seed';
import { startKubernetesEmulator, type KubernetesEmulatorHandle } from '../../sandbox/kubernetes/kubernetes-emulator';
import { startServiceEndpoints, type ServiceEndpoints } from '../../sandbox/services/service-endpoints';
import { bootstrapPki, type PkiBootstrapResult } from '../../sandbox/vault/pki/pki-bootstrap';
import { createPkiRoutes } from '../../sandbox/vault/pki/pki-routes';
import { startVaultCluster, type VaultClusterHandle } from '../../sandbox/vault/vault-cluster';
import { startSandbox } from '../../sandbox/compose/sandbox';
import { setupSandboxPki } from '../../sandbox/compose/pki-setup';

/**
 * The sandbox's service endpoints: the econgraph cluster seeded into the Kubernetes emulator
 * (Deployments, cert-manager Certificates issued by the sandbox controller, TLS Secrets issued
 * through Vault, the trust bundle), each service a real mTLS server on loopback that reloads its
 * certificate and trust bundle only when its Deployment rolls out. Clients are real node:tls
 * clients; under TLS 1.3 a refused client still sees secureConnect, so every check asserts on the
 * application data that did or did not arrive (TOOLCHAIN.md).
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const config: CertflowConfig = parseConfig(JSON.parse(readFileSync(join(__dirname, '../../config/econgraph.json'), 'utf8')));
const namespace = config.kubernetes.namespace;
const services = declaredServices(config);
const role = config.vault.role;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const ROLLOUT_DELAY_MS = 20;

let vault: VaultClusterHandle;
let rootToken: string;
let pki: PkiBootstrapResult;
let kubernetes: KubernetesEmulatorHandle;
let apps: AppsV1Api;
let controller: CertManagerController;
let endpoints: ServiceEndpoints;
let seed: KubernetesSeed;
let foreign: { certificate: string; privateKey: string; rootCertificate: string };

beforeAll(async () => {
  vault = await startVaultCluster({ nodes: [{ id: 'vault-0' }], routes: [createPkiRoutes({ mounts: [config.vault.rootMount, config.vault.intermediateMount] })] });
  ({ rootToken } = await vault.bootstrap({ shares: 1, threshold: 1 }));
  pki = await bootstrapPki({
    handle: vault,
    rootMount: config.vault.rootMount,
    intermediateMount: config.vault.intermediateMount,
    role,
    allowedDomains: ['econ-graph.svc', 'econ-graph.svc.cluster.local'],
    keyType: 'ec',
  });
  await NodeVault({ endpoint: vault.nodes[0]!.url, token: rootToken }).update(`${config.vault.intermediateMount}/roles/${role}`, { key_type: 'any', key_bits: 0 });

  kubernetes = await startKubernetesEmulator({ rolloutDelayMs: ROLLOUT_DELAY_MS });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sandbox', server: kubernetes.url, skipTLSVerify: true }],
    users: [{ name: 'certflow', token: kubernetes.token }],
    contexts: [{ name: 'sandbox', cluster: 'sandbox', user: 'certflow' }],
    currentContext: 'sandbox',
  });
  apps = kc.makeApiClient(AppsV1Api);

  const issuer = { url: vault.nodes[0]!.url, token: rootToken, mount: config.vault.intermediateMount, role };
  controller = startCertManagerController({ kubernetes, vault: issuer, pollMs: 20 });
  // One more service than the config names: its Secret does not exist until a test writes it.
  const ghost = { name: 'ghost', namespace, secretName: 'ghost-tls', deployment: 'ghost', trustBundleConfigMap: config.kubernetes.trustBundleConfigMap };
  endpoints = await startServiceEndpoints({ kubernetes, services: [...managedServices(config), ghost] });
  seed = await seedKubernetes({ kubernetes, vault: issuer, rootCertificate: pki.rootCertificate, endpoint: (name) => endpoints.endpoint(name), awaitIssuanceMs: 10_000 }, config);
  foreign = await foreignClient();
  // Every service serves once its Deployment's first rollout and its Secret are there.
  await waitFor('every service to serve', () => services.every((service) => endpoints.served(service.service)));
});

afterAll(async () => {
  await endpoints?.close();
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

/** A CA nobody in the cluster trusts, and a client certificate from it. */
async function foreignClient() {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const rootKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leafKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a01',
    name: 'CN=Intruder Root CA',
    keys: rootKeys,
    notBefore,
    notAfter,
    signingAlgorithm: algorithm,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '0a02',
    subject: 'CN=certflow-verifier.econ-graph.svc',
    issuer: root.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: algorithm,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey)).toString('base64');
  return { certificate: leaf.toString('pem'), privateKey: `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`, rootCertificate: root.toString('pem') };
}

interface Exchange {
  /** Everything the server sent. */
  data: string;
  secureConnected: boolean;
  error?: string;
}

/**
 * Connects as a client (checking the server's chain against the root and its name against the
 * service's first DNS name), sends `lines`, and collects what arrives until the server closes or
 * the expected number of lines is in.
 */
function exchange(service: string, client: { certificate: string; privateKey: string } | undefined, lines: string[] = []): Promise<Exchange> {
  const { host, port } = endpoints.endpoint(service);
  const serverName = services.find((candidate) => candidate.service === service)?.dnsNames[0] ?? `${service}.econ-graph.svc`;
  return new Promise((resolve) => {
    const result: Exchange = { data: '', secureConnected: false };
    const socket = connect({ host, port, servername: serverName, ca: [pki.rootCertificate], ...(client ? { cert: client.certificate, key: client.privateKey } : {}) });
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('secureConnect', () => {
      result.secureConnected = true;
      for (const line of lines) socket.write(`${line}\n`);
    });
    socket.on('data', (chunk: string) => {
      result.data += chunk;
      if (result.data.split('\n').length - 1 >= 1 + lines.length) socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      result.error = error.code ?? error.message;
    });
    socket.on('close', () => resolve(result));
  });
}

function verifier() {
  return seed.verifier;
}

function secretLeaf(name: string): X509Certificate {
  const secret = kubernetes.store.get('secrets', { namespace, name })!;
  return new X509Certificate(Buffer.from(secret.data!['tls.crt']!, 'base64').toString('utf8'));
}

/** Vault's serial form (colon-separated lower-case hex) of Node's upper-case hex. */
function vaultSerial(cert: X509Certificate): string {
  const hex = cert.serialNumber.length % 2 === 1 ? `0${cert.serialNumber}` : cert.serialNumber;
  return (hex.toLowerCase().match(/../g) ?? []).join(':').replace(/^(00:)+/, '');
}

/** A new leaf for a service, issued by Vault, written into its Secret as certflow's tls-secret renewal would. */
async function writeNewSecret(service: string, secretName = `${service}-tls`): Promise<string> {
  const client = NodeVault({ endpoint: vault.nodes[0]!.url, token: rootToken });
  const issued = (await client.write(`${config.vault.intermediateMount}/issue/${role}`, {
    common_name: `${service}.econ-graph.svc`,
    key_type: 'ec',
    private_key_format: 'pkcs8',
  })) as { data: { certificate: string; issuing_ca: string; private_key: string; serial_number: string } };
  const data = {
    'tls.crt': Buffer.from(`${issued.data.certificate}\n${issued.data.issuing_ca}\n`).toString('base64'),
    'tls.key': Buffer.from(issued.data.private_key).toString('base64'),
    'ca.crt': Buffer.from(pki.rootCertificate).toString('base64'),
  };
  if (kubernetes.store.get('secrets', { namespace, name: secretName })) {
    kubernetes.store.mutate('secrets', { namespace, name: secretName }, (secret) => {
      secret.data = data;
    });
  } else {
    kubernetes.store.create('secrets', { metadata: { name: secretName, namespace }, type: 'kubernetes.io/tls', data });
  }
  return issued.data.serial_number;
}

/** `kubectl rollout restart` through the real client: a merge patch of the pod template annotation. */
async function restart(deployment: string): Promise<void> {
  await apps.patchNamespacedDeployment(
    { name: deployment, namespace, body: { spec: { template: { metadata: { annotations: { [K8sNames.RestartedAtAnnotation]: new Date().toISOString() } } } } } },
    merge,
  );
}

describe('the sandbox service endpoints', () => {
  it('are seeded as certflow discovers them: Deployments, Certificates, labelled TLS Secrets, the trust bundle and endpoint annotations', () => {
    expect(seed.namespaces).toEqual([namespace]);
    expect(kubernetes.store.get('configmaps', { namespace, name: config.kubernetes.trustBundleConfigMap })?.data?.[K8sNames.TrustBundleKey]).toBe(pki.rootCertificate);

    const deployments = kubernetes.store.list('deployments', { namespace, labelSelector: 'app' });
    expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual(['backend', 'chart-api', 'frontend', 'keycloak', 'mcp-server']);
    expect(deployments.every((deployment) => deployment.spec.replicas === 1)).toBe(true);

    const certificates = kubernetes.store.list('certificates', { namespace, labelSelector: `${K8sNames.ManagedLabel}=true` });
    const secrets = kubernetes.store.list('secrets', { namespace, labelSelector: `${K8sNames.ManagedLabel}=true` });
    expect(certificates.map((certificate) => certificate.metadata.name)).toEqual(['frontend', 'mcp-server']);
    expect(secrets.map((secret) => secret.metadata.name)).toEqual(['backend-tls', 'chart-api-tls', 'keycloak-tls']);
    expect(certificates.map((certificate) => certificate.spec.issuerRef)).toEqual([
      { name: 'vault-issuer', kind: 'Issuer', group: 'cert-manager.io' },
      { name: 'vault-issuer', kind: 'Issuer', group: 'cert-manager.io' },
    ]);

    // Each seeded object is a candidate the policy admits, as the declared target it is.
    const policy = sandboxTargetPolicy(config, (name) => endpoints.endpoint(name));
    const admit = (object: DiscoveredObject) => {
      const admission = admitCandidate(policy, object, 'ecdsa-p256');
      if (!('admitted' in admission)) throw new Error(`${object.name} refused: ${admission.refused.reason}`);
      return admission.admitted;
    };
    const targets = [
      ...certificates.map((certificate) =>
        admit({
          cluster: 'primary',
          namespace,
          name: certificate.metadata.name!,
          resource: 'Certificate',
          annotations: certificate.metadata.annotations ?? {},
          secretName: certificate.spec.secretName,
          dnsNames: certificate.spec.dnsNames ?? [],
        }),
      ),
      ...secrets.map((secret) => admit({ cluster: 'primary', namespace, name: secret.metadata.name!, resource: 'Secret', annotations: secret.metadata.annotations ?? {} })),
    ];
    for (const target of targets) {
      const service = services.find((candidate) => candidate.service === target.service)!;
      expect(target).toMatchObject({
        kind: service.kind,
        secretName: `${service.service}-tls`,
        workloads: [service.service],
        canary: service.canary,
        dnsNames: [`${service.service}.econ-graph.svc`, `${service.service}.econ-graph.svc.cluster.local`],
        keyAlgorithm: service.keyAlgorithm,
        endpoint: { ...endpoints.endpoint(service.service), serverName: `${service.service}.econ-graph.svc` },
      });
    }
    // keycloak asks for RSA 2048 and gets it.
    const keycloakKey = createPrivateKey(Buffer.from(kubernetes.store.get('secrets', { namespace, name: 'keycloak-tls' })!.data!['tls.key']!, 'base64').toString('utf8'));
    expect(keycloakKey.asymmetricKeyType).toBe('rsa');
    expect(keycloakKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('holds a verifier client certificate from the role, with clientAuth, and keeps its key out of JSON', () => {
    const leaf = new X509Certificate(verifier().certificate);
    expect(leaf.subject).toBe('CN=certflow-verifier.econ-graph.svc');
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.2');
    expect(createPrivateKey(verifier().privateKey).asymmetricKeyType).toBe('ec');
    expect(JSON.stringify(seed)).not.toContain('PRIVATE KEY');
  });

  it.each(services.map((service) => service.service))(
    'lets the verifier complete the handshake with %s and receive the serial it serves as application data',
    async (service) => {
      const served = endpoints.served(service)!;
      expect(served.serial).toBe(vaultSerial(secretLeaf(`${service}-tls`)));

      const answer = await exchange(service, verifier(), ['GET /health']);

      expect(answer.error).toBeUndefined();
      expect(answer.data).toBe(`hello ${service} ${served.serial}\n200 ${service} ${served.serial}\n`);
    },
  );

  it('refuses a client whose certificate comes from a foreign CA: no application data, and the server records the authorizationError', async () => {
    const before = endpoints.refusals('backend').length;

    const answer = await exchange('backend', foreign);

    expect(answer.data).toBe('');
    const refusals = endpoints.refusals('backend');
    expect(refusals).toHaveLength(before + 1);
    expect(refusals[refusals.length - 1]).toMatchObject({ peerSubject: 'CN=certflow-verifier.econ-graph.svc' });
    expect(refusals[refusals.length - 1]!.authorizationError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('refuses a client that presents no certificate', async () => {
    const before = endpoints.refusals('frontend').length;

    const answer = await exchange('frontend', undefined);

    expect(answer.data).toBe('');
    const refusals = endpoints.refusals('frontend');
    expect(refusals).toHaveLength(before + 1);
    expect(refusals[refusals.length - 1]!.peerSubject).toBeUndefined();
    expect(refusals[refusals.length - 1]!.authorizationError).toBeTruthy();
  });

  it('keeps serving the old certificate after cert-manager renews the Secret, until the Deployment restarts', async () => {
    const old = endpoints.served('frontend')!;
    const reloads = endpoints.reloads('frontend');
    const revision = kubernetes.store.get('certificates', { namespace, name: 'frontend' })!.status!.revision!;
    kubernetes.store.mutate('certificates', { namespace, name: 'frontend' }, (certificate) => {
      certificate.status!.conditions!.push({ type: 'Issuing', status: 'True', reason: 'ManuallyTriggered', message: 'renewal requested by the test' });
    });
    await waitFor('the renewed Secret', () => kubernetes.store.get('certificates', { namespace, name: 'frontend' })!.status!.revision === revision + 1);
    const renewed = vaultSerial(secretLeaf('frontend-tls'));
    expect(renewed).not.toBe(old.serial);

    await sleep(ROLLOUT_DELAY_MS * 5);
    expect(endpoints.served('frontend')!.serial).toBe(old.serial);
    expect((await exchange('frontend', verifier())).data).toBe(`hello frontend ${old.serial}\n`);

    await restart('frontend');
    await waitFor('frontend to reload', () => endpoints.reloads('frontend') === reloads + 1);

    expect(endpoints.served('frontend')!.serial).toBe(renewed);
    expect((await exchange('frontend', verifier())).data).toBe(`hello frontend ${renewed}\n`);
  });

  it('never switches to the new certificate while the rollout is paused, and switches once it resumes', async () => {
    const old = endpoints.served('backend')!;
    const reloads = endpoints.reloads('backend');
    const renewed = await writeNewSecret('backend');

    kubernetes.setRolloutsPaused(namespace, 'backend', true);
    try {
      await restart('backend');
      await sleep(ROLLOUT_DELAY_MS * 10);
      expect(endpoints.reloads('backend')).toBe(reloads);
      expect(endpoints.served('backend')!.serial).toBe(old.serial);
      expect((await exchange('backend', verifier())).data).toBe(`hello backend ${old.serial}\n`);
    } finally {
      kubernetes.setRolloutsPaused(namespace, 'backend', false);
    }

    await waitFor('backend to reload', () => endpoints.reloads('backend') === reloads + 1);
    expect(endpoints.served('backend')!.serial).toBe(renewed);
    expect((await exchange('backend', verifier())).data).toBe(`hello backend ${renewed}\n`);
  });

  it('reads a changed trust bundle only on rollout, and accepts clients of any root the bundle holds', async () => {
    const bundle = config.kubernetes.trustBundleConfigMap;
    const setBundle = (pem: string) =>
      kubernetes.store.mutate('configmaps', { namespace, name: bundle }, (configMap) => {
        configMap.data = { [K8sNames.TrustBundleKey]: pem };
      });
    const serial = endpoints.served('chart-api')!.serial;
    try {
      setBundle(foreign.rootCertificate);
      expect((await exchange('chart-api', verifier())).data).toBe(`hello chart-api ${serial}\n`);

      const reloads = endpoints.reloads('chart-api');
      await restart('chart-api');
      await waitFor('chart-api to reload', () => endpoints.reloads('chart-api') === reloads + 1);
      expect((await exchange('chart-api', verifier())).data).toBe('');
      expect((await exchange('chart-api', foreign)).data).toBe(`hello chart-api ${serial}\n`);

      setBundle(`${pki.rootCertificate}\n${foreign.rootCertificate}`);
      await restart('chart-api');
      await waitFor('chart-api to reload again', () => endpoints.reloads('chart-api') === reloads + 2);
      expect((await exchange('chart-api', verifier())).data).toBe(`hello chart-api ${serial}\n`);
      expect((await exchange('chart-api', foreign)).data).toBe(`hello chart-api ${serial}\n`);
    } finally {
      setBundle(pki.rootCertificate);
    }
  });

  it('refuses connections while its Secret does not exist, and serves once the Secret appears', async () => {
    expect(endpoints.served('ghost')).toBeUndefined();
    expect(endpoints.loadError('ghost')).toContain('does not exist');
    const refused = await exchange('ghost', verifier());
    expect(refused.data).toBe('');
    expect(refused.secureConnected).toBe(false);

    const serial = await writeNewSecret('ghost');

    expect(endpoints.served('ghost')?.serial).toBe(serial);
    expect((await exchange('ghost', verifier())).data).toBe(`hello ghost ${serial}\n`);
    expect(endpoints.reloads('ghost')).toBe(0);
  });
});

describe('the sandbox', () => {
  it('starts the endpoints and cert-manager with the other emulators, and after the PKI set-up its seeded services serve the verifier over mTLS', async () => {
    const sandbox = await startSandbox({ config });
    try {
      expect(sandbox.kubernetes.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(sandbox.services.served('frontend')).toBeUndefined();
      const { rootToken: token } = await sandbox.vault.bootstrap();
      const sandboxPki = await setupSandboxPki(sandbox, token);

      const seeded = await sandbox.seedKubernetes({ rootToken: token, rootCertificate: sandboxPki.rootCertificate });

      expect(sandbox.certManager.issued()).toBe(2);
      for (const service of declaredServices(config).map((target) => ({ name: target.service, dnsNames: target.dnsNames }))) {
        const served = await waitFor(`${service.name} to serve`, () => sandbox.services.served(service.name));
        const { host, port } = sandbox.services.endpoint(service.name);
        const data = await new Promise<string>((resolve) => {
          let received = '';
          const socket = connect({ host, port, servername: service.dnsNames[0], ca: [sandboxPki.rootCertificate], cert: seeded.verifier.certificate, key: seeded.verifier.privateKey });
          socket.setEncoding('utf8');
          socket.on('data', (chunk: string) => {
            received += chunk;
            socket.end();
          });
          socket.on('error', () => undefined);
          socket.on('close', () => resolve(received));
        });
        expect(data).toBe(`hello ${service.name} ${served.serial}\n`);
      }
    } finally {
      await sandbox.close();
    }
  });
});
