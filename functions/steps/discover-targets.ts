import { K8sNames, TargetSchema, type Target } from '../contracts/targets';
import { targetFromObject } from '../domain/target-annotations';
import type { Cluster } from '../ports/cluster';
import type { Log } from '../ports/log';

/**
 * Discovery (DESIGN.md step 3, gather): every Secret and cert-manager Certificate labelled
 * `certflow.io/managed=true` in each configured cluster, plus the static targets of the config.
 * A static target wins over a discovered one with the same id. A malformed object is reported
 * and skipped, never guessed at; the others are still renewed.
 */
export async function discoverTargets(
  clusters: readonly Cluster[],
  staticTargets: readonly Target[],
  log: Log,
): Promise<{ targets: Target[]; rejected: Array<{ object: string; reason: string }> }> {
  const selector = `${K8sNames.ManagedLabel}=true`;
  const found = new Map<string, Target>();
  const rejected: Array<{ object: string; reason: string }> = [];
  const keep = (build: () => Target, object: string) => {
    try {
      const target = build();
      found.set(target.id, target);
    } catch (error) {
      rejected.push({ object, reason: (error as Error).message });
      log.warn('skipping a malformed target', { object, reason: (error as Error).message });
    }
  };
  for (const cluster of clusters) {
    for (const secret of await cluster.listSecrets(undefined, selector)) {
      if (secret.labels[K8sNames.BackupRunLabel]) continue;
      keep(() => targetFromObject({ cluster: cluster.name, namespace: secret.namespace, name: secret.name, resource: 'Secret', annotations: secret.annotations }), `Secret ${secret.namespace}/${secret.name}`);
    }
    for (const certificate of await cluster.listCertificates(undefined, selector)) {
      keep(
        () =>
          targetFromObject({
            cluster: cluster.name,
            namespace: certificate.namespace,
            name: certificate.name,
            resource: 'Certificate',
            annotations: certificate.annotations,
            secretName: certificate.secretName,
            dnsNames: certificate.dnsNames,
          }),
        `Certificate ${certificate.namespace}/${certificate.name}`,
      );
    }
  }
  for (const target of staticTargets) found.set(target.id, TargetSchema.parse(target));
  return { targets: [...found.values()].sort((a, b) => a.id.localeCompare(b.id)), rejected };
}
