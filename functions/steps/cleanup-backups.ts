import { K8sNames } from '../contracts/targets';
import type { TargetPolicy } from '../contracts/target-policy';
import { labelValue } from '../domain/backup-naming';
import { declaredNamespaces } from '../domain/target-policy';
import type { Cluster } from '../ports/cluster';
import type { Log } from '../ports/log';

/**
 * After a successful run, the backups of earlier runs are no longer a rollback point: delete
 * them (DESIGN.md step 10), keeping this run's until the next success. Only the declared
 * namespaces are listed: certflow writes backups nowhere else, and reads no Secret outside them.
 */
export async function cleanupBackups(clusters: readonly Cluster[], policy: TargetPolicy, keepRunId: string, log: Log): Promise<{ deleted: string[] }> {
  const keep = labelValue(keepRunId);
  const deleted: string[] = [];
  for (const cluster of clusters) {
    for (const namespace of declaredNamespaces(policy, cluster.name)) {
      for (const secret of await cluster.listSecrets(namespace, K8sNames.BackupRunLabel)) {
        if (secret.labels[K8sNames.BackupRunLabel] === keep) continue;
        await cluster.deleteSecret(secret.namespace, secret.name);
        deleted.push(`${cluster.name}/${secret.namespace}/${secret.name}`);
      }
    }
  }
  if (deleted.length) log.info('old backups deleted', { deleted });
  return { deleted };
}
