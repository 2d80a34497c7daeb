import type { JsonObject } from '../envelope';
import { noContent, rawBody, VaultApiError } from '../envelope';
import type { RouteDefinition, VaultRequest } from '../router';
import { rebuildCrls } from './crl-builder';
import { afterIssuersChanged } from './issuer-lifecycle';
import {
  type AiaUrls,
  ISSUER_USAGES,
  type IssuerUsage,
  LEAF_NOT_AFTER_BEHAVIORS,
  type LeafNotAfterBehavior,
  type PkiIssuer,
  type PkiMount,
} from './pki-mount-state';
import { issuerResponseData, pkiEnvelope } from './pki-responses';
import { forPkiMounts, mountOf, type PkiRouteEnv } from './pki-route-kit';
import { bool, has, list, rfc3339Nano, str, unixSeconds } from './pki-values';
import { hasKeyUsage, isSelfSigned, isSignedBy, x509 } from './x509-engine';

/**
 * Issuers (VAULT_API.md 4.1-4.3, 4.7-4.9): the unauthenticated list and raw reads, the
 * authenticated read, update (POST resets omitted fields, P5; PATCH merges), revoke, delete, and
 * the default issuer in `config/issuers` (plus the legacy `root/replace`).
 */

const USAGE_NAMES = ISSUER_USAGES.join(',');

/** Usage is a set: an array or a comma string; read-only is implied. */
function parseUsage(body: JsonObject): Set<IssuerUsage> {
  const names = list(body, 'usage');
  const usage = new Set<IssuerUsage>(['read-only']);
  for (const name of names) {
    if (!(ISSUER_USAGES as readonly string[]).includes(name)) {
      throw new VaultApiError(400, `Unable to parse specified usages: [${names.join(' ')}] - valid values are ${USAGE_NAMES}`);
    }
    usage.add(name as IssuerUsage);
  }
  return usage;
}

function parseBehavior(body: JsonObject): LeafNotAfterBehavior {
  const value = str(body, 'leaf_not_after_behavior');
  if (!(LEAF_NOT_AFTER_BEHAVIORS as readonly string[]).includes(value)) {
    throw new VaultApiError(400, 'Unknown value for field `leaf_not_after_behavior`. Possible values are `err`, `truncate`, and `permit`.');
  }
  return value as LeafNotAfterBehavior;
}

function parseUrls(body: JsonObject, field: string): string[] {
  const urls = list(body, field);
  for (const value of urls) {
    let valid = true;
    try {
      new URL(value.replace(/\{\{[a-z_]+\}\}/g, 'x'));
    } catch {
      valid = false;
    }
    if (!valid) throw new VaultApiError(400, `invalid URL found in Authority Information Access (AIA) parameter ${field}: ${value}`);
  }
  return urls;
}

/** manual_chain: references resolved to ids; the first must be `self` or this issuer (4.3). */
function parseManualChain(mount: PkiMount, issuer: PkiIssuer, body: JsonObject): string[] | null {
  const refs = list(body, 'manual_chain');
  if (refs.length === 0) return null;
  const ids = refs.map((ref) => (ref === 'self' ? issuer.id : mount.resolveIssuer(ref).id));
  if (ids[0] !== issuer.id) throw new VaultApiError(400, `expected first cert in chain to be a self-reference, but was: ${refs[0]}/${ids[0]}`);
  return ids;
}

interface IssuerChanges {
  name?: string;
  behavior?: LeafNotAfterBehavior;
  usage?: Set<IssuerUsage>;
  revocationSignatureAlgorithm?: string;
  manualChain?: string[] | null;
  aia?: AiaUrls;
}

/** The fields of an update request. `full` (POST) gives every omitted field its default (P5). */
function readChanges(mount: PkiMount, issuer: PkiIssuer, body: JsonObject, full: boolean): IssuerChanges {
  const changes: IssuerChanges = {};
  if (full || has(body, 'issuer_name')) changes.name = str(body, 'issuer_name');
  if (full || has(body, 'leaf_not_after_behavior')) changes.behavior = has(body, 'leaf_not_after_behavior') ? parseBehavior(body) : 'err';
  if (full || has(body, 'usage')) changes.usage = has(body, 'usage') ? parseUsage(body) : new Set(ISSUER_USAGES);
  if (full || has(body, 'revocation_signature_algorithm')) changes.revocationSignatureAlgorithm = str(body, 'revocation_signature_algorithm');
  if (full || has(body, 'manual_chain')) changes.manualChain = parseManualChain(mount, issuer, body);
  const aiaFields = ['issuing_certificates', 'crl_distribution_points', 'delta_crl_distribution_points', 'ocsp_servers', 'enable_aia_url_templating'];
  if (full || aiaFields.some((field) => has(body, field))) {
    const current = issuer.aia;
    const pick = (field: string, fallback: string[] | undefined): string[] => (has(body, field) ? parseUrls(body, field) : full ? [] : [...(fallback ?? [])]);
    changes.aia = {
      issuingCertificates: pick('issuing_certificates', current?.issuingCertificates),
      crlDistributionPoints: pick('crl_distribution_points', current?.crlDistributionPoints),
      deltaCrlDistributionPoints: pick('delta_crl_distribution_points', current?.deltaCrlDistributionPoints),
      ocspServers: pick('ocsp_servers', current?.ocspServers),
      enableTemplating: has(body, 'enable_aia_url_templating') ? bool(body, 'enable_aia_url_templating') : full ? false : (current?.enableTemplating ?? false),
    };
  }
  return changes;
}

function sameUsage(a: ReadonlySet<IssuerUsage>, b: ReadonlySet<IssuerUsage>): boolean {
  return a.size === b.size && [...a].every((usage) => b.has(usage));
}

async function updateIssuer(env: PkiRouteEnv, request: VaultRequest, full: boolean) {
  const mount = mountOf(env, request);
  return mount.exclusive(async () => {
    const reference = request.params.ref ?? '';
    // PATCH on something that does not exist is a 404 (VAULT_API.md 0).
    if (!full && !mount.findIssuer(reference)) throw new VaultApiError(404);
    const issuer = mount.resolveIssuer(reference);
    const changes = readChanges(mount, issuer, request.body, full);
    if (changes.name !== undefined && changes.name !== issuer.name) mount.assertIssuerNameFree(changes.name, issuer.id);
    const usageChanged = changes.usage !== undefined && !sameUsage(changes.usage, issuer.usage);
    if (changes.usage && usageChanged) {
      if (issuer.revoked && changes.usage.has('issuing-certificates')) {
        throw new VaultApiError(
          400,
          'This issuer was revoked; unable to modify its usage to include certificate signing again. Reissue this certificate (preferably with a new key) and modify that entry instead.',
        );
      }
      if (changes.usage.has('crl-signing') && !hasKeyUsage(issuer.cert, x509.KeyUsageFlags.cRLSign)) {
        throw new VaultApiError(400, "This issuer's underlying certificate lacks the CRLSign KeyUsage value; unable to set CRLSigningUsage on this issuer as a result.");
      }
    }
    if (changes.name !== undefined) issuer.name = changes.name;
    if (changes.behavior !== undefined) issuer.leafNotAfterBehavior = changes.behavior;
    if (changes.usage !== undefined) issuer.usage = changes.usage;
    if (changes.revocationSignatureAlgorithm !== undefined) issuer.revocationSignatureAlgorithm = changes.revocationSignatureAlgorithm;
    if (changes.aia !== undefined) issuer.aia = changes.aia;
    if (changes.manualChain !== undefined) {
      issuer.manualChain = changes.manualChain;
      await mount.rebuildChains();
    }
    if (usageChanged) await rebuildCrls(mount);
    return pkiEnvelope(issuerResponseData(mount, issuer));
  });
}

function listIssuers(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  const after = request.query.get('after') ?? '';
  const limit = Number(request.query.get('limit') ?? '0') || 0;
  let ids = [...mount.issuers.keys()].sort().filter((id) => after === '' || id > after);
  if (limit > 0) ids = ids.slice(0, limit);
  // An empty LIST is a 404 (VAULT_API.md 1.2, 4.1).
  if (ids.length === 0) throw new VaultApiError(404);
  const keyInfo: Record<string, unknown> = {};
  for (const id of ids) {
    const issuer = mount.issuers.get(id);
    if (!issuer) continue;
    keyInfo[id] = { issuer_name: issuer.name, is_default: id === mount.defaultIssuerId, serial_number: issuer.serial, key_id: issuer.keyId };
  }
  return pkiEnvelope({ keys: ids, key_info: keyInfo });
}

function readIssuerRaw(env: PkiRouteEnv, request: VaultRequest, form: 'json' | 'pem' | 'der') {
  const mount = mountOf(env, request);
  const issuer = mount.resolveIssuer(request.params.ref ?? '');
  if (form === 'pem') return rawBody('application/pem-certificate-chain', issuer.pem);
  if (form === 'der') return rawBody('application/pkix-cert', Buffer.from(issuer.cert.rawData));
  const data: Record<string, unknown> = { certificate: issuer.pem, ca_chain: mount.chainPems(issuer), issuer_id: issuer.id, issuer_name: issuer.name };
  if (issuer.revoked && issuer.revocationTime) {
    data.revocation_time = unixSeconds(issuer.revocationTime);
    data.revocation_time_rfc3339 = rfc3339Nano(issuer.revocationTime);
  }
  return pkiEnvelope(data);
}

async function revokeIssuer(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  return mount.exclusive(async () => {
    const issuer = mount.resolveIssuer(request.params.ref ?? '');
    // Already revoked: the read result again (idempotent, 4.8).
    if (issuer.revoked) return pkiEnvelope(issuerResponseData(mount, issuer));
    issuer.revoked = true;
    issuer.usage.delete('issuing-certificates');
    issuer.revocationTime = mount.now();
    // When a parent in this mount signed it, its stored certificate gets a revocation entry too.
    const stored = mount.certs.get(issuer.serial);
    if (stored && Buffer.from(stored.cert.rawData).equals(Buffer.from(issuer.cert.rawData)) && !stored.revocation) {
      mount.markRevoked(stored, { time: issuer.revocationTime, issuerId: stored.issuerId === issuer.id ? '' : stored.issuerId });
    }
    const crlWarnings = await rebuildCrls(mount);
    const warnings = crlWarnings.map((warning, index) => `Warning ${index + 1} during CRL rebuild: ${warning}`);
    let selfSigned = false;
    let otherParent = false;
    for (const candidate of mount.issuerList()) {
      if (candidate.id === issuer.id) selfSigned = isSelfSigned(issuer.cert) && (await isSignedBy(issuer.cert, issuer.cert));
      else if (await isSignedBy(issuer.cert, candidate.cert)) otherParent = true;
    }
    if (selfSigned) {
      warnings.push(
        "This issuer is a self-signed (potentially root) certificate. This means it may not be considered revoked if there is not an external, cross-signed variant of this certificate. This issuer's serial number will not appear on its own CRL.",
      );
    }
    if (!otherParent) {
      warnings.push(
        "This issuer lacks another parent issuer within the mount. This means it will not appear on any other CRLs and may not be considered revoked by clients. Consider adding this issuer to its issuer's CRL as well if it is not self-signed.",
      );
    }
    if (mount.defaultIssuerId === issuer.id) {
      warnings.push(
        'This issuer is currently configured as the default issuer for this mount; operations such as certificate issuance may not work until a new default issuer is selected.',
      );
    }
    return pkiEnvelope(issuerResponseData(mount, issuer), { warnings });
  });
}

function roleReferenceWarnings(mount: PkiMount, name: string): string[] {
  const count = [...mount.roles.values()].filter((role) => role.issuerRef === name).length;
  return count > 0 ? [`${count} roles reference ${name}`] : [];
}

async function deleteIssuer(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  return mount.exclusive(async () => {
    const reference = request.params.ref ?? '';
    if (reference === '') throw new VaultApiError(400, 'missing issuer reference');
    const issuer = mount.findIssuer(reference);
    // A reference that does not resolve is answered as if it had been deleted (4.9).
    if (!issuer) return noContent();
    const warnings: string[] = [];
    if (issuer.name !== '') warnings.push(...roleReferenceWarnings(mount, issuer.name));
    warnings.push(...roleReferenceWarnings(mount, issuer.id));
    mount.issuers.delete(issuer.id);
    mount.crls.delete(issuer.id);
    for (const other of mount.issuers.values()) {
      if (other.manualChain?.includes(issuer.id)) other.manualChain = other.manualChain.filter((id) => id !== issuer.id);
    }
    if (mount.defaultIssuerId === issuer.id) {
      mount.defaultIssuerId = '';
      warnings.push(
        `Deleted issuer ${issuer.id} (via issuer_ref ${reference}); this was configured as the default issuer. Operations without an explicit issuer will not work until a new default is configured.`,
      );
      warnings.push(...roleReferenceWarnings(mount, 'default'));
    }
    // The key stays: DELETE key/:ref removes it (4.9).
    const crlWarnings = await afterIssuersChanged(mount);
    crlWarnings.forEach((warning, index) => warnings.push(`Warning ${index + 1} during CRL rebuild: ${warning}`));
    return warnings.length > 0 ? pkiEnvelope(null, { warnings }) : noContent();
  });
}

function readDefaultConfig(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  return pkiEnvelope({ default: mount.defaultIssuerId, default_follows_latest_issuer: mount.defaultFollowsLatestIssuer });
}

/** POST config/issuers (4.7); `root/replace` is the legacy alias whose `default` defaults to `next`. */
async function writeDefaultConfig(env: PkiRouteEnv, request: VaultRequest, legacy: boolean) {
  const mount = mountOf(env, request);
  return mount.exclusive(async () => {
    const reference = str(request.body, 'default', legacy ? 'next' : '');
    if (reference === '' || reference === 'default') throw new VaultApiError(400, "Invalid issuer specification; must be non-empty and can't be 'default'.");
    const issuer = mount.findIssuer(reference);
    if (!issuer) throw new VaultApiError(400, `Error resolving issuer reference: unable to find PKI issuer for reference: ${reference}`);
    mount.defaultIssuerId = issuer.id;
    if (!legacy && has(request.body, 'default_follows_latest_issuer')) {
      mount.defaultFollowsLatestIssuer = bool(request.body, 'default_follows_latest_issuer');
    }
    // Changing the default rebuilds no CRL and touches no role (4.7).
    const warnings =
      issuer.keyId === ''
        ? [
            'This selected default issuer has no key associated with it. Some operations like issuing certificates and signing CRLs will be unavailable with the requested default issuer until a key is imported or the default issuer is changed.',
          ]
        : [];
    return pkiEnvelope({ default: mount.defaultIssuerId, default_follows_latest_issuer: mount.defaultFollowsLatestIssuer }, { warnings });
  });
}

export function issuerRoutes(env: PkiRouteEnv): RouteDefinition[] {
  const raw = (form: 'json' | 'pem' | 'der') => ({ read: (_: unknown, request: VaultRequest) => readIssuerRaw(env, request, form) });
  return forPkiMounts(env, [
    { pattern: ':mount/issuers', auth: 'none', operations: { list: (_, request) => listIssuers(env, request) } },
    {
      pattern: ':mount/issuer/:ref',
      operations: {
        read: (_, request) => pkiEnvelope(issuerResponseData(mountOf(env, request), mountOf(env, request).resolveIssuer(request.params.ref ?? ''))),
        update: (_, request) => updateIssuer(env, request, true),
        patch: (_, request) => updateIssuer(env, request, false),
        delete: (_, request) => deleteIssuer(env, request),
      },
    },
    { pattern: ':mount/issuer/:ref/json', auth: 'none', operations: raw('json') },
    { pattern: ':mount/issuer/:ref/pem', auth: 'none', operations: raw('pem') },
    { pattern: ':mount/issuer/:ref/der', auth: 'none', operations: raw('der') },
    { pattern: ':mount/issuer/:ref/revoke', operations: { update: (_, request) => revokeIssuer(env, request) } },
    {
      pattern: ':mount/config/issuers',
      operations: { read: (_, request) => readDefaultConfig(env, request), update: (_, request) => writeDefaultConfig(env, request, false) },
    },
    { pattern: ':mount/root/replace', operations: { update: (_, request) => writeDefaultConfig(env, request, true) } },
  ]);
}
