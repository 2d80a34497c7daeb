import { setTimeout as sleep } from 'node:timers/promises';
import type NodeVault = require('node-vault');
import { vaultClientFor } from '../vault/vault-client-for';
import type { CertflowConfig } from '../../lib/config';
import { parseDuration } from '../../lib/config';
import { mapVaultError } from '../../functions/adapters/vault/vault-errors';
import { K8sNames, type TargetKind } from '../../functions/contracts/targets';
import { certificatesOf } from '../x509/pem-certificates';
import { bundleFromVault } from '../cert-manager/vault-signer';
import { conditionOf, ConditionTypes } from '../cert-manager/certificate-conditions';
import type { CertificateObject, DeploymentObject, KubernetesEmulatorHandle, ResourceName, ResourceTypes, SecretObject } from '../kubernetes/kubernetes-emulator';
import type { ManagedService } from '../services/service-endpoints';
import { declaredServices } from './declared-services';

/**
 * The econ-graph cluster as certflow finds it before its first run (config/econgraph.json): the
 * namespace; per service a Deployment (app=<name>, one replica) and its certificate, either a
 * cert-manager Certificate (issued by the sandbox's cert-manager controller, which must be
 * running for its Secret to appear) or a plain `kubernetes.io/tls` Secret issued here through
 * Vault (`<mount>/issue/<role>`, VAULT_API.md 4.10); the trust bundle ConfigMap with the root;
 * and the client certificate certflow's verifier presents in its mTLS handshakes. Every target
 * carries the label and annotations certflow discovers it by (functions/contracts/targets.ts).
 * Objects that already exist are left as they are, so seeding twice changes nothing.
 */

export interface KubernetesSeedInputs {
  readonly kubernetes: Pick<KubernetesEmulatorHandle, 'store'>;
  /** The intermediate mount and the service role; the token must be allowed to issue on it. Never logged. */
  readonly vault: { readonly url: string; readonly token: string; readonly mount: string; readonly role: string; /** The Vault listener's CA (PEM). */ readonly caBundle?: string };
  /** The root the trust bundle carries. @default the self-signed end of the chain Vault returns */
  readonly rootCertificate?: string;
  /** Where each service listens, for the endpoint annotation; left out for services it does not know. */
  readonly endpoint?: (service: string) => { host: string; port: number } | undefined;
  /** Wait this long for the controller to make every Certificate Ready; no wait when absent. */
  readonly awaitIssuanceMs?: number;
  /** @default { name: 'vault-issuer', kind: 'Issuer' } */
  readonly issuerRef?: { readonly name: string; readonly kind: string };
}

export interface SeededService {
  readonly name: string;
  readonly namespace: string;
  readonly kind: TargetKind;
  readonly dnsNames: readonly string[];
  readonly deployment: string;
  readonly secretName: string;
  /** cert-manager services only. */
  readonly certificateName?: string;
  readonly keyAlgorithm: 'ecdsa-p256' | 'rsa-2048';
  readonly canary: boolean;
}

/** The verifier's client credentials. `privateKey` is not enumerable, so it stays out of JSON and inspect output. */
export interface VerifierCredentials {
  readonly commonName: string;
  /** Leaf, then the intermediates: what a TLS client sends. */
  readonly certificate: string;
  readonly privateKey: string;
  readonly serial: string;
  readonly notAfter: string;
}

export interface KubernetesSeed {
  readonly namespaces: readonly string[];
  readonly trustBundle: { readonly name: string; readonly key: string };
  readonly rootCertificate: string;
  readonly services: readonly SeededService[];
  readonly verifier: VerifierCredentials;
}

export const DEFAULT_ISSUER_REF = { name: 'vault-issuer', kind: 'Issuer' } as const;

/** The endpoints a sandbox runs for this config: one per declared service, in the service's namespace. */
export function managedServices(config: CertflowConfig): ManagedService[] {
  return declaredServices(config).map((target) => ({
    name: target.service,
    namespace: target.namespace,
    secretName: target.secretName,
    deployment: target.workloads[0] ?? target.service,
    trustBundleConfigMap: config.kubernetes.trustBundleConfigMap,
    trustBundleKey: K8sNames.TrustBundleKey,
  }));
}

function goHours(duration: string): string {
  return `${Math.round(parseDuration(duration) / 3600)}h`;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function createIfAbsent<R extends ResourceName>(store: KubernetesSeedInputs['kubernetes']['store'], resource: R, object: ResourceTypes[R]): void {
  if (store.get(resource, { namespace: object.metadata.namespace, name: object.metadata.name ?? '' })) return;
  store.create(resource, object);
}

function endpointAnnotation(inputs: KubernetesSeedInputs, service: { name: string; dnsNames: readonly string[] }): Record<string, string> {
  const where = inputs.endpoint?.(service.name);
  return where ? { [K8sNames.EndpointAnnotation]: `${where.host}:${where.port}:${service.dnsNames[0]}` } : {};
}

function targetAnnotations(inputs: KubernetesSeedInputs, service: SeededService): Record<string, string> {
  return {
    [K8sNames.ServiceAnnotation]: service.name,
    [K8sNames.WorkloadsAnnotation]: service.deployment,
    [K8sNames.CanaryAnnotation]: String(service.canary),
    [K8sNames.KeyAlgorithmAnnotation]: service.keyAlgorithm,
    ...endpointAnnotation(inputs, service),
  };
}

interface IssuedLeaf {
  tlsCrt: string;
  caCrt: string;
  privateKey: string;
  serial: string;
  notAfter: Date;
}

async function issueLeaf(client: NodeVault.client, inputs: KubernetesSeedInputs, commonName: string, altNames: readonly string[], keyAlgorithm: SeededService['keyAlgorithm']): Promise<IssuedLeaf> {
  const operation = `${inputs.vault.mount}/issue/${inputs.vault.role}`;
  let answer: { data: { certificate: string; ca_chain?: string[]; issuing_ca?: string; private_key: string } };
  try {
    answer = (await client.write(operation, {
      common_name: commonName,
      alt_names: altNames.join(','),
      key_type: keyAlgorithm === 'rsa-2048' ? 'rsa' : 'ec',
      key_bits: keyAlgorithm === 'rsa-2048' ? 2048 : 256,
      private_key_format: 'pkcs8',
      format: 'pem',
    })) as typeof answer;
  } catch (error) {
    throw mapVaultError(error, { operation, address: inputs.vault.url });
  }
  const bundle = bundleFromVault({ certificate: answer.data.certificate, ca_chain: answer.data.ca_chain ?? null, ...(answer.data.issuing_ca ? { issuing_ca: answer.data.issuing_ca } : {}) });
  const leaf = certificatesOf(bundle.leafPem)[0]!;
  return { tlsCrt: bundle.tlsCrt, caCrt: bundle.caCrt, privateKey: answer.data.private_key, serial: leaf.serial, notAfter: leaf.notAfter };
}

export async function seedKubernetes(inputs: KubernetesSeedInputs, config: CertflowConfig): Promise<KubernetesSeed> {
  const store = inputs.kubernetes.store;
  const issuerRef = inputs.issuerRef ?? DEFAULT_ISSUER_REF;
  const client = vaultClientFor({ url: inputs.vault.url, token: inputs.vault.token, ...(inputs.vault.caBundle ? { caCertificate: inputs.vault.caBundle } : {}) });
  const home = config.kubernetes.namespace;

  // The verifier first: its chain tells the root when the caller did not.
  const verifierName = `certflow-verifier.${home}.svc`;
  const verifierLeaf = await issueLeaf(client, inputs, verifierName, [], 'ecdsa-p256');
  const rootCertificate = inputs.rootCertificate ?? verifierLeaf.caCrt;
  const verifier = { commonName: verifierName, certificate: verifierLeaf.tlsCrt, serial: verifierLeaf.serial, notAfter: verifierLeaf.notAfter.toISOString() } as VerifierCredentials;
  Object.defineProperty(verifier, 'privateKey', { value: verifierLeaf.privateKey, enumerable: false });

  const services: SeededService[] = declaredServices(config).map((target) => ({
    name: target.service,
    namespace: target.namespace,
    kind: target.kind,
    dnsNames: target.dnsNames,
    deployment: target.workloads[0] ?? target.service,
    secretName: target.secretName,
    ...(target.certificateName ? { certificateName: target.certificateName } : {}),
    keyAlgorithm: target.keyAlgorithm,
    canary: target.canary,
  }));
  const namespaces = [...new Set([home, ...services.map((service) => service.namespace)])];
  const trustBundle = { name: config.kubernetes.trustBundleConfigMap, key: K8sNames.TrustBundleKey };

  for (const namespace of namespaces) {
    createIfAbsent(store, 'namespaces', { metadata: { name: namespace } });
    createIfAbsent(store, 'configmaps', { metadata: { name: trustBundle.name, namespace }, data: { [trustBundle.key]: rootCertificate } });
  }

  for (const service of services) {
    const labels = { app: service.name };
    const deployment: DeploymentObject = {
      metadata: { name: service.deployment, namespace: service.namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: service.name, image: `registry.local/${service.namespace}/${service.name}:sandbox`, volumeMounts: [{ name: 'tls', mountPath: '/etc/tls', readOnly: true }] }],
            volumes: [{ name: 'tls', secret: { secretName: service.secretName } }],
          },
        },
      },
    };
    createIfAbsent(store, 'deployments', deployment);

    const managed = { [K8sNames.ManagedLabel]: 'true' };
    if (service.kind === 'cert-manager') {
      const certificate: CertificateObject = {
        metadata: { name: service.certificateName!, namespace: service.namespace, labels: managed, annotations: targetAnnotations(inputs, service) },
        spec: {
          secretName: service.secretName,
          issuerRef: { ...issuerRef, group: 'cert-manager.io' },
          commonName: service.dnsNames[0],
          dnsNames: [...service.dnsNames],
          duration: goHours(config.pki.leafTtl),
          renewBefore: goHours(config.pki.renewBefore),
          privateKey: service.keyAlgorithm === 'rsa-2048' ? { algorithm: 'RSA', size: 2048 } : { algorithm: 'ECDSA', size: 256 },
        },
      };
      createIfAbsent(store, 'certificates', certificate);
      continue;
    }
    if (store.get('secrets', { namespace: service.namespace, name: service.secretName })) continue;
    const leaf = await issueLeaf(client, inputs, service.dnsNames[0]!, service.dnsNames.slice(1), service.keyAlgorithm);
    const secret: SecretObject = {
      metadata: {
        name: service.secretName,
        namespace: service.namespace,
        labels: managed,
        annotations: {
          ...targetAnnotations(inputs, service),
          [K8sNames.KindAnnotation]: service.kind,
          [K8sNames.DnsNamesAnnotation]: service.dnsNames.join(','),
        },
      },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': base64(leaf.tlsCrt), 'tls.key': base64(leaf.privateKey), 'ca.crt': base64(leaf.caCrt) },
    };
    store.create('secrets', secret);
  }

  const seed: KubernetesSeed = { namespaces, trustBundle, rootCertificate, services, verifier };
  if (inputs.awaitIssuanceMs !== undefined) await awaitCertificatesReady(inputs.kubernetes, seed, inputs.awaitIssuanceMs);
  return seed;
}

/** Waits until every seeded Certificate is Ready=True and its Secret exists (the controller's initial issuance). */
export async function awaitCertificatesReady(kubernetes: KubernetesSeedInputs['kubernetes'], seed: KubernetesSeed, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = () =>
    seed.services
      .filter((service) => service.certificateName)
      .filter((service) => {
        const certificate = kubernetes.store.get('certificates', { namespace: service.namespace, name: service.certificateName! });
        const ready = certificate ? conditionOf(certificate, ConditionTypes.Ready) : undefined;
        return ready?.status !== 'True' || !kubernetes.store.get('secrets', { namespace: service.namespace, name: service.secretName });
      });
  for (;;) {
    const waiting = pending();
    if (waiting.length === 0) return;
    if (Date.now() >= deadline) {
      const why = waiting.map((service) => {
        const certificate = kubernetes.store.get('certificates', { namespace: service.namespace, name: service.certificateName! });
        const ready = certificate ? conditionOf(certificate, ConditionTypes.Ready) : undefined;
        return `${service.namespace}/${service.certificateName} (${ready ? `${ready.reason}: ${ready.message}` : 'no Ready condition; is the cert-manager controller running?'})`;
      });
      throw new Error(`Certificates not Ready after ${timeoutMs}ms: ${why.join('; ')}`);
    }
    await sleep(20);
  }
}

/**
 * Writes the endpoint annotation (`host:port:serverName`) on every seeded target, for endpoints
 * started after seeding. The server name is the service's first DNS name.
 */
export function annotateEndpoints(kubernetes: KubernetesSeedInputs['kubernetes'], seed: KubernetesSeed, endpoint: (service: string) => { host: string; port: number }): void {
  for (const service of seed.services) {
    const where = endpoint(service.name);
    const value = `${where.host}:${where.port}:${service.dnsNames[0]}`;
    const annotate = (object: CertificateObject | SecretObject) => {
      object.metadata.annotations = { ...(object.metadata.annotations ?? {}), [K8sNames.EndpointAnnotation]: value };
    };
    if (service.certificateName) kubernetes.store.mutate('certificates', { namespace: service.namespace, name: service.certificateName }, annotate);
    else kubernetes.store.mutate('secrets', { namespace: service.namespace, name: service.secretName }, annotate);
  }
}
