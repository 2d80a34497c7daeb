import { VaultApiError } from '../envelope';
import type { RouteDefinition, VaultRequest } from '../router';
import { afterIssuersChanged, importIssuer } from './issuer-lifecycle';
import { mountHasNoAia, NO_AIA_WARNING, pkiEnvelope } from './pki-responses';
import { forPkiMounts, mountOf, type PkiRouteEnv } from './pki-route-kit';
import { str } from './pki-values';
import { importPrivateKeyPem, parseCertificateDer, parsePemBlocks, pemEncode, type x509 } from './x509-engine';

/**
 * Importing CA certificates and keys (VAULT_API.md 4.6): `intermediate/set-signed` and
 * `issuers/import/cert` (certificates only), `issuers/import/bundle` and legacy `config/ca`
 * (keys allowed). The response maps every issuer to its key id ('' when the mount has none);
 * duplicates come back as existing; the default issuer moves only when there was none, or with
 * default_follows_latest_issuer and exactly one new keyed issuer (P1).
 */

async function importBundle(env: PkiRouteEnv, request: VaultRequest, keysAllowedByPath: boolean) {
  const mount = mountOf(env, request);
  const bundleText = str(request.body, 'pem_bundle');
  const certificateText = str(request.body, 'certificate');
  if (bundleText === '' && certificateText === '') throw new VaultApiError(400, "'pem_bundle' and 'certificate' parameters were empty");
  if (bundleText !== '' && certificateText !== '') throw new VaultApiError(400, "'pem_bundle' and 'certificate' parameters were both provided");
  const keysAllowed = keysAllowedByPath && certificateText === '';
  const text = certificateText !== '' ? certificateText : bundleText;
  if (text.length < 75) {
    throw new VaultApiError(400, 'provided data for import was too short; perhaps a path was passed to the API rather than the contents of a PEM file');
  }
  const blocks = parsePemBlocks(text);
  if (blocks.length === 0) throw new VaultApiError(400, 'error when parsing block 1: invalid PEM data');
  const certBlocks = blocks.filter((block) => block.type === 'CERTIFICATE' || block.type === 'X509 CERTIFICATE');
  // CRLs and EC parameter blocks are ignored; anything else is treated as a key.
  const keyBlocks = blocks.filter((block) => !['CERTIFICATE', 'X509 CERTIFICATE', 'CRL', 'X509 CRL', 'EC PARAMS', 'EC PARAMETERS'].includes(block.type));
  if (keyBlocks.length > 0 && !keysAllowed) {
    throw new VaultApiError(400, 'private keys found in the PEM bundle but not allowed by the path; use /issuers/import/bundle');
  }

  return mount.exclusive(async () => {
    const importedKeys: string[] = [];
    const existingKeys: string[] = [];
    for (const [index, block] of keyBlocks.entries()) {
      let material;
      try {
        material = await importPrivateKeyPem(pemEncode(block.type, block.der));
      } catch (err) {
        throw new VaultApiError(400, `Error parsing key ${index}: ${err instanceof VaultApiError ? (err.errors[0] ?? '') : err instanceof Error ? err.message : String(err)}`);
      }
      const known = mount.keyForSpki(material.spki);
      if (known) existingKeys.push(known.id);
      else importedKeys.push(mount.addKey(material).id);
    }
    // Certificates that no longer have a key missing: link issuers imported before their key.
    for (const issuer of mount.issuers.values()) {
      if (issuer.keyId === '') issuer.keyId = mount.keyForSpki(Buffer.from(issuer.cert.publicKey.rawData))?.id ?? '';
    }

    const importedIssuers: string[] = [];
    const existingIssuers: string[] = [];
    const mapping: Record<string, string> = {};
    for (const [index, block] of certBlocks.entries()) {
      let cert: x509.X509Certificate;
      try {
        cert = parseCertificateDer(block.der);
      } catch (err) {
        throw new VaultApiError(400, `Error parsing issuer ${index}: ${err instanceof Error ? err.message : String(err)}\n${pemEncode('CERTIFICATE', block.der)}`);
      }
      let result;
      try {
        result = importIssuer(mount, cert);
      } catch (err) {
        if (err instanceof VaultApiError) throw new VaultApiError(400, `Error parsing issuer ${index}: ${err.errors[0] ?? ''}\n${pemEncode('CERTIFICATE', block.der)}`);
        throw err;
      }
      mapping[result.issuer.id] = result.issuer.keyId;
      (result.existing ? existingIssuers : importedIssuers).push(result.issuer.id);
    }

    const warnings: string[] = [];
    const keyedNew = importedIssuers.filter((id) => (mapping[id] ?? '') !== '');
    if (importedIssuers.length > 0 && mount.defaultFollowsLatestIssuer) {
      if (keyedNew.length === 1) mount.defaultIssuerId = keyedNew[0] ?? mount.defaultIssuerId;
      else if (keyedNew.length > 1) {
        warnings.push('Default issuer left unchanged: could not select new issuer automatically as multiple imported issuers had key material in Vault.');
      }
    }
    if (mount.defaultIssuerId !== '' && mapping[mount.defaultIssuerId] === '') {
      warnings.push(
        'The default issuer has no key associated with it. Some operations like issuing certificates and signing CRLs will be unavailable with the requested default issuer until a key is imported or the default issuer is changed.',
      );
    }
    if (importedIssuers.length > 1 && keyedNew.length > 1 && importedIssuers.includes(mount.defaultIssuerId)) {
      warnings.push('The imported bundle contained multiple certs matching keys, the default issuer that was selected should be verified and manually changed if incorrect.');
    }
    if (mountHasNoAia(mount)) warnings.push(NO_AIA_WARNING);
    if (importedIssuers.length > 0 || importedKeys.length > 0) {
      const crlWarnings = await afterIssuersChanged(mount);
      crlWarnings.forEach((warning, index) => warnings.push(`Warning ${index + 1} during CRL rebuild: ${warning}`));
    }
    return pkiEnvelope(
      {
        mapping,
        // Empty lists, as VAULT_API.md 4.6 shows them (Go would send null; clients accept both).
        imported_keys: importedKeys,
        imported_issuers: importedIssuers,
        existing_keys: existingKeys,
        existing_issuers: existingIssuers,
      },
      { warnings },
    );
  });
}

export function importRoutes(env: PkiRouteEnv): RouteDefinition[] {
  const route = (keysAllowed: boolean) => ({ update: (_: unknown, request: VaultRequest) => importBundle(env, request, keysAllowed) });
  return forPkiMounts(env, [
    { pattern: ':mount/intermediate/set-signed', operations: route(false) },
    { pattern: ':mount/issuers/import/cert', operations: route(false) },
    { pattern: ':mount/issuers/import/bundle', operations: route(true) },
    { pattern: ':mount/config/ca', operations: route(true) },
  ]);
}
