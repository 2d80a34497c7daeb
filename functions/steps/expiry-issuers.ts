import type { IssuerSeen } from '../contracts/expiry';
import { certificatesFromPem } from '../domain/x509-facts';
import type { Log } from '../ports/log';
import type { VaultPki } from '../ports/vault-pki';

/**
 * ExpiryIssuers (gather): every issuer of the root and intermediate mounts, with its validity.
 * Reads only. Importing an intermediate with its chain also imports the root, keyless, on the
 * intermediate mount (VAULT_API.md 4.6): each certificate is listed once, under the mount that
 * holds its key.
 */
export async function sweepIssuers(pki: VaultPki, mounts: { root: string; intermediate: string }, log: Log): Promise<IssuerSeen[]> {
  const byFingerprint = new Map<string, IssuerSeen & { hasKey: boolean }>();
  for (const mount of [mounts.root, mounts.intermediate]) {
    for (const summary of await pki.listIssuers(mount)) {
      const details = await pki.readIssuer(mount, summary.issuerId);
      const facts = certificatesFromPem(details.certificatePem, `issuer ${mount}/${summary.issuerId}`)[0];
      if (!facts) continue;
      const hasKey = details.keyId !== '';
      const seen = {
        mount,
        issuerId: details.issuerId,
        issuerName: details.issuerName,
        role: facts.subjectKey === facts.issuerKey ? ('root' as const) : ('intermediate' as const),
        isDefault: summary.isDefault,
        issuing: hasKey && details.usage.includes('issuing-certificates'),
        revoked: details.revoked,
        certificate: { serial: facts.serial, notBefore: facts.notBefore.toISOString(), notAfter: facts.notAfter.toISOString() },
        hasKey,
      };
      const earlier = byFingerprint.get(facts.fingerprint256);
      if (!earlier || (!earlier.hasKey && hasKey)) byFingerprint.set(facts.fingerprint256, seen);
    }
  }
  const issuers = [...byFingerprint.values()].map(({ hasKey: _hasKey, ...issuer }) => issuer);
  log.info('issuers swept', { issuers: issuers.map((issuer) => [`${issuer.mount}/${issuer.issuerId}`, issuer.role, issuer.certificate.notAfter]) });
  return issuers;
}
