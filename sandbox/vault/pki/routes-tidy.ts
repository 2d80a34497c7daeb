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
    const tidy = parseTidyRequest(request);
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
