import type { PublishTrustInput } from '../contracts/fanout-payloads';
import { K8sNames } from '../contracts/targets';
import { backupLabels, backupSecretName } from '../domain/backup-naming';
import { certificatesFromPem, type CertFacts } from '../domain/x509-facts';
import type { FanoutDeps } from './fanout-deps';

export interface PublishTrustOutput {
  runId: string;
  namespaces: Array<{ cluster: string; namespace: string; certificates: number; changed: boolean }>;
}

/**
 * PublishTrust (DESIGN.md step 5): each namespace's bundle ConfigMap carries the root and every
 * intermediate still in use (old and new overlap), so peers that pin an intermediate keep trusting
 * both during the cutover. Trust follows revocation: a certificate of a revoked issuer, and an
 * intermediate past its notAfter, leave the bundle (issue 12: a revoked intermediate left in a
 * bundle anchors any leaf minted with its stolen key). The bundle as it was is kept in a ConfigMap
 * labelled with the run; `restore` puts it back (rollback). Certificates are de-duplicated by
 * fingerprint, order kept.
 */
export async function publishTrust(deps: FanoutDeps, input: PublishTrustInput): Promise<PublishTrustOutput> {
  const output: PublishTrustOutput = { runId: input.runId, namespaces: [] };
  const issuers = input.mode === 'publish' ? await mountIssuers(deps) : { inUse: [], revoked: new Set<string>() };
  const now = deps.clock.now();
  for (const { cluster: clusterName, namespace } of input.namespaces) {
    const cluster = deps.cluster(clusterName);
    const name = deps.trustBundleConfigMap;
    const backupName = backupSecretName(name, input.runId);
    const current = await cluster.readConfigMap(namespace, name);
    const currentBundle = current?.data[K8sNames.TrustBundleKey] ?? '';
    if (input.mode === 'restore') {
      const saved = await cluster.readConfigMap(namespace, backupName);
      if (!saved) {
        output.namespaces.push({ cluster: clusterName, namespace, certificates: count(currentBundle), changed: false });
        continue;
      }
      await cluster.writeConfigMap(namespace, name, saved.data);
      output.namespaces.push({ cluster: clusterName, namespace, certificates: count(saved.data[K8sNames.TrustBundleKey] ?? ''), changed: true });
      continue;
    }
    if (!(await cluster.readConfigMap(namespace, backupName))) {
      await cluster.writeConfigMap(namespace, backupName, current?.data ?? {}, backupLabels(input.runId));
    }
    const bundle = mergeBundles(currentBundle, issuers.inUse, (cert) => issuers.revoked.has(cert.fingerprint256) || (cert.subjectKey !== cert.issuerKey && cert.notAfter < now));
    const changed = bundle !== currentBundle;
    if (changed) await cluster.writeConfigMap(namespace, name, { ...(current?.data ?? {}), [K8sNames.TrustBundleKey]: bundle });
    output.namespaces.push({ cluster: clusterName, namespace, certificates: count(bundle), changed });
  }
  deps.log.info('trust bundles published', { mode: input.mode, namespaces: output.namespaces });
  return output;
}

/** The root and every issuing or retiring intermediate of the mount, and the fingerprints of its revoked issuers. */
async function mountIssuers(deps: FanoutDeps): Promise<{ inUse: string[]; revoked: Set<string> }> {
  const mount = deps.settings.intermediateMount;
  const inUse: string[] = [];
  const revoked = new Set<string>();
  for (const summary of await deps.pki.listIssuers(mount)) {
    const issuer = await deps.pki.readIssuer(mount, summary.issuerId);
    if (!issuer.revoked) inUse.push(issuer.certificatePem);
    else for (const cert of certificatesFromPem(issuer.certificatePem, `issuer ${summary.issuerId}`)) revoked.add(cert.fingerprint256);
  }
  return { inUse, revoked };
}

function mergeBundles(current: string, additions: string[], drop: (cert: CertFacts) => boolean): string {
  const seen = new Set<string>();
  const blocks: string[] = [];
  for (const facts of [...certificatesFromPem(current, 'trust bundle'), ...additions.flatMap((pem) => certificatesFromPem(pem, 'issuer'))]) {
    if (seen.has(facts.fingerprint256) || drop(facts)) continue;
    seen.add(facts.fingerprint256);
    blocks.push(facts.cert.toString().trim());
  }
  return blocks.length ? `${blocks.join('\n')}\n` : '';
}

function count(bundle: string): number {
  return certificatesFromPem(bundle, 'trust bundle').length;
}
