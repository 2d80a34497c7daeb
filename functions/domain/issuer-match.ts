import type { X509Certificate } from 'node:crypto';
import { certificatesFromPem } from './x509-facts';

/**
 * Which Vault issuer signed a certificate: the one OpenSSL says issued it (`checkIssued`: the
 * issuer's subject is the certificate's issuer name, and the key identifiers and key usage agree)
 * and whose key verifies its signature. Vault returns `issuer_id` only for revoked certificates
 * (docs/vault-api.md §5.2), so the chain is the only reliable way to tell.
 */
export function issuerOf(leaf: { cert: X509Certificate }, issuers: ReadonlyArray<{ issuerId: string; certificatePem: string }>): string | undefined {
  for (const issuer of issuers) {
    const [facts] = certificatesFromPem(issuer.certificatePem, `issuer ${issuer.issuerId}`);
    if (facts && leaf.cert.checkIssued(facts.cert) && leaf.cert.verify(facts.cert.publicKey)) return issuer.issuerId;
  }
  return undefined;
}

/** The DNS SANs of a certificate (Node writes them as `DNS:a, DNS:b`). */
export function dnsNamesOf(leaf: { cert: X509Certificate }): string[] {
  return (leaf.cert.subjectAltName ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
}
