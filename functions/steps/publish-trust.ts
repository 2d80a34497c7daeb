import type { PublishTrustInput } from '../contracts/fanout-payloads';
import { K8sNames } from '../contracts/targets';
import { backupLabels, backupSecretName } from '../domain/backup-naming';
import { certificatesFromPem } from '../domain/x509-facts';
import type { FanoutDeps } from './fanout-deps';

export interface PublishTrustOutput {
  runId: string;
  namespaces: Array<{ cluster: string; namespace: string; certificates: number; changed: boolean }>;
}

/**
 * PublishTrust (DESIGN.md step 5): each namespace's bundle ConfigMap carries the root and every
 * intermediate still in use (old and new overlap), so peers that pin an intermediate keep trusting
 * both during the cutover. The bundle as it was is kept in a ConfigMap labelled with the run;
 * `restore` puts it back (rollback). Certificates are de-duplicated by fingerprint, order kept.
 */
export async function publishTrust(deps: FanoutDeps, input: PublishTrustInput): Promise<PublishTrustOutput> {
  const output: PublishTrustOutput = { runId: input.runId, namespaces: [] };
  const wanted = input.mode === 'publish' ? await issuersInUse(deps) : [];
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
    const bundle = mergeBundles(currentBundle, wanted);
    const changed = bundle !== currentBundle;
    if (changed) await cluster.writeConfigMap(namespace, name, { ...(current?.data ?? {}), [K8sNames.TrustBundleKey]: bundle });
    output.namespaces.push({ cluster: clusterName, namespace, certificates: count(bundle), changed });
  }
  deps.log.info('trust bundles published', { mode: input.mode, namespaces: output.namespaces });
  return output;
}

/** The root and every issuing or retiring intermediate of the mount (revoked ones are dropped). */
async function issuersInUse(deps: FanoutDeps): Promise<string[]> {
  const mount = deps.settings.intermediateMount;
  const pems: string[] = [];
  for (const summary of await deps.pki.listIssuers(mount)) {
    const issuer = await deps.pki.readIssuer(mount, summary.issuerId);
    if (!issuer.revoked) pems.push(issuer.certificatePem);
  }
  return pems;
}

function mergeBundles(current: string, additions: string[]): string {
  const seen = new Set<string>();
  const blocks: string[] = [];
  for (const facts of [...certificatesFromPem(current, 'trust bundle'), ...additions.flatMap((pem) => certificatesFromPem(pem, 'issuer'))]) {
    if (seen.has(facts.fingerprint256)) continue;
    seen.add(facts.fingerprint256);
    blocks.push(facts.cert.toString().trim());
  }
  return blocks.length ? `${blocks.join('\n')}\n` : current;
}

function count(bundle: string): number {
  return certificatesFromPem(bundle, 'trust bundle').length;
}
