import { K8sNames } from '../contracts/targets';
import { normaliseSerial } from '../domain/compromise-serials';
import { issuerOf } from '../domain/issuer-match';
import { SecretFiles } from '../domain/secret-layout';
import { declaredBackupOf, declaredNamespaces } from '../domain/target-policy';
import { leafSummary } from '../domain/x509-facts';
import type { Log } from '../ports/log';
import type { RotationRuntime } from './rotation-deps';

/**
 * After a compromise is contained, a backup Secret that still holds a compromised key is a way
 * back to it: a later rollback would restore it byte for byte (I5). So every backup in the declared
 * namespaces whose certificate has a compromised serial, or was signed by the compromised
 * intermediate, is deleted, this response's own backups (taken when it reissued) included.
 * A backup's kind is the policy's for the Secret it backs up; one of an undeclared Secret is not
 * certflow's and is left alone. Idempotent: a second pass finds nothing left to delete.
 */
export async function destroyCompromisedBackups(
  runtime: RotationRuntime,
  compromised: { serials: readonly string[]; issuerPem?: string },
  log: Log,
): Promise<string[]> {
  const serials = new Set(compromised.serials.map(normaliseSerial));
  const issuers = compromised.issuerPem ? [{ issuerId: 'compromised', certificatePem: compromised.issuerPem }] : [];
  const destroyed: string[] = [];
  for (const cluster of runtime.fanout.clusters) {
    for (const namespace of declaredNamespaces(runtime.policy, cluster.name)) {
      for (const backup of await cluster.listSecrets(namespace, K8sNames.BackupRunLabel)) {
        const kind = declaredBackupOf(runtime.policy, cluster.name, backup)?.kind;
        const pem = kind ? backup.data[SecretFiles[kind].cert]?.toString('utf8') : undefined;
        const leaf = pem ? leafSummary(pem, `backup ${namespace}/${backup.name}`) : undefined;
        if (!leaf) continue;
        const hit = serials.has(normaliseSerial(leaf.serial)) || (issuers.length > 0 && issuerOf(leaf, issuers) !== undefined);
        if (!hit) continue;
        await cluster.deleteSecret(namespace, backup.name);
        destroyed.push(`${cluster.name}/${namespace}/${backup.name}`);
      }
    }
  }
  if (destroyed.length) log.info('backups holding compromised keys destroyed', { destroyed });
  return destroyed.sort();
}
