import type { PkiIssuer, PkiMount, StoredCert } from './pki-mount-state';
import { isSignedBy, pemEncode, signingAlgorithm, x509 } from './x509-engine';

/**
 * Builds every CRL of a mount the way crl_util.go buildAnyCRLs does (VAULT_API.md 4.13, P13):
 * issuers with a key are grouped by key and subject (such issuers are the same CA and share one
 * CRL); each group's CRL is signed by a member with `crl-signing` usage and lists the revoked
 * certificates that group issued. Revoked certificates whose issuer is gone land on the default
 * issuer's CRL. A real CRL: v2, AKID and CRL number extensions, nextUpdate = now + config expiry.
 */

const CRL_NUMBER_OID = '2.5.29.20';

/** A DER INTEGER (positive): the value of the CRL number extension. */
function derInteger(value: number): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

function groupKeyOf(issuer: PkiIssuer): string {
  return `${issuer.keyId}/${Buffer.from(issuer.cert.subjectName.toArrayBuffer()).toString('hex')}`;
}

/** The issuer a revoked certificate belongs to: recorded at issuance, else by signature. */
async function owningIssuer(mount: PkiMount, record: StoredCert, keyed: readonly PkiIssuer[]): Promise<PkiIssuer | undefined> {
  const recorded = keyed.find((issuer) => issuer.id === (record.revocation?.issuerId || record.issuerId));
  if (recorded) return recorded;
  for (const issuer of keyed) if (await isSignedBy(record.cert, issuer.cert)) return issuer;
  return keyed.find((issuer) => issuer.id === mount.defaultIssuerId);
}

/** Rebuilds all CRLs; returns Vault-style warnings (none today, the list keeps the response shape). */
export async function rebuildCrls(mount: PkiMount): Promise<string[]> {
  const keyed = mount.issuerList().filter((issuer) => issuer.keyId !== '' && mount.keys.has(issuer.keyId));
  const groups = new Map<string, PkiIssuer[]>();
  for (const issuer of keyed) {
    const key = groupKeyOf(issuer);
    groups.set(key, [...(groups.get(key) ?? []), issuer]);
  }

  const entries = new Map<string, StoredCert[]>();
  if (!mount.crlConfig.disable) {
    // Only the revoked entries (Vault's `revoked/` prefix), never the whole certificate store.
    for (const record of mount.revokedCerts.values()) {
      const owner = await owningIssuer(mount, record, keyed);
      if (!owner) continue;
      const key = groupKeyOf(owner);
      // A CA never lists its own certificate (a revoked root's serial is on no CRL, 4.8).
      if ((groups.get(key) ?? []).some((member) => member.serial === record.serial)) continue;
      entries.set(key, [...(entries.get(key) ?? []), record]);
    }
  }

  const now = mount.now();
  for (const [key, members] of groups) {
    // Issuers without crl-signing usage keep their last CRL (4.8: a revoked issuer still signs).
    const signer = members.find((issuer) => issuer.usage.has('crl-signing'));
    const signingKey = signer ? mount.keys.get(signer.keyId) : undefined;
    if (!signer || !signingKey) continue;
    const number = Math.max(0, ...members.map((issuer) => mount.crls.get(issuer.id)?.number ?? 0)) + 1;
    const authorityKeyId =
      signer.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ??
      (await x509.SubjectKeyIdentifierExtension.create(signer.cert.publicKey)).keyId;
    const crl = await x509.X509CrlGenerator.create({
      issuer: signer.cert.subjectName,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + mount.crlConfig.expirySeconds * 1000),
      signingKey: signingKey.material.privateKey,
      signingAlgorithm: signingAlgorithm(signingKey.material),
      extensions: [new x509.AuthorityKeyIdentifierExtension(authorityKeyId), new x509.Extension(CRL_NUMBER_OID, false, new Uint8Array(derInteger(number)))],
      entries: (entries.get(key) ?? []).map((record) => ({
        serialNumber: record.cert.serialNumber,
        revocationDate: record.revocation?.time ?? now,
      })),
    });
    const built = { der: Buffer.from(crl.rawData), number, thisUpdate: now };
    for (const member of members) mount.crls.set(member.id, built);
  }
  return [];
}

export function crlPem(der: Buffer): string {
  return pemEncode('X509 CRL', der);
}
