import type { RestoreBatchInput, RestoreBatchOutput } from '../contracts/fanout-payloads';
import { K8sNames } from '../contracts/targets';
import { backupSecretName } from '../domain/backup-naming';
import { restartWorkloads } from './renew-batch';
import type { FanoutDeps } from './fanout-deps';
import type { SecretSnapshot, SecretWrite } from '../ports/cluster';

/**
 * RestoreBatch (rollback, I5): every target this run backed up gets its Secret back byte for byte
 * (type, data, labels and annotations as they were) and its workloads restarted so they serve it
 * again. A target with no backup for this run was not touched, and is left alone. Idempotent:
 * restoring twice writes the same bytes and asks for the same restart.
 */
export async function restoreBatch(deps: FanoutDeps, input: RestoreBatchInput): Promise<RestoreBatchOutput> {
  const restored: RestoreBatchOutput['restored'] = [];
  for (const target of input.targets) {
    const cluster = deps.cluster(target.cluster);
    if (target.kind === 'cert-manager') {
      // First stop cert-manager from finishing this run's renewal over the restored Secret.
      const cancelled = await cluster.cancelCertificateRenewal(target.namespace, target.certificateName ?? target.secretName);
      if (cancelled) deps.log.info('pending cert-manager renewal withdrawn', { target: target.id });
    }
    const backupName = backupSecretName(target.secretName, input.runId);
    const backup = await cluster.readSecret(target.namespace, backupName);
    if (!backup || backup.annotations[K8sNames.BackupOfAnnotation] !== target.secretName) {
      restored.push({ id: target.id, restored: false, detail: 'not touched by this run (no backup)', restarted: [] });
      continue;
    }
    const original = {
      namespace: target.namespace,
      name: target.secretName,
      type: backup.type,
      data: backup.data,
      labels: parseRecord(backup.annotations['certflow.io/backup-labels']),
      annotations: parseRecord(backup.annotations['certflow.io/backup-annotations']),
    };
    // A Secret this run backed up but never changed (its renewal failed before writing) is already
    // as it was: writing it again would make the rollback depend on the component that failed.
    if (sameSecret(await cluster.readSecret(target.namespace, target.secretName), original)) {
      deps.log.info('target unchanged since its backup', { target: target.id, backup: backupName });
      restored.push({ id: target.id, restored: true, detail: `unchanged since ${backupName}: nothing to write`, restarted: [] });
      continue;
    }
    await cluster.writeSecret(original);
    const restarted = await restartWorkloads(deps, target, input.requestedAt);
    deps.log.info('target restored from backup', { target: target.id, backup: backupName, restarted });
    restored.push({ id: target.id, restored: true, detail: `restored from ${backupName}`, restarted });
  }
  return { runId: input.runId, restored };
}

function sameSecret(current: SecretSnapshot | undefined, original: Required<SecretWrite>): boolean {
  if (!current || current.type !== original.type) return false;
  const sameBytes = (a: Record<string, Buffer>, b: Record<string, Buffer>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([key, value]) => b[key] !== undefined && value.equals(b[key]));
  const sameText = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([key, value]) => b[key] === value);
  return sameBytes(current.data, original.data) && sameText(current.labels, original.labels) && sameText(current.annotations, original.annotations);
}

function parseRecord(text: string | undefined): Record<string, string> {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, string>) : {};
  } catch {
    return {};
  }
}
