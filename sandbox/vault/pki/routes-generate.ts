import type { JsonObject } from '../envelope';
import { VaultApiError } from '../envelope';
import type { RouteDefinition, VaultRequest } from '../router';
import { afterIssuersChanged, importIssuer, signingIssuer } from './issuer-lifecycle';
import { decideNotAfter, namesFrom, parseIpSans, splitAltNames } from './leaf-policy';
import type { PkiKey, PkiMount } from './pki-mount-state';
import { mountHasNoAia, NO_AIA_WARNING, pkiEnvelope } from './pki-responses';
import { forPkiMounts, mountOf, type OutputFormat, outputFormat, type PkiRouteEnv } from './pki-route-kit';
import { bool, duration, has, int, list, str, unixSeconds } from './pki-values';
import {
  buildName,
  certificatePem,
  colonSerial,
  commonNameOf,
  createCsr,
  exportPrivateKeyPem,
  generateKeyPair,
  issueCertificate,
  type KeyPairMaterial,
  parseCsr,
  pathLenOf,
  sansOf,
  type SubjectAltNames,
  type SubjectFields,
  validateKeyTypeBits,
  x509,
} from './x509-engine';

/**
 * CA creation (VAULT_API.md 4.4, 4.5, 4.16): root generation (`root/generate/:type`,
 * `issuers/generate/root/:type`), intermediate CSRs (`issuers/generate/intermediate/:type` and the
 * non-destructive legacy `intermediate/generate/:type`), and signing an intermediate CSR
 * (`root/sign-intermediate`, `issuer/:ref/sign-intermediate`) with Vault 1.17+ truncation.
 */

const GENERATION_TYPES = new Set(['internal', 'exported', 'existing', 'kms']);
const CA_KEY_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
const MAX_PATH_ZERO_WARNING = 'Max path length of the generated certificate is zero. This certificate cannot be used to issue intermediate CA certificates.';
const SIGNED_PATH_ZERO_WARNING = 'Max path length of the signed certificate is zero. This certificate cannot be used to issue intermediate CA certificates.';
const NO_SUBJECT_WARNING =
  'This issuer certificate was generated without a Subject; this makes it likely that issuing leaf certs with this certificate will cause TLS validation libraries to reject this certificate.';
const AFTER_CA_WARNING =
  "The expiration time for the signed certificate is after the CA's expiration time. If the new certificate is not treated as a root, validation paths with the certificate past the issuing CA's expiration time will fail.";
/** path_root.go intCaTruncatationWarning (Vault >= 1.17, P4). */
export const TRUNCATION_WARNING = "the signed intermediary CA certificate's notAfter was truncated to the issuer's notAfter";

function generationType(request: VaultRequest): { exported: boolean; existing: boolean } {
  const type = request.params.type ?? '';
  if (!GENERATION_TYPES.has(type)) throw new VaultApiError(400, 'the "exported" path parameter must be "internal", "existing", exported" or "kms"');
  if (type === 'kms') {
    if (str(request.body, 'managed_key_name') === '' && str(request.body, 'managed_key_id') === '' && str(request.body, 'external_key_ref') === '') {
      throw new VaultApiError(400, 'must specify "external_key_ref" on "kms"-typed generation requests');
    }
    throw new VaultApiError(400, 'managed (kms) keys are not supported by the Vault emulator');
  }
  return { exported: type === 'exported', existing: type === 'existing' };
}

function requireFormat(body: JsonObject): OutputFormat {
  const format = outputFormat(str(body, 'format'));
  if (!format) throw new VaultApiError(400, 'the "format" path parameter must be "pem", "der", or "pem_bundle"');
  return format;
}

export function subjectFields(body: JsonObject, commonName: string): SubjectFields {
  return {
    commonName,
    organization: list(body, 'organization'),
    ou: list(body, 'ou'),
    country: list(body, 'country'),
    locality: list(body, 'locality'),
    province: list(body, 'province'),
    streetAddress: list(body, 'street_address'),
    postalCode: list(body, 'postal_code'),
    serialNumber: str(body, 'serial_number'),
  };
}

/** SANs of a CA request: CN (unless excluded) and alt_names, ip_sans, uri_sans. */
function caSans(body: JsonObject, commonName: string): SubjectAltNames {
  const names = namesFrom(commonName, splitAltNames(str(body, 'alt_names')), bool(body, 'exclude_cn_from_sans'));
  return { dnsNames: names.dnsNames, emailAddresses: names.emailAddresses, ipAddresses: parseIpSans(list(body, 'ip_sans')), uris: list(body, 'uri_sans') };
}

/** A new key (key_type/key_bits, key_name) or, for `existing`, the key named by key_ref. */
async function keyFor(mount: PkiMount, body: JsonObject, existing: boolean): Promise<{ key?: PkiKey; material: KeyPairMaterial; name: string }> {
  if (existing) {
    const key = mount.resolveKey(str(body, 'key_ref'));
    return { key, material: key.material, name: key.name };
  }
  const name = str(body, 'key_name');
  mount.assertKeyNameFree(name);
  const { type, bits } = validateKeyTypeBits(str(body, 'key_type', 'rsa'), int(body, 'key_bits'));
  return { material: await generateKeyPair(type, bits), name };
}

function encodeCert(cert: x509.X509Certificate, format: OutputFormat): string {
  return format === 'der' ? Buffer.from(cert.rawData).toString('base64') : certificatePem(cert);
}

function encodePem(pem: string, format: OutputFormat): string {
  if (format !== 'der') return pem;
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64').toString('base64');
}

async function generateRoot(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  const { exported, existing } = generationType(request);
  const format = requireFormat(request.body);
  const body = request.body;
  return mount.exclusive(async () => {
    const issuerName = str(body, 'issuer_name');
    mount.assertIssuerNameFree(issuerName);
    const { key: existingKey, material, name: keyName } = await keyFor(mount, body, existing);
    const now = mount.now();
    const { notAfter, warnings: ttlWarnings } = decideNotAfter({
      now,
      ttl: duration(body, 'ttl'),
      notAfter: str(body, 'not_after'),
      roleTtl: 0,
      roleMaxTtl: 0,
      mountDefaultTtl: mount.config.defaultLeaseTtlSeconds,
      mountMaxTtl: mount.config.maxLeaseTtlSeconds,
    });
    const maxPathLength = has(body, 'max_path_length') ? int(body, 'max_path_length') : -1;
    const commonName = str(body, 'common_name');
    const subject = buildName(subjectFields(body, commonName));
    const cert = await issueCertificate(
      {
        subject,
        serialHex: mount.newSerialHex(),
        notBefore: new Date(now.getTime() - duration(body, 'not_before_duration', 30) * 1000),
        notAfter,
        publicKey: material.publicKey,
        ca: { pathLen: maxPathLength < 0 ? undefined : maxPathLength },
        keyUsage: CA_KEY_USAGE,
        extKeyUsage: [],
        sans: caSans(body, commonName),
        urls: mount.urls,
      },
      { key: material },
    );
    const key = existingKey ?? mount.addKey(material, keyName);
    const { issuer } = importIssuer(mount, cert, issuerName);
    if (mount.defaultFollowsLatestIssuer) mount.defaultIssuerId = issuer.id;
    // Generated roots are stored under certs/ too, so they can be listed (4.13).
    mount.storeCert(cert, issuer.id);
    const crlWarnings = await afterIssuersChanged(mount);

    const data: Record<string, unknown> = {
      expiration: unixSeconds(cert.notAfter),
      serial_number: colonSerial(cert.serialNumber),
      certificate: encodeCert(cert, format),
      issuing_ca: encodeCert(cert, format),
      issuer_id: issuer.id,
      issuer_name: issuer.name,
      key_id: key.id,
      key_name: key.name,
    };
    if (exported) {
      const privateKey = await exportPrivateKeyPem(material, str(body, 'private_key_format') === 'pkcs8' ? 'pkcs8' : 'der');
      data.private_key = encodePem(privateKey, format);
      data.private_key_type = material.type;
      if (format === 'pem_bundle') data.certificate = `${privateKey}\n${certificatePem(cert)}`;
    }
    const warnings: string[] = [];
    if (subject.toArrayBuffer().byteLength <= 2) warnings.push(NO_SUBJECT_WARNING);
    if (mountHasNoAia(mount)) warnings.push(NO_AIA_WARNING);
    crlWarnings.forEach((warning, index) => warnings.push(`Warning ${index + 1} during CRL rebuild: ${warning}`));
    if (maxPathLength === 0) warnings.push(MAX_PATH_ZERO_WARNING);
    warnings.push(...ttlWarnings);
    return pkiEnvelope(data, { warnings });
  });
}

async function generateIntermediate(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  const { exported, existing } = generationType(request);
  const format = requireFormat(request.body);
  const body = request.body;
  return mount.exclusive(async () => {
    const { key: existingKey, material, name: keyName } = await keyFor(mount, body, existing);
    const commonName = str(body, 'common_name');
    // `ttl` is accepted and ignored: validity is decided at signing time (4.4).
    const csr = await createCsr(material, buildName(subjectFields(body, commonName)), caSans(body, commonName));
    // The key is kept now: set-signed later links the signed certificate to it (4.6).
    const key = existingKey ?? mount.addKey(material, keyName);
    const data: Record<string, unknown> = { csr: encodePem(csr, format), key_id: key.id };
    if (exported) {
      data.private_key = encodePem(await exportPrivateKeyPem(material, str(body, 'private_key_format') === 'pkcs8' ? 'pkcs8' : 'der'), format);
      data.private_key_type = material.type;
    }
    return pkiEnvelope(data, { warnings: mountHasNoAia(mount) ? [NO_AIA_WARNING] : [] });
  });
}

async function signIntermediate(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  const body = request.body;
  const format = outputFormat(str(body, 'format'));
  if (!format) throw new VaultApiError(400, 'The "format" path parameter must be "pem", "der" or "pem_bundle"');
  return mount.exclusive(async () => {
    const { issuer, key } = signingIssuer(mount, request.params.ref ?? 'default');
    const csr = await parseCsr(str(body, 'csr'));

    // Vault >= 1.17 truncates a signed intermediate to the signer's NotAfter unless asked to
    // apply the issuer's own leaf_not_after_behavior (4.5, P4); always_enforce_err always applies.
    const enforce = bool(body, 'enforce_leaf_not_after_behavior');
    const truncating = !enforce && issuer.leafNotAfterBehavior !== 'always_enforce_err';
    const now = mount.now();
    const ttl = duration(body, 'ttl');
    const { notAfter, warnings: ttlWarnings } = decideNotAfter({
      now,
      ttl,
      notAfter: str(body, 'not_after'),
      roleTtl: ttl,
      roleMaxTtl: 0,
      mountDefaultTtl: mount.config.defaultLeaseTtlSeconds,
      mountMaxTtl: mount.config.maxLeaseTtlSeconds,
      issuer: { notAfter: issuer.cert.notAfter, behavior: truncating ? 'truncate' : issuer.leafNotAfterBehavior },
    });

    const parentPathLen = pathLenOf(issuer.cert);
    if (parentPathLen === 0) throw new VaultApiError(400, 'signing certificate has a max path length of zero, and cannot issue further CA certificates');
    let pathLen: number | undefined;
    if (has(body, 'max_path_length')) {
      const requested = int(body, 'max_path_length');
      pathLen = requested < 0 ? undefined : requested;
    } else {
      pathLen = parentPathLen === undefined ? undefined : parentPathLen - 1;
    }

    const useCsrValues = bool(body, 'use_csr_values');
    const commonName = str(body, 'common_name') || commonNameOf(csr.subjectName);
    const subject = useCsrValues ? csr.subjectName : buildName(subjectFields(body, commonName));
    const sans = useCsrValues ? sansOf(csr) : caSans(body, commonName);
    const skid = str(body, 'skid').replace(/[^0-9a-fA-F]/g, '');
    const cert = await issueCertificate(
      {
        subject,
        serialHex: mount.newSerialHex(),
        notBefore: new Date(now.getTime() - duration(body, 'not_before_duration', 30) * 1000),
        notAfter,
        publicKey: csr.publicKey,
        ca: { pathLen },
        keyUsage: CA_KEY_USAGE,
        extKeyUsage: [],
        sans,
        ...(skid !== '' ? { skidHex: skid.toLowerCase() } : {}),
        urls: mount.effectiveUrls(issuer),
        // Name constraints (4.5): permitted_dns_domains; permitted_uri_domains as Vault 1.18+ takes it.
        permitted: { dnsDomains: list(body, 'permitted_dns_domains'), uriDomains: list(body, 'permitted_uri_domains') },
      },
      { cert: issuer.cert, key: key.material },
    );
    // Stored in this (root) mount's certs/, so it can be revoked by serial here (5.2).
    mount.storeCert(cert, issuer.id);

    const chain = mount.chainPems(issuer);
    const data: Record<string, unknown> = {
      expiration: unixSeconds(cert.notAfter),
      serial_number: colonSerial(cert.serialNumber),
      certificate: format === 'pem_bundle' ? [certificatePem(cert), ...chain].join('\n') : encodeCert(cert, format),
      issuing_ca: encodeCert(issuer.cert, format),
      ca_chain: [certificatePem(cert), ...chain].map((pem) => encodePem(pem, format)),
    };
    const warnings: string[] = [];
    if (cert.notAfter.getTime() > issuer.cert.notAfter.getTime()) warnings.push(AFTER_CA_WARNING);
    if (subject.toArrayBuffer().byteLength <= 2) warnings.push(NO_SUBJECT_WARNING);
    if (mountHasNoAia(mount)) warnings.push(NO_AIA_WARNING);
    if (pathLen === 0) warnings.push(SIGNED_PATH_ZERO_WARNING);
    warnings.push(...ttlWarnings);
    if (truncating && cert.notAfter.getTime() === issuer.cert.notAfter.getTime()) warnings.push(TRUNCATION_WARNING);
    return pkiEnvelope(data, { warnings });
  });
}

export function generateRoutes(env: PkiRouteEnv): RouteDefinition[] {
  const root = { update: (_: unknown, request: VaultRequest) => generateRoot(env, request) };
  const intermediate = { update: (_: unknown, request: VaultRequest) => generateIntermediate(env, request) };
  const sign = { update: (_: unknown, request: VaultRequest) => signIntermediate(env, request) };
  return forPkiMounts(env, [
    { pattern: ':mount/root/generate/:type', operations: root },
    { pattern: ':mount/issuers/generate/root/:type', operations: root },
    { pattern: ':mount/issuers/generate/intermediate/:type', operations: intermediate },
    { pattern: ':mount/intermediate/generate/:type', operations: intermediate },
    { pattern: ':mount/root/sign-intermediate', operations: sign },
    { pattern: ':mount/issuer/:ref/sign-intermediate', operations: sign },
  ]);
}
