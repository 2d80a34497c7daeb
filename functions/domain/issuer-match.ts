import { certificatesFromPem, type CertFacts } from './x509-facts';

/**
 * Which Vault issuer signed a certificate: the one whose subject is the certificate's issuer and
 * whose key verifies its signature. Vault returns `issuer_id` only for revoked certificates
 * (VAULT_API.md 5.2), so the chain is the only reliable way to tell.
 */
export function issuerOf(leaf: CertFacts, issuers: ReadonlyArray<{ issuerId: string; certificatePem: string }>): string | undefined {
  for (const issuer of issuers) {
    const [facts] = certificatesFromPem(issuer.certificatePem, `issuer ${issuer.issuerId}`);
    if (facts && facts.subjectKey === leaf.issuerKey && leaf.cert.verify(facts.cert.publicKey)) return issuer.issuerId;
  }
  return undefined;
}

/** The DNS SANs of a certificate (Node writes them as `DNS:a, DNS:b`). */
export function dnsNamesOf(leaf: CertFacts): string[] {
  return (leaf.cert.subjectAltName ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
}
