import { VaultApiError } from '../envelope';
import type { RouteDefinition, VaultRequest } from '../router';
import { afterIssuersChanged } from './issuer-lifecycle';
import type { PkiMount } from './pki-mount-state';
import { pkiEnvelope } from './pki-responses';
import { forPkiMounts, mountOf, type PkiRouteEnv } from './pki-route-kit';
import { bool, duration, goDuration, has, str } from './pki-values';
import { isSignedBy } from './x509-engine';

/**
 * `POST :mount/tidy` and `GET :mount/tidy-status` (VAULT_API.md 4.14): 202 with a warning when
 * started (also when nothing was selected), 200 `Tidy operation already in progress.` while one
 * runs, 400 for buffers <= 0. The tidy runs in the background; `pause_duration` pauses between
 * certificates (as in Vault), which keeps a run observable. `tidy-cancel` stops it.
 */

type TidyState = 'Inactive' | 'Running' | 'Finished' | 'Error' | 'Cancelling' | 'Cancelled';

interface TidyRequest {
  readonly certStore: boolean;
  readonly revokedCerts: boolean;
  readonly issuerAssocs: boolean;
  readonly expiredIssuers: boolean;
  readonly safetyBuffer: number;
  readonly issuerSafetyBuffer: number;
  readonly pauseMs: number;
}

interface TidyStatus {
  state: TidyState;
  request?: TidyRequest;
  error: string | null;
  timeStarted?: Date;
  timeFinished?: Date;
  message: string | null;
  certStoreDeleted: number;
  revokedCertDeleted: number;
  missingIssuerCert: number;
}

const ANY_TIDY_CONFIG = 'tidy_cert_store / tidy_revoked_certs / tidy_revoked_cert_issuer_associations / tidy_expired_issuers / tidy_move_legacy_ca_bundle / tidy_acme';

function parseTidyRequest(request: VaultRequest): TidyRequest & { anySelected: boolean } {
  const body = request.body;
  const safetyBuffer = duration(body, 'safety_buffer', 72 * 3600);
  const issuerSafetyBuffer = duration(body, 'issuer_safety_buffer', 365 * 24 * 3600);
  if (safetyBuffer <= 0) throw new VaultApiError(400, 'safety_buffer must be greater than zero');
  if (has(body, 'revoked_safety_buffer') && duration(body, 'revoked_safety_buffer') <= 0) throw new VaultApiError(400, 'revokedSafetyBuffer must be greater than zero');
  if (issuerSafetyBuffer <= 0) throw new VaultApiError(400, 'issuer_safety_buffer must be greater than zero');
  let pauseMs = 0;
  if (has(body, 'pause_duration')) {
    const text = str(body, 'pause_duration');
    const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
    if (!match) throw new VaultApiError(400, `Error parsing pause_duration: time: invalid duration ${JSON.stringify(text)}`);
    const unit = match[2] ?? 's';
    pauseMs = Number(match[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
  }
  const request_ = {
    certStore: bool(body, 'tidy_cert_store'),
    revokedCerts: bool(body, 'tidy_revoked_certs'),
    issuerAssocs: bool(body, 'tidy_revoked_cert_issuer_associations'),
    expiredIssuers: bool(body, 'tidy_expired_issuers'),
    safetyBuffer,
    issuerSafetyBuffer,
    pauseMs,
  };
  const anySelected =
    request_.certStore || request_.revokedCerts || request_.issuerAssocs || request_.expiredIssuers || bool(body, 'tidy_move_legacy_ca_bundle') || bool(body, 'tidy_acme');
  return { ...request_, anySelected };
}

const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0) return resolve();
    setTimeout(resolve, ms).unref();
  });

/** One tidy run over the mount (path_tidy.go doTidyCertStore / doTidyRevocationStore / doTidyExpiredIssuers). */
async function runTidy(mount: PkiMount, status: TidyStatus, request: TidyRequest): Promise<void> {
  const cutoff = (): number => mount.now().getTime() - request.safetyBuffer * 1000;
  let crlDirty = false;
  for (const record of [...mount.certs.values()]) {
    await pause(request.pauseMs);
    if (status.state === 'Cancelling') return;
    const expired = record.cert.notAfter.getTime() < cutoff();
    if (record.revocation) {
      if (request.issuerAssocs && record.revocation.issuerId === '') {
        for (const issuer of mount.issuerList()) {
          if (await isSignedBy(record.cert, issuer.cert)) {
            mount.markRevoked(record, { ...record.revocation, issuerId: issuer.id });
            crlDirty = true;
            break;
          }
        }
        if (record.revocation.issuerId === '') status.missingIssuerCert += 1;
      }
      if (request.revokedCerts && expired) {
        mount.forgetCert(record.serial);
        status.revokedCertDeleted += 1;
        crlDirty = true;
      }
    } else if (request.certStore && expired) {
      mount.forgetCert(record.serial);
      status.certStoreDeleted += 1;
    }
  }
  if (request.expiredIssuers) {
    const issuerCutoff = mount.now().getTime() - request.issuerSafetyBuffer * 1000;
    for (const issuer of mount.issuerList()) {
      // The default issuer is never removed; keys are kept (4.14).
      if (issuer.id !== mount.defaultIssuerId && issuer.cert.notAfter.getTime() < issuerCutoff) {
        mount.issuers.delete(issuer.id);
        mount.crls.delete(issuer.id);
        crlDirty = true;
      }
    }
  }
  if (crlDirty) await mount.exclusive(() => afterIssuersChanged(mount));
}

interface AutoTidyConfig {
  enabled: boolean;
  intervalSeconds: number;
  certStore: boolean;
  revokedCerts: boolean;
  issuerAssocs: boolean;
  expiredIssuers: boolean;
  safetyBuffer: number;
  issuerSafetyBuffer: number;
}

/** Vault's defaults: off, every 12h, 72h safety buffer, 1 year for expired issuers. */
const DEFAULT_AUTO_TIDY: AutoTidyConfig = {
  enabled: false,
  intervalSeconds: 12 * 3600,
  certStore: false,
  revokedCerts: false,
  issuerAssocs: false,
  expiredIssuers: false,
  safetyBuffer: 72 * 3600,
  issuerSafetyBuffer: 365 * 24 * 3600,
};

/** As Vault reads it back: durations as whole seconds (path_tidy.go getTidyConfigData). */
function autoTidyData(config: AutoTidyConfig): Record<string, unknown> {
  return {
    enabled: config.enabled,
    interval_duration: config.intervalSeconds,
    tidy_cert_store: config.certStore,
    tidy_revoked_certs: config.revokedCerts,
    tidy_revoked_cert_issuer_associations: config.issuerAssocs,
    tidy_expired_issuers: config.expiredIssuers,
    tidy_move_legacy_ca_bundle: false,
    tidy_acme: false,
    safety_buffer: config.safetyBuffer,
    issuer_safety_buffer: config.issuerSafetyBuffer,
    pause_duration: '0s',
  };
}

function statusData(status: TidyStatus, mount: PkiMount): Record<string, unknown> {
  const request = status.request;
  return {
    safety_buffer: request ? request.safetyBuffer : null,
    issuer_safety_buffer: request ? request.issuerSafetyBuffer : null,
    tidy_cert_store: request ? request.certStore : null,
    tidy_revoked_certs: request ? request.revokedCerts : null,
    tidy_revoked_cert_issuer_associations: request ? request.issuerAssocs : null,
    tidy_expired_issuers: request ? request.expiredIssuers : null,
    tidy_move_legacy_ca_bundle: request ? false : null,
    tidy_acme: request ? false : null,
    pause_duration: request ? goDuration(Math.floor(request.pauseMs / 1000)) : null,
    state: status.state,
    error: status.error,
    time_started: status.timeStarted?.toISOString() ?? null,
    time_finished: status.timeFinished?.toISOString() ?? null,
    message: status.message,
    cert_store_deleted_count: request ? status.certStoreDeleted : null,
    revoked_cert_deleted_count: request ? status.revokedCertDeleted : null,
    missing_issuer_cert_count: request ? status.missingIssuerCert : null,
    current_cert_store_count: request ? mount.certs.size : null,
    current_revoked_cert_count: request ? [...mount.certs.values()].filter((record) => record.revocation).length : null,
  };
}

export function tidyRoutes(env: PkiRouteEnv): RouteDefinition[] {
  const statuses = new Map<string, TidyStatus>();
  const statusOf = (mount: PkiMount): TidyStatus => {
    let status = statuses.get(mount.name);
    if (!status || mount !== env.mounts.get(mount.name)?.pki) {
      status = { state: 'Inactive', error: null, message: null, certStoreDeleted: 0, revokedCertDeleted: 0, missingIssuerCert: 0 };
      statuses.set(mount.name, status);
    }
    return status;
  };

  function startTidy(request: VaultRequest) {
    const mount = mountOf(env, request);
    return begin(mount, parseTidyRequest(request));
  }

  function begin(mount: PkiMount, tidy: TidyRequest & { anySelected: boolean }) {
    const status = statusOf(mount);
    if (status.state === 'Running' || status.state === 'Cancelling') {
      return pkiEnvelope(null, { warnings: ['Tidy operation already in progress.'] });
    }
    if (!tidy.anySelected) {
      return pkiEnvelope(null, {
        status: 202,
        warnings: [`Manual tidy requested but no tidy operations were set. Enable at least one tidy operation to be run (${ANY_TIDY_CONFIG}).`],
      });
    }
    Object.assign(status, {
      state: 'Running',
      request: tidy,
      error: null,
      timeStarted: mount.now(),
      timeFinished: undefined,
      message: 'Tidying certificate store',
      certStoreDeleted: 0,
      revokedCertDeleted: 0,
      missingIssuerCert: 0,
    });
    // Not under the mount's lock: issuance goes on while a tidy runs, as in Vault.
    void runTidy(mount, status, tidy)
      .then(
        () => {
          status.state = status.state === 'Cancelling' ? 'Cancelled' : 'Finished';
          status.message = status.state === 'Finished' ? 'Tidy operation successfully completed' : 'Tidy operation cancelled';
        },
        (err: unknown) => {
          status.state = 'Error';
          status.error = err instanceof Error ? err.message : String(err);
        },
      )
      .finally(() => {
        status.timeFinished = mount.now();
      });
    return pkiEnvelope(null, { status: 202, warnings: ["Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs."] });
  }

  // config/auto-tidy (4.14): Vault's own schedule. Each mount's config, and the timer that runs it.
  const autoTidy = new Map<string, { mount: PkiMount; config: AutoTidyConfig; timer?: NodeJS.Timeout }>();
  const autoTidyOf = (mount: PkiMount) => {
    let entry = autoTidy.get(mount.name);
    if (!entry || entry.mount !== mount) {
      if (entry?.timer) clearInterval(entry.timer);
      entry = { mount, config: { ...DEFAULT_AUTO_TIDY } };
      autoTidy.set(mount.name, entry);
    }
    return entry;
  };

  function writeAutoTidy(request: VaultRequest) {
    const mount = mountOf(env, request);
    const entry = autoTidyOf(mount);
    const body = request.body;
    // POST merges: a field left out keeps its value, as Vault's auto-tidy config does.
    const next: AutoTidyConfig = {
      enabled: bool(body, 'enabled', entry.config.enabled),
      intervalSeconds: duration(body, 'interval_duration', entry.config.intervalSeconds),
      certStore: bool(body, 'tidy_cert_store', entry.config.certStore),
      revokedCerts: bool(body, 'tidy_revoked_certs', entry.config.revokedCerts),
      issuerAssocs: bool(body, 'tidy_revoked_cert_issuer_associations', entry.config.issuerAssocs),
      expiredIssuers: bool(body, 'tidy_expired_issuers', entry.config.expiredIssuers),
      safetyBuffer: duration(body, 'safety_buffer', entry.config.safetyBuffer),
      issuerSafetyBuffer: duration(body, 'issuer_safety_buffer', entry.config.issuerSafetyBuffer),
    };
    if (next.safetyBuffer <= 0) throw new VaultApiError(400, 'safety_buffer must be greater than zero');
    if (next.issuerSafetyBuffer <= 0) throw new VaultApiError(400, 'issuer_safety_buffer must be greater than zero');
    if (next.intervalSeconds <= 0) throw new VaultApiError(400, 'interval_duration must be greater than zero');
    entry.config = next;
    if (entry.timer) clearInterval(entry.timer);
    entry.timer = undefined;
    if (next.enabled) {
      const request_ = { certStore: next.certStore, revokedCerts: next.revokedCerts, issuerAssocs: next.issuerAssocs, expiredIssuers: next.expiredIssuers, safetyBuffer: next.safetyBuffer, issuerSafetyBuffer: next.issuerSafetyBuffer, pauseMs: 0 };
      const anySelected = next.certStore || next.revokedCerts || next.issuerAssocs || next.expiredIssuers;
      entry.timer = setInterval(() => begin(mount, { ...request_, anySelected }), next.intervalSeconds * 1000);
      entry.timer.unref();
    }
    return pkiEnvelope(autoTidyData(next));
  }

  function cancelTidy(request: VaultRequest) {
    const mount = mountOf(env, request);
    const status = statusOf(mount);
    if (status.state !== 'Running') {
      return pkiEnvelope(statusData(status, mount), { warnings: ['Tidy operation cannot be cancelled as none is currently running.'] });
    }
    status.state = 'Cancelling';
    return pkiEnvelope(statusData(status, mount), { status: 202 });
  }

  return forPkiMounts(env, [
    { pattern: ':mount/tidy', operations: { update: (_, request) => startTidy(request) } },
    { pattern: ':mount/tidy-cancel', operations: { update: (_, request) => cancelTidy(request) } },
    {
      pattern: ':mount/config/auto-tidy',
      operations: { read: (_, request) => pkiEnvelope(autoTidyData(autoTidyOf(mountOf(env, request)).config)), update: (_, request) => writeAutoTidy(request) },
    },
    {
      pattern: ':mount/tidy-status',
      operations: {
        read: (_, request) => {
          const mount = mountOf(env, request);
          return pkiEnvelope(statusData(statusOf(mount), mount));
        },
      },
    },
  ]);
}
