import { type EnvelopeExtras, envelope, type VaultResponse } from '../envelope';
import type { PkiIssuer, PkiMount } from './pki-mount-state';
import { usageNames } from './pki-mount-state';
import { rfc3339Nano, unixSeconds } from './pki-values';

/**
 * Response shapes shared by several PKI route files: the envelope with `mount_type: "pki"` (Vault
 * only, VAULT_API.md 1.1) and the issuer read shape of 4.2 (also returned by update and revoke).
 */

export function pkiEnvelope(data: unknown, extras: EnvelopeExtras = {}): VaultResponse {
  return envelope(data, { mountType: 'pki', ...extras });
}

/** The AIA warning every CA-creating endpoint adds while config/urls is empty (path_root.go). */
export const NO_AIA_WARNING =
  "This mount hasn't configured any authority information access (AIA) fields; this may make it harder for systems to find missing certificates in the chain or to validate revocation status of certificates. Consider updating /config/urls or the newly generated issuer with this information.";

export function mountHasNoAia(mount: PkiMount): boolean {
  return mount.urls.issuingCertificates.length === 0 && mount.urls.crlDistributionPoints.length === 0 && mount.urls.ocspServers.length === 0;
}

/** respondReadIssuer (4.2): usage as a comma string, ca_chain as far as the mount knows it. */
export function issuerResponseData(mount: PkiMount, issuer: PkiIssuer): Record<string, unknown> {
  const data: Record<string, unknown> = {
    issuer_id: issuer.id,
    issuer_name: issuer.name,
    key_id: issuer.keyId,
    certificate: issuer.pem,
    manual_chain: issuer.manualChain,
    ca_chain: mount.chainPems(issuer),
    leaf_not_after_behavior: issuer.leafNotAfterBehavior,
    usage: usageNames(issuer.usage),
    revocation_signature_algorithm: issuer.revocationSignatureAlgorithm,
    revoked: issuer.revoked,
    issuing_certificates: [],
    crl_distribution_points: [],
    delta_crl_distribution_points: [],
    ocsp_servers: [],
  };
  if (issuer.revoked && issuer.revocationTime) {
    data.revocation_time = unixSeconds(issuer.revocationTime);
    data.revocation_time_rfc3339 = rfc3339Nano(issuer.revocationTime);
  }
  if (issuer.aia) {
    data.issuing_certificates = issuer.aia.issuingCertificates;
    data.crl_distribution_points = issuer.aia.crlDistributionPoints;
    data.delta_crl_distribution_points = issuer.aia.deltaCrlDistributionPoints;
    data.ocsp_servers = issuer.aia.ocspServers;
    data.enable_aia_url_templating = issuer.aia.enableTemplating;
  }
  return data;
}
