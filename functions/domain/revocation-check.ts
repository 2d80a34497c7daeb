/** Check 7 of the trust checker (trust-checker.ts): revocation, on each issuer's own CRL. */
import { createHash } from 'node:crypto';
import { role, TrustReasons, type CertNode, type CrlNode, type Failure, type Path, type TrustSnapshot } from './trust-verdict';
import { crlSignedBy, type CrlFacts } from './x509-facts';

/**
 * Vault stamps thisUpdate with its own clock the moment it rebuilds a CRL (crl/rotate, a revoke),
 * and VerifyBatch reads it right after: a Lambda clock a few seconds behind Vault's must not
 * call that fresh CRL "not yet valid". nextUpdate gets no grace: a stale list is stale.
 */
const CRL_THIS_UPDATE_SKEW_MS = 5 * 60_000;

/**
 * Each certificate below the anchor is judged on its own issuer's CRL: each issuer signs its own,
 * so after a rotation an old leaf is on the old issuer's CRL, not on `pki/crl` (VAULT_API.md
 * 4.13, P13). The library parses and verifies; a CRL counts when its issuer name is the
 * certificate's issuer, the issuer's key signed it, and the issuer may sign CRLs (cRLSign, when it
 * has a key usage). Of several, the newest counts; it must be current (thisUpdate <= now <=
 * nextUpdate), since a stale list cannot say a certificate was not revoked since.
 */
export async function checkRevocation(s: TrustSnapshot, path: Path): Promise<Failure | undefined> {
  if (!s.crls) return undefined;
  for (let index = 0; index < path.length - 1; index++) {
    const cert = path[index] as CertNode;
    const issuer = path[index + 1] as CertNode;
    const what = `the ${role(s, cert)} ${cert.facts.subject} (serial ${cert.facts.serial})`;
    const named: CrlNode[] = s.crls.filter((crl) => crl.facts.issuerKey === cert.facts.issuerKey);
    const signed: CrlNode[] = [];
    if (!issuer.facts.keyUsage || issuer.facts.keyUsage.includes('cRLSign')) {
      for (const crl of named) if (await crlSigned(s, crl.facts, issuer)) signed.push(crl);
    }
    const crl = signed.sort((a, b) => b.facts.thisUpdate.getTime() - a.facts.thisUpdate.getTime())[0];
    if (!crl) {
      return {
        reason: TrustReasons.RevocationUnknown,
        detail: `no CRL signed by ${issuer.facts.subject} was given for ${what}${named.length ? ` (${named.length} name it as issuer, but its key did not sign them or it may not sign CRLs)` : ''}`,
      };
    }
    const { thisUpdate, nextUpdate, index: position } = crl.facts;
    if (thisUpdate.getTime() > s.now.getTime() + CRL_THIS_UPDATE_SKEW_MS || (nextUpdate && nextUpdate.getTime() < s.now.getTime())) {
      return {
        reason: TrustReasons.CrlStale,
        detail: `CRL ${position + 1} of ${issuer.facts.subject} is valid from ${thisUpdate.toISOString()} to ${nextUpdate?.toISOString() ?? 'no nextUpdate'}, and now is ${s.now.toISOString()}: it cannot say whether ${what} is revoked`,
      };
    }
    if (crl.facts.revokedSerials.has(cert.facts.serial)) {
      return { reason: TrustReasons.Revoked, detail: `${what} is listed on CRL ${position + 1} of ${issuer.facts.subject}, issued ${thisUpdate.toISOString()}` };
    }
  }
  return undefined;
}

async function crlSigned(s: TrustSnapshot, crl: CrlFacts, issuer: CertNode): Promise<boolean> {
  const key = createHash('sha256').update(crl.der).update(issuer.facts.der).digest('hex');
  return s.crypto.counted(key, () => crlSignedBy(crl, issuer.facts.cert.publicKey));
}
