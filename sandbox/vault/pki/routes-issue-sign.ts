import { randomUUID } from 'node:crypto';
import { VaultApiError } from '../envelope';
import type { RouteDefinition, VaultRequest } from '../router';
import { signingIssuer } from './issuer-lifecycle';
import {
  commonNameAllowed,
  decideNotAfter,
  extKeyUsageOids,
  firstDisallowedName,
  keyUsageFlags,
  parseIpSans,
  splitAltNames,
} from './leaf-policy';
import type { PkiRole } from './pki-role';
import { pkiEnvelope } from './pki-responses';
import { forPkiMounts, mountOf, outputFormat, type PkiRouteEnv } from './pki-route-kit';
import { bool, duration, has, int, list, str, unixSeconds } from './pki-values';
import {
  buildName,
  certificatePem,
  colonSerial,
  commonNameOf,
  exportPrivateKeyPem,
  generateKeyPair,
  isSelfSigned,
  issueCertificate,
  parseCsr,
  publicKeyDetails,
  sansOf,
  validateKeyTypeBits,
  type x509,
} from './x509-engine';

/**
 * Leaf issuance (VAULT_API.md 4.10, 4.11): `issue/:role` and `sign/:role` use the role's
 * issuer_ref, `issuer/:ref/issue/:role` and `issuer/:ref/sign/:role` the path's issuer. Names are
 * checked against the role, the TTL against max_ttl and the issuer's leaf_not_after_behavior; an
 * issuer without `issuing-certificates` usage (a revoked one included) refuses. The private key is
 * returned once and never stored; the certificate is stored unless the role says no_store.
 */

const HOSTNAME_LIKE = /^(\*\.)?([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*\.?$/;

interface LeafNames {
  readonly commonName: string;
  readonly dnsNames: string[];
  readonly emailAddresses: string[];
  readonly ipAddresses: string[];
  readonly uris: string[];
}

/** generateCreationBundle's name handling: CSR values when the role says so, then request values. */
function leafNames(role: PkiRole, request: VaultRequest, csr: x509.Pkcs10CertificateRequest | undefined): LeafNames {
  const body = request.body;
  let commonName = csr && role.useCsrCommonName ? commonNameOf(csr.subjectName) : '';
  if (commonName === '') commonName = str(body, 'common_name');
  if (commonName === '' && role.requireCn) {
    throw new VaultApiError(400, 'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false');
  }
  const csrSans = csr && role.useCsrSans ? sansOf(csr) : undefined;
  const dnsNames = [...(csrSans?.dnsNames ?? [])];
  const emailAddresses = [...(csrSans?.emailAddresses ?? [])];
  const add = (name: string): void => {
    if (name.includes('@')) emailAddresses.push(name);
    else if (HOSTNAME_LIKE.test(name)) dnsNames.push(name);
  };
  if (commonName !== '' && !bool(body, 'exclude_cn_from_sans')) add(commonName);
  if (!csrSans) splitAltNames(str(body, 'alt_names')).forEach(add);

  // The CN is checked even when it is excluded from the SANs.
  if (commonName !== '' && !commonNameAllowed(role, commonName)) throw new VaultApiError(400, `common name ${commonName} not allowed by this role`);
  const badName = firstDisallowedName(role, dnsNames);
  if (badName !== '') throw new VaultApiError(400, `subject alternate name ${badName} not allowed by this role`);
  const badEmail = firstDisallowedName(role, emailAddresses);
  if (badEmail !== '') throw new VaultApiError(400, `email address ${badEmail} not allowed by this role`);

  const ipAddresses = csrSans ? [...csrSans.ipAddresses] : parseIpSans(list(body, 'ip_sans'));
  if (ipAddresses.length > 0 && !role.allowIpSans) {
    throw new VaultApiError(400, `IP Subject Alternative Names are not allowed in this role, but was provided via ${csrSans ? 'CSR' : 'the API'}`);
  }
  const uris = csrSans ? [...csrSans.uris] : list(body, 'uri_sans');
  if (uris.length > 0) {
    if (role.allowedUriSans.length === 0) {
      throw new VaultApiError(400, `URI Subject Alternative Names are not allowed in this role, but were provided via ${csrSans ? 'CSR' : 'the API'}`);
    }
    const allowed = (uri: string): boolean =>
      role.allowedUriSans.some((pattern) => new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(uri));
    const bad = uris.find((uri) => !allowed(uri));
    if (bad !== undefined) throw new VaultApiError(400, `URI Subject Alternative Name ${bad} not allowed by this role`);
  }
  return { commonName, dnsNames: [...new Set(dnsNames)], emailAddresses: [...new Set(emailAddresses)], ipAddresses, uris };
}

/** pathSign's CSR key checks against the role's key_type and key_bits. */
function checkCsrKey(role: PkiRole, csr: x509.Pkcs10CertificateRequest): void {
  if (role.keyType === 'any') return;
  const details = publicKeyDetails(csr.publicKey.rawData);
  if (details.type !== role.keyType) throw new VaultApiError(400, `role requires keys of type ${role.keyType}`);
  if (details.bits < role.keyBits) {
    throw new VaultApiError(400, `role requires a minimum of a ${role.keyBits}-bit key, but CSR's key is ${details.bits} bits`);
  }
}

function toDer(pem: string): string {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64').toString('base64');
}

async function issueOrSign(env: PkiRouteEnv, request: VaultRequest, useCsr: boolean) {
  const mount = mountOf(env, request);
  const body = request.body;
  const roleName = request.params.role ?? '';
  const stored = mount.roles.get(roleName);
  if (!stored) throw new VaultApiError(400, `unknown role: ${roleName}`);
  const role: PkiRole = { ...stored };
  const warnings: string[] = [];

  if (!useCsr) {
    if (role.keyType === 'any') {
      if (!has(body, 'key_type')) {
        throw new VaultApiError(400, 'role key type "any" not allowed for issuing certificates without providing key_type and/or key_bits request parameters');
      }
      const { type, bits } = validateKeyTypeBits(str(body, 'key_type'), int(body, 'key_bits'));
      role.keyType = type;
      role.keyBits = bits;
    } else if (has(body, 'key_type') || has(body, 'key_bits')) {
      warnings.push('parameters key_type and key_bits ignored as role had specific values');
    }
  }

  const format = outputFormat(str(body, 'format'));
  if (!format) throw new VaultApiError(400, 'the "format" path parameter must be "pem", "der", or "pem_bundle"');
  // The role's issuer_ref is resolved now, as written (4.15); the newer paths name the issuer.
  const issuerRef = request.params.ref ?? (role.issuerRef || 'default');
  const { issuer, key: issuerKey } = signingIssuer(mount, issuerRef);
  const csr = useCsr ? await parseCsr(str(body, 'csr')) : undefined;
  if (csr) checkCsrKey(role, csr);

  const names = leafNames(role, request, csr);
  const now = mount.now();
  const { notAfter, warnings: ttlWarnings } = decideNotAfter({
    now,
    ttl: duration(body, 'ttl'),
    notAfter: str(body, 'not_after') || role.notAfter,
    roleTtl: role.ttl,
    roleMaxTtl: role.maxTtl,
    mountDefaultTtl: mount.config.defaultLeaseTtlSeconds,
    mountMaxTtl: mount.config.maxLeaseTtlSeconds,
    issuer: { notAfter: issuer.cert.notAfter, behavior: issuer.leafNotAfterBehavior },
  });

  const leafKey = csr ? undefined : await generateKeyPair(role.keyType === 'ec' ? 'ec' : 'rsa', role.keyBits);
  const subject = buildName({
    commonName: names.commonName,
    organization: role.organization,
    ou: role.ou,
    country: role.country,
    locality: role.locality,
    province: role.province,
    streetAddress: role.streetAddress,
    postalCode: role.postalCode,
    serialNumber: str(body, 'serial_number'),
  });
  const cert = await issueCertificate(
    {
      subject,
      serialHex: mount.newSerialHex(),
      notBefore: new Date(now.getTime() - role.notBeforeDuration * 1000),
      notAfter,
      publicKey: csr ? csr.publicKey : (leafKey?.publicKey as CryptoKey),
      basicConstraintsForLeaf: role.basicConstraintsValidForNonCa,
      keyUsage: keyUsageFlags(role.keyUsage),
      extKeyUsage: extKeyUsageOids(role),
      sans: { dnsNames: names.dnsNames, emailAddresses: names.emailAddresses, ipAddresses: names.ipAddresses, uris: names.uris },
      urls: mount.effectiveUrls(issuer),
    },
    { cert: issuer.cert, key: issuerKey.material },
  );

  let chain = mount.chainPems(issuer);
  if (bool(body, 'remove_roots_from_chain')) {
    chain = chain.filter((_, index) => {
      const member = mount.issuers.get(issuer.caChainIds[index] ?? issuer.id);
      return member === undefined || !isSelfSigned(member.cert);
    });
  }
  const leafPem = certificatePem(cert);
  const data: Record<string, unknown> = {
    not_before: unixSeconds(cert.notBefore),
    expiration: unixSeconds(cert.notAfter),
    serial_number: colonSerial(cert.serialNumber),
  };
  const privateKey = leafKey ? await exportPrivateKeyPem(leafKey, str(body, 'private_key_format') === 'pkcs8' ? 'pkcs8' : 'der') : undefined;
  if (format === 'der') {
    data.certificate = Buffer.from(cert.rawData).toString('base64');
    data.issuing_ca = Buffer.from(issuer.cert.rawData).toString('base64');
    if (chain.length > 0) data.ca_chain = chain.map(toDer);
    if (privateKey) data.private_key = toDer(privateKey);
  } else {
    data.issuing_ca = issuer.pem;
    data.certificate = format === 'pem_bundle' ? [privateKey, leafPem, ...chain].filter((part) => part !== undefined).join('\n') : leafPem;
    if (chain.length > 0) data.ca_chain = chain;
    if (privateKey) data.private_key = privateKey;
  }
  if (leafKey) data.private_key_type = leafKey.type;

  // Leaves are stored unless the role says no_store; the private key never is (4.10).
  if (!role.noStore) mount.storeCert(cert, issuer.id);
  if (csr) {
    if (role.useCsrCommonName && str(body, 'common_name') !== '') {
      warnings.push('the common_name field was provided but the role is set with "use_csr_common_name" set to true');
    }
    if (role.useCsrSans && str(body, 'alt_names') !== '') warnings.push('the alt_names field was provided but the role is set with "use_csr_sans" set to true');
  }
  warnings.push(...ttlWarnings);
  const lease = role.generateLease
    ? {
        leaseId: `${request.path}/${randomUUID()}`,
        leaseDuration: Math.max(0, Math.floor((cert.notAfter.getTime() - now.getTime()) / 1000)),
      }
    : {};
  return pkiEnvelope(data, { warnings, ...lease });
}

export function issueSignRoutes(env: PkiRouteEnv): RouteDefinition[] {
  const issue = { update: (_: unknown, request: VaultRequest) => issueOrSign(env, request, false) };
  const sign = { update: (_: unknown, request: VaultRequest) => issueOrSign(env, request, true) };
  return forPkiMounts(env, [
    { pattern: ':mount/issue/:role', operations: issue },
    { pattern: ':mount/issuer/:ref/issue/:role', operations: issue },
    { pattern: ':mount/sign/:role', operations: sign },
    { pattern: ':mount/issuer/:ref/sign/:role', operations: sign },
  ]);
}

