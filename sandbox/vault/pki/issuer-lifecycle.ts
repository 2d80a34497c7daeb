import { randomUUID } from 'node:crypto';
import { VaultApiError } from '../envelope';
import { rebuildCrls } from './crl-builder';
import { defaultUsage, type PkiIssuer, type PkiKey, type PkiMount, usageNames } from './pki-mount-state';
import { certificatePem, colonSerial, hasKeyUsage, isCaCertificate, x509 } from './x509-engine';

/**
 * Adding issuers to a mount, shared by root generation and every import path (storage.go
 * importIssuer, VAULT_API.md 4.6): duplicates are recognised and returned as existing, every
 * certificate must be a CA, the issuer is linked to a key of the mount with the same public key,
 * and the default moves only when the mount had none. Also the usage check before signing.
 */

export interface ImportedIssuer {
  readonly issuer: PkiIssuer;
  readonly existing: boolean;
}

function sameCertificate(a: x509.X509Certificate, b: x509.X509Certificate): boolean {
  return Buffer.from(a.rawData).equals(Buffer.from(b.rawData));
}

/** importIssuer: one CA certificate into the mount (the caller rebuilds chains and CRLs). */
export function importIssuer(mount: PkiMount, cert: x509.X509Certificate, name = ''): ImportedIssuer {
  if (!isCaCertificate(cert)) throw new VaultApiError(400, 'Refusing to import non-CA certificate');
  const known = mount.issuerList();
  const duplicate = known.find((issuer) => sameCertificate(issuer.cert, cert));
  if (duplicate) return { issuer: duplicate, existing: true };
  mount.assertIssuerNameFree(name);

  const key = mount.keyForSpki(Buffer.from(cert.publicKey.rawData));
  const usage = defaultUsage();
  // Without the CRLSign key usage bit the issuer cannot sign CRLs, so Vault drops the usage.
  if (!hasKeyUsage(cert, x509.KeyUsageFlags.cRLSign)) usage.delete('crl-signing');
  const issuer: PkiIssuer = {
    id: randomUUID(),
    name,
    keyId: key?.id ?? '',
    cert,
    pem: certificatePem(cert),
    serial: colonSerial(cert.serialNumber),
    leafNotAfterBehavior: 'err',
    manualChain: null,
    usage,
    revocationSignatureAlgorithm: '',
    revoked: false,
    caChainIds: [],
    createdOrder: mount.nextIssuerOrder(),
  };
  mount.issuers.set(issuer.id, issuer);
  // The default moves only when there was none (or no issuers at all), and only to a keyed issuer (P1).
  const hasDefault = mount.issuers.has(mount.defaultIssuerId);
  if ((known.length === 0 || !hasDefault) && issuer.keyId !== '') mount.defaultIssuerId = issuer.id;
  return { issuer, existing: false };
}

/** Chains and CRLs after the issuer set changed (importIssuer's rebuildIssuersChains + CRL rebuild). */
export async function afterIssuersChanged(mount: PkiMount): Promise<string[]> {
  await mount.rebuildChains();
  return rebuildCrls(mount);
}

/** The issuer of a signing request with its key, or 400 as fetchCAInfo would refuse it (4.10). */
export function signingIssuer(mount: PkiMount, reference: string): { issuer: PkiIssuer; key: PkiKey } {
  let issuer: PkiIssuer;
  try {
    issuer = mount.resolveIssuer(reference);
  } catch (err) {
    if (err instanceof VaultApiError) throw new VaultApiError(400, `could not fetch the CA certificate (was one set?): ${err.errors[0] ?? ''}`);
    throw err;
  }
  if (!issuer.usage.has('issuing-certificates')) {
    // 500, as Vault answers: fetchCAInfoWithIssuer wraps EnsureUsage's refusal in an
    // errutil.InternalError, and RespondErrorCommon maps an error that is neither a UserError
    // nor a known logical error to 500 (hashicorp/vault builtin/logical/pki/issuing/issuers.go,
    // sdk/logical/response_util.go). VAULT_API.md 4.10 lists it among the 400s, which it is not.
    const label = issuer.name === '' ? `id:${issuer.id}` : `id:${issuer.id} / name:${issuer.name}`;
    throw new VaultApiError(
      500,
      `error fetching CA certificate: error while attempting to use issuer ${issuer.id}: requested usage issuing-certificates for issuer [${label}] but only had usage ${usageNames(issuer.usage)}`,
    );
  }
  const key = mount.keys.get(issuer.keyId);
  if (!key) {
    throw new VaultApiError(
      400,
      `could not fetch the CA certificate (was one set?): unable to fetch corresponding key for issuer ${issuer.id}; unable to use this issuer for signing`,
    );
  }
  return { issuer, key };
}
