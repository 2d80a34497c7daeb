import { rawBody, VaultApiError, type VaultResponse } from '../envelope';
import type { RouteDefinition, VaultRequest } from '../router';
import { crlPem, rebuildCrls } from './crl-builder';
import type { PkiIssuer, PkiMount } from './pki-mount-state';
import { pkiEnvelope } from './pki-responses';
import { forPkiMounts, mountOf, type PkiRouteEnv } from './pki-route-kit';
import { bool, duration, goDuration, has, list, rfc3339Nano, str, unixSeconds } from './pki-values';

/**
 * Certificates and CRLs (VAULT_API.md 4.13): LIST certs (404 when empty), `cert/:serial` (404 when
 * unknown; 204 with an empty body for the raw forms), the default issuer's CA, chain and CRL in
 * every form, per-issuer CRLs (a revoked leaf is on its own issuer's CRL, P13), `crl/rotate` (a
 * GET), and the mount's `config/crl` and `config/urls`.
 */

const EMPTY = Buffer.alloc(0);

function defaultIssuer(mount: PkiMount): PkiIssuer | undefined {
  return mount.issuers.get(mount.defaultIssuerId);
}

function listCerts(env: PkiRouteEnv, request: VaultRequest, revokedOnly: boolean) {
  const mount = mountOf(env, request);
  const serials = [...(revokedOnly ? mount.revokedCerts : mount.certs).keys()].sort();
  if (serials.length === 0) throw new VaultApiError(404);
  return pkiEnvelope({ keys: serials });
}

function chainText(mount: PkiMount): string {
  const issuer = defaultIssuer(mount);
  return issuer ? mount.chainPems(issuer).join('\n') : '';
}

function readCert(env: PkiRouteEnv, request: VaultRequest): VaultResponse {
  const mount = mountOf(env, request);
  const serial = request.params.serial ?? '';
  const record = mount.findCert(serial);
  if (!record) throw new VaultApiError(404);
  const data: Record<string, unknown> = {
    certificate: record.pem,
    revocation_time: record.revocation ? unixSeconds(record.revocation.time) : 0,
    revocation_time_rfc3339: record.revocation ? rfc3339Nano(record.revocation.time) : '',
  };
  // issuer_id is only returned for revoked certificates (5.2 d).
  if (record.revocation && record.revocation.issuerId !== '') data.issuer_id = record.revocation.issuerId;
  return pkiEnvelope(data);
}

function readCertRaw(env: PkiRouteEnv, request: VaultRequest, pem: boolean): VaultResponse {
  const mount = mountOf(env, request);
  const record = mount.findCert(request.params.serial ?? '');
  // The raw forms answer 204 with an empty body when the serial is unknown (path_fetch.go).
  if (!record) return rawBody(pem ? 'application/pem-certificate-chain' : 'application/pkix-cert', EMPTY, 204);
  return pem ? rawBody('application/pem-certificate-chain', record.pem) : rawBody('application/pkix-cert', Buffer.from(record.cert.rawData));
}

function crlOf(mount: PkiMount, issuer: PkiIssuer | undefined): Buffer | undefined {
  return issuer ? mount.crls.get(issuer.id)?.der : undefined;
}

function rawOr204(contentType: string, body: Buffer | string | undefined): VaultResponse {
  return body === undefined || body.length === 0 ? rawBody(contentType, EMPTY, 204) : rawBody(contentType, body);
}

function issuerCrl(env: PkiRouteEnv, request: VaultRequest, form: 'json' | 'der' | 'pem', delta: boolean): VaultResponse {
  const mount = mountOf(env, request);
  const issuer = mount.resolveIssuer(request.params.ref ?? '');
  // Delta CRLs are never enabled in the emulator: they are always empty.
  const der = delta ? undefined : crlOf(mount, issuer);
  if (form === 'der') return rawOr204('application/pkix-crl', der);
  const pem = der ? `${crlPem(der)}\n` : '';
  if (form === 'pem') return rawOr204('application/x-pem-file', pem);
  return pkiEnvelope({ crl: pem });
}

function specialCert(env: PkiRouteEnv, request: VaultRequest, which: 'ca' | 'ca_chain' | 'crl'): VaultResponse {
  const mount = mountOf(env, request);
  const issuer = defaultIssuer(mount);
  let certificate = '';
  if (which === 'ca') {
    if (!issuer) throw new VaultApiError(400, 'no default issuer currently configured');
    certificate = issuer.pem;
  } else if (which === 'ca_chain') {
    if (!issuer) throw new VaultApiError(400, 'no default issuer currently configured');
    certificate = chainText(mount);
  } else {
    const der = crlOf(mount, issuer);
    certificate = der ? crlPem(der) : '';
  }
  const data: Record<string, unknown> = { certificate, revocation_time: 0, revocation_time_rfc3339: '' };
  if (which === 'ca_chain') data.ca_chain = certificate;
  return pkiEnvelope(data);
}

async function rotateCrl(env: PkiRouteEnv, request: VaultRequest, delta: boolean) {
  const mount = mountOf(env, request);
  return mount.exclusive(async () => {
    if (delta) return pkiEnvelope({ success: true }, { warnings: ['requested rebuild of delta CRL when delta CRL is not enabled; this is a no-op'] });
    const warnings = await rebuildCrls(mount);
    return pkiEnvelope({ success: true }, { warnings: warnings.map((warning, index) => `Warning ${index + 1} during CRL rebuild: ${warning}`) });
  });
}

function crlConfigData(mount: PkiMount): Record<string, unknown> {
  const config = mount.crlConfig;
  return {
    expiry: goDuration(config.expirySeconds),
    disable: config.disable,
    ocsp_disable: config.ocspDisable,
    ocsp_expiry: '12h',
    auto_rebuild: config.autoRebuild,
    auto_rebuild_grace_period: goDuration(config.autoRebuildGracePeriodSeconds),
    enable_delta: config.enableDelta,
    delta_rebuild_interval: goDuration(config.deltaRebuildIntervalSeconds),
    cross_cluster_revocation: false,
    unified_crl: false,
    unified_crl_on_existing_paths: false,
  };
}

async function writeCrlConfig(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  return mount.exclusive(async () => {
    const body = request.body;
    const config = { ...mount.crlConfig };
    if (has(body, 'expiry')) config.expirySeconds = duration(body, 'expiry');
    if (has(body, 'disable')) config.disable = bool(body, 'disable');
    if (has(body, 'ocsp_disable')) config.ocspDisable = bool(body, 'ocsp_disable');
    if (has(body, 'auto_rebuild')) config.autoRebuild = bool(body, 'auto_rebuild');
    if (has(body, 'auto_rebuild_grace_period')) config.autoRebuildGracePeriodSeconds = duration(body, 'auto_rebuild_grace_period');
    if (has(body, 'enable_delta')) config.enableDelta = bool(body, 'enable_delta');
    if (has(body, 'delta_rebuild_interval')) config.deltaRebuildIntervalSeconds = duration(body, 'delta_rebuild_interval');
    if (config.expirySeconds <= 0) throw new VaultApiError(400, `given expiry could not be decoded: ${str(body, 'expiry')}`);
    if (config.enableDelta && !config.autoRebuild) throw new VaultApiError(400, 'Delta CRLs cannot be enabled when auto rebuilding is disabled as the complete CRL is always regenerated!');
    const rebuild = config.disable !== mount.crlConfig.disable || config.expirySeconds !== mount.crlConfig.expirySeconds;
    mount.crlConfig = config;
    if (rebuild) await rebuildCrls(mount);
    return pkiEnvelope(crlConfigData(mount));
  });
}

function urlsData(mount: PkiMount): Record<string, unknown> {
  return {
    issuing_certificates: mount.urls.issuingCertificates,
    crl_distribution_points: mount.urls.crlDistributionPoints,
    delta_crl_distribution_points: mount.urls.deltaCrlDistributionPoints,
    ocsp_servers: mount.urls.ocspServers,
    enable_templating: mount.urls.enableTemplating,
  };
}

function writeUrls(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  const body = request.body;
  const urls = { ...mount.urls };
  if (has(body, 'issuing_certificates')) urls.issuingCertificates = list(body, 'issuing_certificates');
  if (has(body, 'crl_distribution_points')) urls.crlDistributionPoints = list(body, 'crl_distribution_points');
  if (has(body, 'delta_crl_distribution_points')) urls.deltaCrlDistributionPoints = list(body, 'delta_crl_distribution_points');
  if (has(body, 'ocsp_servers')) urls.ocspServers = list(body, 'ocsp_servers');
  if (has(body, 'enable_templating')) urls.enableTemplating = bool(body, 'enable_templating');
  mount.urls = urls;
  return pkiEnvelope(urlsData(mount));
}

export function certCrlRoutes(env: PkiRouteEnv): RouteDefinition[] {
  const read = (handler: (request: VaultRequest) => VaultResponse | Promise<VaultResponse>) => ({ read: (_: unknown, request: VaultRequest) => handler(request) });
  const defaultCrl = (request: VaultRequest) => crlOf(mountOf(env, request), defaultIssuer(mountOf(env, request)));
  return forPkiMounts(env, [
    { pattern: ':mount/certs', operations: { list: (_, request) => listCerts(env, request, false) } },
    { pattern: ':mount/certs/revoked', operations: { list: (_, request) => listCerts(env, request, true) } },
    { pattern: ':mount/cert/:serial', auth: 'none', operations: read((request) => readCert(env, request)) },
    { pattern: ':mount/cert/:serial/raw', auth: 'none', operations: read((request) => readCertRaw(env, request, false)) },
    { pattern: ':mount/cert/:serial/raw/pem', auth: 'none', operations: read((request) => readCertRaw(env, request, true)) },
    { pattern: ':mount/cert/ca', auth: 'none', operations: read((request) => specialCert(env, request, 'ca')) },
    { pattern: ':mount/cert/ca_chain', auth: 'none', operations: read((request) => specialCert(env, request, 'ca_chain')) },
    { pattern: ':mount/cert/crl', auth: 'none', operations: read((request) => specialCert(env, request, 'crl')) },
    {
      pattern: ':mount/ca',
      auth: 'none',
      operations: read((request) => {
        const issuer = defaultIssuer(mountOf(env, request));
        return rawOr204('application/pkix-cert', issuer ? Buffer.from(issuer.cert.rawData) : undefined);
      }),
    },
    { pattern: ':mount/ca/pem', auth: 'none', operations: read((request) => rawOr204('application/pem-certificate-chain', defaultIssuer(mountOf(env, request))?.pem)) },
    // Vault sends the PEM chain with the pkix-cert content type here (path_fetch.go).
    { pattern: ':mount/ca_chain', auth: 'none', operations: read((request) => rawOr204('application/pkix-cert', chainText(mountOf(env, request)))) },
    { pattern: ':mount/crl', auth: 'none', operations: read((request) => rawOr204('application/pkix-crl', defaultCrl(request))) },
    {
      pattern: ':mount/crl/pem',
      auth: 'none',
      operations: read((request) => {
        const der = defaultCrl(request);
        return rawOr204('application/x-pem-file', der ? `${crlPem(der)}\n` : undefined);
      }),
    },
    { pattern: ':mount/crl/delta', auth: 'none', operations: read(() => rawOr204('application/pkix-crl', undefined)) },
    { pattern: ':mount/crl/delta/pem', auth: 'none', operations: read(() => rawOr204('application/x-pem-file', undefined)) },
    { pattern: ':mount/issuer/:ref/crl', auth: 'none', operations: read((request) => issuerCrl(env, request, 'json', false)) },
    { pattern: ':mount/issuer/:ref/crl/der', auth: 'none', operations: read((request) => issuerCrl(env, request, 'der', false)) },
    { pattern: ':mount/issuer/:ref/crl/pem', auth: 'none', operations: read((request) => issuerCrl(env, request, 'pem', false)) },
    { pattern: ':mount/issuer/:ref/crl/delta', auth: 'none', operations: read((request) => issuerCrl(env, request, 'json', true)) },
    { pattern: ':mount/issuer/:ref/crl/delta/der', auth: 'none', operations: read((request) => issuerCrl(env, request, 'der', true)) },
    { pattern: ':mount/issuer/:ref/crl/delta/pem', auth: 'none', operations: read((request) => issuerCrl(env, request, 'pem', true)) },
    { pattern: ':mount/crl/rotate', operations: read((request) => rotateCrl(env, request, false)) },
    { pattern: ':mount/crl/rotate-delta', operations: read((request) => rotateCrl(env, request, true)) },
    {
      pattern: ':mount/config/crl',
      operations: { read: (_, request) => pkiEnvelope(crlConfigData(mountOf(env, request))), update: (_, request) => writeCrlConfig(env, request) },
    },
    {
      pattern: ':mount/config/urls',
      operations: { read: (_, request) => pkiEnvelope(urlsData(mountOf(env, request))), update: (_, request) => writeUrls(env, request) },
    },
  ]);
}
