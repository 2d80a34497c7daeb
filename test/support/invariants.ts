import { createHash } from 'node:crypto';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { KubernetesSeed } from '../../sandbox/compose/kubernetes-seed';
import { tlsOracle } from './tls-oracle';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';

/**
 * The invariants the fault tests check after every run, read independently of certflow's own
 * verification: the cluster's objects through the emulator store, Vault over HTTP, and real
 * handshakes with every endpoint.
 */
export interface FleetSnapshot {
  defaultIssuer: string;
  secrets: Record<string, string>;
  bundles: Record<string, string>;
}

export async function snapshot(cloud: LocalCloud, seed: KubernetesSeed): Promise<FleetSnapshot> {
  const store = cloud.sandbox.kubernetes.store;
  const secrets: Record<string, string> = {};
  for (const service of seed.services) {
    const secret = store.get('secrets', { namespace: service.namespace, name: service.secretName }) as { type?: string; data?: Record<string, string> } | undefined;
    const hash = createHash('sha256').update(secret?.type ?? '');
    for (const key of Object.keys(secret?.data ?? {}).sort()) hash.update(key).update(secret!.data![key]!);
    secrets[service.name] = hash.digest('hex');
  }
  const bundles: Record<string, string> = {};
  for (const namespace of seed.namespaces) {
    const configMap = store.get('configmaps', { namespace, name: seed.trustBundle.name }) as { data?: Record<string, string> } | undefined;
    bundles[namespace] = configMap?.data?.[seed.trustBundle.key] ?? '';
  }
  const vault = sandboxVaultClient(cloud.sandbox, { token: cloud.sandbox.vault.rootToken() ?? '' });
  const defaultIssuer = ((await vault.read(`${cloud.sandbox.config.vault.intermediateMount}/config/issuers`)) as { data: { default: string } }).data.default;
  return { defaultIssuer, secrets, bundles };
}

/**
 * I1: every service's served chain validates against every peer's trust bundle, for every name
 * the service declares, and a peer with certflow's client identity gets application data back.
 * Judged by Node's TLS (OpenSSL, tls-oracle.ts), never by certflow's checker. Returns the services
 * that fail.
 */
export async function trustBreaks(cloud: LocalCloud, seed: KubernetesSeed): Promise<string[]> {
  const store = cloud.sandbox.kubernetes.store;
  const bundles = seed.namespaces.map(
    (namespace) => (store.get('configmaps', { namespace, name: seed.trustBundle.name }) as { data?: Record<string, string> } | undefined)?.data?.[seed.trustBundle.key] ?? '',
  );
  const broken: string[] = [];
  await Promise.all(
    seed.services.map(async (service) => {
      const endpoint = cloud.sandbox.services.endpoint(service.name);
      const answers = await Promise.all(
        bundles.map((ca) =>
          tlsOracle({ host: endpoint.host, port: endpoint.port, names: service.dnsNames, ca, clientCertificatePem: seed.verifier.certificate, clientKeyPem: seed.verifier.privateKey }),
        ),
      );
      if (!answers.every((answer) => answer.trusted && answer.applicationData.includes(service.name))) broken.push(service.name);
    }),
  );
  return broken.sort();
}
