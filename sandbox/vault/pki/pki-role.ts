import type { JsonObject } from '../envelope';
import { VaultApiError } from '../envelope';
import { bool, duration, has, int, list, str } from './pki-values';
import { validateKeyTypeBits } from './x509-engine';

/**
 * A PKI role (VAULT_API.md 4.15): the fields certflow relies on with Vault's defaults, how POST
 * (full replace: every omitted field back to its default, P5) and PATCH (merge) apply a request,
 * and the read shape of path_roles.go ToResponseData. `issuer_ref` is stored as written.
 */

export interface PkiRole {
  issuerRef: string;
  ttl: number;
  maxTtl: number;
  allowLocalhost: boolean;
  allowedDomains: string[];
  allowedDomainsTemplate: boolean;
  allowBareDomains: boolean;
  allowSubdomains: boolean;
  allowGlobDomains: boolean;
  allowWildcardCertificates: boolean;
  allowAnyName: boolean;
  allowTokenDisplayName: boolean;
  enforceHostnames: boolean;
  allowIpSans: boolean;
  allowedUriSans: string[];
  allowedOtherSans: string[];
  allowedSerialNumbers: string[];
  allowedUserIds: string[];
  serverFlag: boolean;
  clientFlag: boolean;
  codeSigningFlag: boolean;
  emailProtectionFlag: boolean;
  keyType: 'rsa' | 'ec' | 'any';
  keyBits: number;
  signatureBits: number;
  usePss: boolean;
  keyUsage: string[];
  extKeyUsage: string[];
  extKeyUsageOids: string[];
  useCsrCommonName: boolean;
  useCsrSans: boolean;
  ou: string[];
  organization: string[];
  country: string[];
  locality: string[];
  province: string[];
  streetAddress: string[];
  postalCode: string[];
  generateLease: boolean;
  noStore: boolean;
  requireCn: boolean;
  cnValidations: string[];
  policyIdentifiers: string[];
  basicConstraintsValidForNonCa: boolean;
  notBeforeDuration: number;
  notAfter: string;
}

export function defaultRole(): PkiRole {
  return {
    issuerRef: 'default',
    ttl: 0,
    maxTtl: 0,
    allowLocalhost: true,
    allowedDomains: [],
    allowedDomainsTemplate: false,
    allowBareDomains: false,
    allowSubdomains: false,
    allowGlobDomains: false,
    allowWildcardCertificates: true,
    allowAnyName: false,
    allowTokenDisplayName: false,
    enforceHostnames: true,
    allowIpSans: true,
    allowedUriSans: [],
    allowedOtherSans: [],
    allowedSerialNumbers: [],
    allowedUserIds: [],
    serverFlag: true,
    clientFlag: true,
    codeSigningFlag: false,
    emailProtectionFlag: false,
    keyType: 'rsa',
    keyBits: 0,
    signatureBits: 0,
    usePss: false,
    keyUsage: ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment'],
    extKeyUsage: [],
    extKeyUsageOids: [],
    useCsrCommonName: true,
    useCsrSans: true,
    ou: [],
    organization: [],
    country: [],
    locality: [],
    province: [],
    streetAddress: [],
    postalCode: [],
    generateLease: false,
    noStore: false,
    requireCn: true,
    cnValidations: ['email', 'hostname'],
    policyIdentifiers: [],
    basicConstraintsValidForNonCa: false,
    notBeforeDuration: 30,
    notAfter: '',
  };
}

const CN_VALIDATIONS = new Set(['email', 'hostname', 'disabled']);
const SIGNATURE_BITS_BY_EC: Readonly<Record<number, number>> = { 256: 256, 384: 384, 521: 512 };

/**
 * Applies a request body to a role: POST passes the defaults as `base`, PATCH the stored role.
 * Only fields present in the body change, then the role is validated as validateRole does.
 */
export function applyRoleRequest(base: PkiRole, body: JsonObject): PkiRole {
  const role: PkiRole = { ...base };
  const setBool = (field: string, apply: (value: boolean) => void): void => {
    if (has(body, field)) apply(bool(body, field));
  };
  const setList = (field: string, apply: (value: string[]) => void): void => {
    if (has(body, field)) apply(list(body, field));
  };
  if (has(body, 'issuer_ref')) role.issuerRef = str(body, 'issuer_ref') || 'default';
  if (has(body, 'ttl')) role.ttl = duration(body, 'ttl');
  if (has(body, 'max_ttl')) role.maxTtl = duration(body, 'max_ttl');
  setBool('allow_localhost', (v) => (role.allowLocalhost = v));
  setList('allowed_domains', (v) => (role.allowedDomains = v));
  setBool('allowed_domains_template', (v) => (role.allowedDomainsTemplate = v));
  setBool('allow_bare_domains', (v) => (role.allowBareDomains = v));
  setBool('allow_subdomains', (v) => (role.allowSubdomains = v));
  setBool('allow_glob_domains', (v) => (role.allowGlobDomains = v));
  setBool('allow_wildcard_certificates', (v) => (role.allowWildcardCertificates = v));
  setBool('allow_any_name', (v) => (role.allowAnyName = v));
  setBool('allow_token_displayname', (v) => (role.allowTokenDisplayName = v));
  setBool('enforce_hostnames', (v) => (role.enforceHostnames = v));
  setBool('allow_ip_sans', (v) => (role.allowIpSans = v));
  setList('allowed_uri_sans', (v) => (role.allowedUriSans = v));
  setList('allowed_other_sans', (v) => (role.allowedOtherSans = v));
  setList('allowed_serial_numbers', (v) => (role.allowedSerialNumbers = v));
  setList('allowed_user_ids', (v) => (role.allowedUserIds = v));
  setBool('server_flag', (v) => (role.serverFlag = v));
  setBool('client_flag', (v) => (role.clientFlag = v));
  setBool('code_signing_flag', (v) => (role.codeSigningFlag = v));
  setBool('email_protection_flag', (v) => (role.emailProtectionFlag = v));
  if (has(body, 'key_type')) {
    const keyType = str(body, 'key_type');
    if (keyType !== 'rsa' && keyType !== 'ec' && keyType !== 'any') throw new VaultApiError(400, `unknown key type ${keyType}`);
    role.keyType = keyType;
    // A new key type without key_bits starts from that type's default.
    if (!has(body, 'key_bits')) role.keyBits = 0;
    if (!has(body, 'signature_bits')) role.signatureBits = 0;
  }
  if (has(body, 'key_bits')) role.keyBits = int(body, 'key_bits');
  if (has(body, 'signature_bits')) role.signatureBits = int(body, 'signature_bits');
  setBool('use_pss', (v) => (role.usePss = v));
  setList('key_usage', (v) => (role.keyUsage = v));
  setList('ext_key_usage', (v) => (role.extKeyUsage = v));
  setList('ext_key_usage_oids', (v) => (role.extKeyUsageOids = v));
  setBool('use_csr_common_name', (v) => (role.useCsrCommonName = v));
  setBool('use_csr_sans', (v) => (role.useCsrSans = v));
  setList('ou', (v) => (role.ou = v));
  setList('organization', (v) => (role.organization = v));
  setList('country', (v) => (role.country = v));
  setList('locality', (v) => (role.locality = v));
  setList('province', (v) => (role.province = v));
  setList('street_address', (v) => (role.streetAddress = v));
  setList('postal_code', (v) => (role.postalCode = v));
  setBool('generate_lease', (v) => (role.generateLease = v));
  setBool('no_store', (v) => (role.noStore = v));
  setBool('require_cn', (v) => (role.requireCn = v));
  setList('cn_validations', (v) => (role.cnValidations = v));
  setList('policy_identifiers', (v) => (role.policyIdentifiers = v));
  setBool('basic_constraints_valid_for_non_ca', (v) => (role.basicConstraintsValidForNonCa = v));
  if (has(body, 'not_before_duration')) role.notBeforeDuration = duration(body, 'not_before_duration');
  if (has(body, 'not_after')) role.notAfter = str(body, 'not_after');
  return validateRole(role);
}

function validateRole(role: PkiRole): PkiRole {
  if (role.maxTtl > 0 && role.ttl > role.maxTtl) throw new VaultApiError(400, '"ttl" value must be less than "max_ttl" value');
  if (role.generateLease && role.noStore) {
    throw new VaultApiError(400, 'mutually exclusive values set for the role: generate_lease and no_store');
  }
  const unknownValidation = role.cnValidations.find((value) => !CN_VALIDATIONS.has(value));
  if (unknownValidation !== undefined) throw new VaultApiError(400, `unknown cn_validation value: ${unknownValidation}`);
  if (role.cnValidations.length === 0) role.cnValidations = ['email', 'hostname'];
  if (role.keyType === 'any') {
    role.keyBits = 0;
    role.signatureBits = 0;
    return role;
  }
  const { bits } = validateKeyTypeBits(role.keyType, role.keyBits);
  role.keyBits = bits;
  if (role.signatureBits === 0) role.signatureBits = role.keyType === 'ec' ? (SIGNATURE_BITS_BY_EC[bits] ?? 256) : 256;
  return role;
}

/** The read shape of a role (path_roles.go ToResponseData). */
export function roleResponseData(role: PkiRole): Record<string, unknown> {
  return {
    ttl: role.ttl,
    max_ttl: role.maxTtl,
    allow_localhost: role.allowLocalhost,
    allowed_domains: role.allowedDomains,
    allowed_domains_template: role.allowedDomainsTemplate,
    allow_bare_domains: role.allowBareDomains,
    allow_token_displayname: role.allowTokenDisplayName,
    allow_subdomains: role.allowSubdomains,
    allow_glob_domains: role.allowGlobDomains,
    allow_wildcard_certificates: role.allowWildcardCertificates,
    allow_any_name: role.allowAnyName,
    enforce_hostnames: role.enforceHostnames,
    allow_ip_sans: role.allowIpSans,
    allowed_ip_sans_cidr: [],
    server_flag: role.serverFlag,
    client_flag: role.clientFlag,
    code_signing_flag: role.codeSigningFlag,
    email_protection_flag: role.emailProtectionFlag,
    use_csr_common_name: role.useCsrCommonName,
    use_csr_sans: role.useCsrSans,
    key_type: role.keyType,
    key_bits: role.keyBits,
    signature_bits: role.signatureBits,
    use_pss: role.usePss,
    key_usage: role.keyUsage,
    ext_key_usage: role.extKeyUsage,
    ext_key_usage_oids: role.extKeyUsageOids,
    ou: role.ou,
    organization: role.organization,
    country: role.country,
    locality: role.locality,
    province: role.province,
    street_address: role.streetAddress,
    postal_code: role.postalCode,
    no_store: role.noStore,
    generate_lease: role.generateLease,
    allowed_other_sans: role.allowedOtherSans,
    allowed_serial_numbers: role.allowedSerialNumbers,
    allowed_user_ids: role.allowedUserIds,
    allowed_uri_sans: role.allowedUriSans,
    require_cn: role.requireCn,
    cn_validations: role.cnValidations,
    policy_identifiers: role.policyIdentifiers,
    basic_constraints_valid_for_non_ca: role.basicConstraintsValidForNonCa,
    not_before_duration: role.notBeforeDuration,
    not_after: role.notAfter,
    issuer_ref: role.issuerRef,
  };
}
