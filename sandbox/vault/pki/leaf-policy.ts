import { isIP } from 'node:net';
import { VaultApiError } from '../envelope';
import type { LeafNotAfterBehavior } from './pki-mount-state';
import type { PkiRole } from './pki-role';
import { goDuration, rfc3339Nano } from './pki-values';
import { x509 } from './x509-engine';

/**
 * The pure decisions behind issue/sign (VAULT_API.md 4.10, 4.11) and sign-intermediate (4.5),
 * ported from Vault's cert_util.go: which names a role allows, when the certificate ends, and which
 * key usages and extended key usages it carries.
 */

const LABEL = '([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])';
const HOSTNAME = new RegExp(`^(\\*\\.)?(${LABEL}\\.)*${LABEL}\\.?$`);
const LEFT_WILD_LABEL = new RegExp(`^(\\*|\\*${LABEL}|${LABEL}\\*|${LABEL}\\*${LABEL})$`);

function globMatches(pattern: string, name: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`).test(name);
}

/** validateWildcardDomain: the wildcard label and the rest, or undefined when malformed (RFC 6125). */
function splitWildcard(name: string): { label: string; reduced: string } | undefined {
  if ((name.match(/\*/g) ?? []).length > 1) return undefined;
  const dot = name.indexOf('.');
  if (dot === -1) return { label: name, reduced: '' };
  const label = name.slice(0, dot);
  const reduced = name.slice(dot + 1);
  if (reduced.includes('*') || !label.includes('*')) return undefined;
  return { label, reduced };
}

/**
 * validateNames: the first name the role does not allow, or '' when all pass. Order as in Vault:
 * wildcard rules, enforce_hostnames, allow_any_name, localhost, allowed_domains (bare, subdomain,
 * glob).
 */
export function firstDisallowedName(role: PkiRole, names: readonly string[]): string {
  for (const name of names) {
    let reduced = name;
    let emailDomain = name;
    let isEmail = false;
    let isWildcard = false;
    let wildcardLabel = '';
    if (reduced.includes('@')) {
      const parts = reduced.split('@');
      if (parts.length !== 2) return name;
      reduced = parts[1] ?? '';
      emailDomain = reduced;
      isEmail = true;
    }
    if (reduced.includes('*')) {
      isWildcard = true;
      if (!role.allowWildcardCertificates) return name;
      const split = splitWildcard(reduced);
      if (!split) return name;
      wildcardLabel = split.label;
      reduced = split.reduced;
    }
    if (isEmail && isWildcard) return name;
    if (role.enforceHostnames) {
      if (reduced !== '' && !HOSTNAME.test(reduced)) return name;
      if (isWildcard && !LEFT_WILD_LABEL.test(wildcardLabel)) return name;
    }
    if (role.allowAnyName) continue;
    if (role.allowLocalhost) {
      if (reduced === 'localhost' || reduced === 'localdomain' || (isEmail && (emailDomain === 'localhost' || emailDomain === 'localdomain'))) continue;
      if (role.allowSubdomains) {
        if (reduced.endsWith('.localhost') || (isWildcard && reduced === 'localhost')) continue;
        if (reduced.endsWith('.localdomain') || (isWildcard && reduced === 'localdomain')) continue;
      }
    }
    const allowed = role.allowedDomains.some((domain) => {
      if (domain === '') return false;
      if (role.allowBareDomains && (name.toLowerCase() === domain.toLowerCase() || (isEmail && emailDomain.toLowerCase() === domain.toLowerCase()))) {
        return true;
      }
      if (role.allowSubdomains && (reduced.endsWith(`.${domain}`) || (isWildcard && reduced.toLowerCase() === domain.toLowerCase()))) return true;
      return role.allowGlobDomains && domain.includes('*') && globMatches(domain, name);
    });
    if (allowed) continue;
    return name;
  }
  return '';
}

/** validateCommonName: cn_validations `disabled` skips the check entirely. */
export function commonNameAllowed(role: PkiRole, commonName: string): boolean {
  if (role.cnValidations.length === 1 && role.cnValidations[0] === 'disabled') return true;
  if (firstDisallowedName(role, [commonName]) !== '') return false;
  return commonName.includes('@') ? role.cnValidations.includes('email') : role.cnValidations.includes('hostname');
}

/** dedupCommonNames: a comma list, trimmed, duplicates dropped, order kept. */
export function splitAltNames(text: string): string[] {
  const names = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  return [...new Set(names)];
}

export interface RequestedNames {
  readonly dnsNames: string[];
  readonly emailAddresses: string[];
  readonly ipAddresses: string[];
}

/** DNS/email SANs from the common name (unless excluded) and alt_names, as generateCreationBundle builds them. */
export function namesFrom(commonName: string, altNames: readonly string[], excludeCnFromSans: boolean): RequestedNames {
  const dnsNames: string[] = [];
  const emailAddresses: string[] = [];
  const add = (name: string): void => {
    if (name.includes('@')) emailAddresses.push(name);
    else if (HOSTNAME.test(name)) dnsNames.push(name);
  };
  if (commonName !== '' && !excludeCnFromSans) add(commonName);
  altNames.forEach(add);
  return { dnsNames: [...new Set(dnsNames)], emailAddresses: [...new Set(emailAddresses)], ipAddresses: [] };
}

export function parseIpSans(values: readonly string[]): string[] {
  return values.map((value) => {
    if (isIP(value) === 0) throw new VaultApiError(400, `the value "${value}" is not a valid IP address`);
    return value;
  });
}

export interface NotAfterRequest {
  readonly now: Date;
  /** Request `ttl` in seconds, 0 when absent. */
  readonly ttl: number;
  /** Request `not_after` (RFC 3339), '' when absent. */
  readonly notAfter: string;
  readonly roleTtl: number;
  readonly roleMaxTtl: number;
  readonly mountDefaultTtl: number;
  readonly mountMaxTtl: number;
  /** The signing issuer: absent for a self-signed root. */
  readonly issuer?: { readonly notAfter: Date; readonly behavior: LeafNotAfterBehavior };
}

export interface NotAfterDecision {
  readonly notAfter: Date;
  readonly warnings: string[];
}

function parseRfc3339(text: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new VaultApiError(400, `parsing time ${JSON.stringify(text)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(text)} as "2006"`);
  }
  return date;
}

/**
 * getCertificateNotAfter: ttl, else the role's ttl, else the mount default; capped at the role's
 * max_ttl (else the mount max) with Vault's warning; then the issuer's leaf_not_after_behavior.
 * `truncate` follows Vault, which issues an already-expired leaf under an expired issuer (8).
 */
export function decideNotAfter(request: NotAfterRequest): NotAfterDecision {
  const warnings: string[] = [];
  if (request.ttl > 0 && request.notAfter !== '') {
    throw new VaultApiError(400, 'Either ttl or not_after should be provided. Both should not be provided in the same request.');
  }
  let ttl = request.ttl || request.roleTtl || request.mountDefaultTtl;
  const maxTtl = request.roleMaxTtl || request.mountMaxTtl;
  if (ttl > maxTtl) {
    warnings.push(`TTL ${JSON.stringify(goDuration(ttl))} is longer than permitted maxTTL ${JSON.stringify(goDuration(maxTtl))}, so maxTTL is being used`);
    ttl = maxTtl;
  }
  let notAfter = request.notAfter !== '' ? parseRfc3339(request.notAfter) : new Date(request.now.getTime() + ttl * 1000);
  // X.509 times have whole seconds: decide on what will be encoded.
  notAfter = new Date(Math.floor(notAfter.getTime() / 1000) * 1000);
  const issuer = request.issuer;
  if (issuer && notAfter.getTime() > issuer.notAfter.getTime()) {
    switch (issuer.behavior) {
      case 'permit':
        break;
      case 'truncate':
        notAfter = issuer.notAfter;
        break;
      default:
        throw new VaultApiError(
          400,
          `cannot satisfy request, as TTL would result in notAfter of ${rfc3339Nano(notAfter)} that is beyond the expiration of the CA certificate at ${rfc3339Nano(issuer.notAfter)}`,
        );
    }
  }
  return { notAfter, warnings };
}

const KEY_USAGE_FLAGS: Readonly<Record<string, number>> = {
  digitalsignature: x509.KeyUsageFlags.digitalSignature,
  contentcommitment: x509.KeyUsageFlags.nonRepudiation,
  keyencipherment: x509.KeyUsageFlags.keyEncipherment,
  dataencipherment: x509.KeyUsageFlags.dataEncipherment,
  keyagreement: x509.KeyUsageFlags.keyAgreement,
  certsign: x509.KeyUsageFlags.keyCertSign,
  crlsign: x509.KeyUsageFlags.cRLSign,
  encipheronly: x509.KeyUsageFlags.encipherOnly,
  decipheronly: x509.KeyUsageFlags.decipherOnly,
};

/** AddKeyUsages: names matched case-insensitively; unknown names are ignored as Vault does. */
export function keyUsageFlags(names: readonly string[]): number {
  return names.reduce((flags, name) => flags | (KEY_USAGE_FLAGS[name.trim().toLowerCase()] ?? 0), 0);
}

const EXT_KEY_USAGE_OIDS: Readonly<Record<string, string>> = {
  any: '2.5.29.37.0',
  serverauth: '1.3.6.1.5.5.7.3.1',
  clientauth: '1.3.6.1.5.5.7.3.2',
  codesigning: '1.3.6.1.5.5.7.3.3',
  emailprotection: '1.3.6.1.5.5.7.3.4',
  ipsecendsystem: '1.3.6.1.5.5.7.3.5',
  ipsectunnel: '1.3.6.1.5.5.7.3.6',
  ipsecuser: '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  ocspsigning: '1.3.6.1.5.5.7.3.9',
  microsoftservergatedcrypto: '1.3.6.1.4.1.311.10.3.3',
  netscapeservergatedcrypto: '2.16.840.1.113730.4.1',
  microsoftcommercialcodesigning: '1.3.6.1.4.1.311.2.1.22',
  microsoftkernelcodesigning: '1.3.6.1.4.1.311.61.1.1',
};

/** The EKUs of a leaf: the role flags (server_flag, client_flag...), then ext_key_usage, then OIDs. */
export function extKeyUsageOids(role: PkiRole): string[] {
  const oids: string[] = [];
  if (role.serverFlag) oids.push(EXT_KEY_USAGE_OIDS.serverauth ?? '');
  if (role.clientFlag) oids.push(EXT_KEY_USAGE_OIDS.clientauth ?? '');
  if (role.codeSigningFlag) oids.push(EXT_KEY_USAGE_OIDS.codesigning ?? '');
  if (role.emailProtectionFlag) oids.push(EXT_KEY_USAGE_OIDS.emailprotection ?? '');
  for (const name of role.extKeyUsage) {
    const oid = EXT_KEY_USAGE_OIDS[name.trim().toLowerCase()];
    if (oid) oids.push(oid);
  }
  oids.push(...role.extKeyUsageOids);
  return [...new Set(oids.filter((oid) => oid !== ''))];
}
