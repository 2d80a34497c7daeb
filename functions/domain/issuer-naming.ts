/**
 * Names certflow gives what it creates in Vault. A run's issuer and key are named after the run,
 * so a retried step finds what an earlier attempt made instead of making a second one (I4).
 * Vault issuer and key names allow letters, digits, `-` and `_`, and must not be `default`.
 */
export function issuerNameForRun(runId: string): string {
  return `certflow-${runId.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 128);
}

export function keyNameForRun(runId: string): string {
  return `${issuerNameForRun(runId)}-key`.slice(0, 128);
}

/** The usage a retired issuer keeps: it can no longer issue, but still signs its CRL (5.1 step 7). */
export const RETIRED_USAGE = ['crl-signing', 'ocsp-signing', 'read-only'] as const;
export const ISSUING_USAGE = ['crl-signing', 'issuing-certificates', 'ocsp-signing', 'read-only'] as const;

/** Vault durations accept seconds everywhere; days are not in every version's parser. */
export function vaultTtl(seconds: number): string {
  return `${Math.floor(seconds)}s`;
}
