import { VaultApiError } from '../envelope';
import type { RouteDefinition, VaultRequest } from '../router';
import { rebuildCrls } from './crl-builder';
import type { PkiMount, StoredCert } from './pki-mount-state';
import { pkiEnvelope } from './pki-responses';
import { forPkiMounts, mountOf, type PkiRouteEnv } from './pki-route-kit';
import { rfc3339Nano, str, unixSeconds } from './pki-values';
import { colonSerial, isSignedBy, parseCertificateDer, parsePemBlocks, type x509 } from './x509-engine';

/**
 * `POST :mount/revoke` (VAULT_API.md 4.12): by serial (colon or hyphen form) or by certificate
 * (also certificates not stored here, when an issuer of the mount signed them). Idempotent; an
 * expired certificate is refused with a warning and no data; an issuer's own certificate is
 * refused (use issuer/:ref/revoke); the CRLs are rebuilt inline unless auto_rebuild is on.
 */

/** Twice the wiggle room Vault gives (leases have second granularity): expired means < now + 2 s. */
const EXPIRY_WIGGLE_MS = 2000;

async function presentedCertificate(mount: PkiMount, pem: string): Promise<StoredCert> {
  if (pem.length < 75) {
    throw new VaultApiError(400, 'provided certificate data was too short; perhaps a path was passed to the API rather than the contents of a PEM file');
  }
  const block = parsePemBlocks(pem)[0];
  if (!block) throw new VaultApiError(400, 'certificate contains no PEM data');
  let cert: x509.X509Certificate;
  try {
    cert = parseCertificateDer(block.der);
  } catch (err) {
    throw new VaultApiError(400, `certificate could not be parsed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const stored = mount.certs.get(colonSerial(cert.serialNumber));
  if (stored) {
    if (!Buffer.from(stored.cert.rawData).equals(Buffer.from(cert.rawData))) {
      throw new VaultApiError(500, "certificate with same serial but unequal value already present in this cluster's storage; refusing to revoke");
    }
    return stored;
  }
  // Bring-your-own-cert: accepted when an issuer of this mount signed it; then it is stored.
  for (const issuer of mount.issuerList()) {
    if (await isSignedBy(cert, issuer.cert)) return mount.storeCert(cert, issuer.id);
  }
  throw new VaultApiError(
    400,
    'unable to verify signature on presented cert from any present issuer in this mount; certificates from previous CAs will need to have their issuing CA and key re-imported if revocation is necessary',
  );
}

function revokedData(record: StoredCert) {
  const time = record.revocation?.time ?? new Date(0);
  return { revocation_time: unixSeconds(time), revocation_time_rfc3339: rfc3339Nano(time), state: 'revoked' };
}

async function revoke(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  const serial = str(request.body, 'serial_number');
  const certificate = str(request.body, 'certificate');
  if (serial === '' && certificate === '') throw new VaultApiError(400, 'The serial number or certificate to revoke must be provided.');
  if (serial !== '' && certificate !== '') throw new VaultApiError(400, 'Must provide either the certificate or the serial to revoke; not both.');
  return mount.exclusive(async () => {
    const record = certificate !== '' ? await presentedCertificate(mount, certificate) : mount.findCert(serial);
    if (!record) throw new VaultApiError(400, `certificate with serial ${serial} not found.`);
    const issuer = mount.issuerList().find((candidate) => candidate.serial === record.serial);
    if (issuer) throw new VaultApiError(400, `adding issuer (id: ${issuer.id}) to its own CRL is not allowed`);
    if (record.revocation) return pkiEnvelope(revokedData(record));
    const now = mount.now();
    if (record.cert.notAfter.getTime() < now.getTime() + EXPIRY_WIGGLE_MS) {
      return pkiEnvelope(null, { warnings: [`certificate with serial ${record.serial} already expired; refusing to add to CRL`] });
    }
    // associateRevokedCertWithIsssuer: the recorded signer, else whichever issuer's key signed it.
    let issuerId = mount.issuers.has(record.issuerId) ? record.issuerId : '';
    for (const candidate of issuerId === '' ? mount.issuerList() : []) {
      if (await isSignedBy(record.cert, candidate.cert)) {
        issuerId = candidate.id;
        break;
      }
    }
    mount.markRevoked(record, { time: now, issuerId });
    const warnings = mount.crlConfig.autoRebuild ? [] : await rebuildCrls(mount);
    return pkiEnvelope(revokedData(record), { warnings: warnings.map((warning, index) => `Warning ${index + 1} during CRL rebuild: ${warning}`) });
  });
}

export function revokeRoutes(env: PkiRouteEnv): RouteDefinition[] {
  return forPkiMounts(env, [{ pattern: ':mount/revoke', operations: { update: (_, request) => revoke(env, request) } }]);
}
