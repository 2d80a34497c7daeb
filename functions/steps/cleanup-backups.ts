import { K8sNames } from '../contracts/targets';
import type { TargetPolicy } from '../contracts/target-policy';
import { labelValue } from '../domain/backup-naming';
import { declaredBackupOf, declaredNamespaces } from '../domain/target-policy';
import type { Cluster } from '../ports/cluster';
import type { Log } from '../ports/log';

/**
 * After a successful run, the backups of earlier runs are no longer a rollback point: delete
 * them (DESIGN.md step 10), keeping this run's until the next success. Only the declared
 * namespaces are listed: certflow writes backups nowhere else, and reads no Secret outside them.
 * A label is not proof: a Secret is deleted only when it is named as certflow names the backups of
 * a declared target's Secret, so labelling another Secret `certflow.io/backup-run` cannot get it deleted.
 */
export async function cleanupBackups(clusters: readonly Cluster[], policy: TargetPolicy, keepRunId: string, log: Log): Promise<{ deleted: string[] }> {
  const keep = labelValue(keepRunId);
  const deleted: string[] = [];
  for (const cluster of clusters) {
    for (const namespace of declaredNamespaces(policy, cluster.name)) {
      for (const secret of await cluster.listSecrets(namespace, K8sNames.BackupRunLabel)) {
        if (secret.labels[K8sNames.BackupRunLabel] === keep) continue;
        if (!declaredBackupOf(policy, cluster.name, secret)) continue;
        await cluster.deleteSecret(secret.namespace, secret.name);
        deleted.push(`${cluster.name}/${secret.namespace}/${secret.name}`);
      }
    }
  }
  if (deleted.length) log.info('old backups deleted', { deleted });
  return { deleted };
}
