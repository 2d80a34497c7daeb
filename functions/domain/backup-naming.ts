import { K8sNames } from '../contracts/targets';

/**
 * Backups are Secrets in the target's own namespace, so keys never leave the cluster (DESIGN.md
 * step 8). One per target per run: `<secret>-cfbk-<run hash>`, labelled with the run id so a
 * rollback finds them and a later successful run cleans them. Names stay valid DNS-1123 subdomains.
 */
export function backupSecretName(secretName: string, runId: string): string {
  return `${secretName.slice(0, 200)}-cfbk-${shortHash(runId)}`;
}

export function backupLabels(runId: string): Record<string, string> {
  return { [K8sNames.BackupRunLabel]: labelValue(runId) };
}

/** Label values: at most 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends. */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '') || 'x';
}

/** FNV-1a, 32 bits, hex: short, stable, and no crypto import needed for a name. */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
