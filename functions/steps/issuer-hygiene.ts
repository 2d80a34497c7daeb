import type { AutoTidy } from '../contracts/env';
import { DEFAULT_MAX_ISSUERS_PER_MOUNT, DEFAULT_RETIRED_ISSUER_GRACE_SECONDS, decideRetention, type RetentionDecision } from '../domain/issuer-retention';
import { issuerOf } from '../domain/issuer-match';
import { certificatesFromPem, leafSummary } from '../domain/x509-facts';
import type { AutoTidyConfig } from '../ports/vault-pki';
import type { PkiStepDeps } from './prepare-intermediate';
import { mapBounded } from './bounded-map';


export interface IssuerHygieneReport {
  mount: string;
  /** Issuers on the mount after this step, and the bound a rotation may not pass. */
  issuers: number;
  bound: number;
  deleted: string[];
  /** Every retired issuer kept, with the reason and when it may go. */
  kept: Array<Pick<RetentionDecision, 'issuerId' | 'issuerName' | 'reason'> & { deletableAt: string }>;
  /** Mounts whose `config/auto-tidy` this step wrote (it was not as the config says). */
  autoTidyConfigured: string[];
}

/**
 * Issuer hygiene, at the end of every successful rotation (the daily sweep included): delete the
 * retired issuers of the intermediate mount whose last leaf expired and whose CRL grace is over
 * (domain/issuer-retention.ts), then keep Vault's own tidy scheduled on both mounts
 * (`config/auto-tidy`, VAULT_API.md 4.14: expired certificates, revoked entries, expired issuers).
 *
 * Deleting an issuer keeps its key, and a certificate it signed that is revoked afterwards lands
 * on the default issuer's CRL (4.9): what Vault does, so nothing a relying party checks goes
 * missing. Finding an issuer's last leaf reads the stored certificates once (4.13 LIST certs;
 * Vault's tidy keeps that store to live leaves plus the safety buffer); the read is skipped when
 * no retired certflow issuer is there.
 */
export async function issuerHygiene(deps: PkiStepDeps & { concurrency?: number }): Promise<IssuerHygieneReport> {
  const { pki, settings, log } = deps;
  const mount = settings.intermediateMount;
  const now = deps.clock.now();
  const bound = settings.maxIssuersPerMount ?? DEFAULT_MAX_ISSUERS_PER_MOUNT;
  const grace = settings.retiredIssuerGraceSeconds ?? DEFAULT_RETIRED_ISSUER_GRACE_SECONDS;
  const summaries = await pki.listIssuers(mount);
  const defaultId = await pki.defaultIssuer(mount);
  // Keyed, not the default: the root's keyless copy is the chain's parent and is never touched.
  const details = await Promise.all(summaries.filter((issuer) => issuer.keyId && issuer.issuerId !== defaultId).map((issuer) => pki.readIssuer(mount, issuer.issuerId)));
  const retired = details.filter((issuer) => !issuer.usage.includes('issuing-certificates'));

  const lastLeaf = new Map<string, Date>();
  if (retired.some((issuer) => issuer.issuerName.startsWith('certflow-'))) {
    const candidates = retired.map((issuer) => ({ issuerId: issuer.issuerId, certificatePem: issuer.certificatePem }));
    const serials = await pki.listCertificates(mount);
    await mapBounded(serials, deps.concurrency ?? 8, async (serial) => {
      const stored = await pki.readCertificate(mount, serial);
      const leaf = stored ? leafSummary(stored.certificatePem, `certificate ${serial}`) : undefined;
      const signer = leaf ? issuerOf(leaf, candidates) : undefined;
      if (!leaf || !signer) return;
      const seen = lastLeaf.get(signer);
      if (!seen || leaf.notAfter > seen) lastLeaf.set(signer, leaf.notAfter);
    });
  }

  const decisions = retired.map((issuer) => {
    const [facts] = certificatesFromPem(issuer.certificatePem, `issuer ${issuer.issuerId}`);
    const last = lastLeaf.get(issuer.issuerId);
    return decideRetention({ issuerId: issuer.issuerId, issuerName: issuer.issuerName, usage: issuer.usage, notBefore: facts?.notBefore ?? now, ...(last ? { lastLeafNotAfter: last } : {}) }, now, grace);
  });
  const deleted: string[] = [];
  for (const decision of decisions.filter((entry) => entry.delete)) {
    const { warnings } = await pki.deleteIssuer(mount, decision.issuerId);
    deleted.push(decision.issuerId);
    log.info('retired issuer deleted: its last leaf expired and its CRL grace is over', { issuerId: decision.issuerId, issuerName: decision.issuerName, warnings });
  }

  const autoTidyConfigured = settings.autoTidy ? await keepAutoTidy(deps, settings.autoTidy) : [];
  const report: IssuerHygieneReport = {
    mount,
    issuers: summaries.length - deleted.length,
    bound,
    deleted,
    kept: decisions.filter((entry) => !entry.delete).map((entry) => ({ issuerId: entry.issuerId, issuerName: entry.issuerName, reason: entry.reason, deletableAt: entry.deletableAt.toISOString() })),
    autoTidyConfigured,
  };
  log.info('issuer hygiene', { mount, issuers: report.issuers, bound, deleted: deleted.length, kept: report.kept.length, autoTidyConfigured });
  return report;
}

/** Vault's own tidy on both mounts, written only where it differs from the config. */
async function keepAutoTidy(deps: PkiStepDeps, wanted: AutoTidy): Promise<string[]> {
  const config: AutoTidyConfig = {
    enabled: true,
    intervalSeconds: wanted.intervalSeconds,
    tidyCertStore: true,
    tidyRevokedCerts: true,
    tidyRevokedCertIssuerAssociations: true,
    tidyExpiredIssuers: true,
    safetyBufferSeconds: wanted.safetyBufferSeconds,
    issuerSafetyBufferSeconds: wanted.issuerSafetyBufferSeconds,
  };
  const written: string[] = [];
  for (const mount of [deps.settings.rootMount, deps.settings.intermediateMount]) {
    const current = await deps.pki.readAutoTidy(mount);
    if ((Object.keys(config) as Array<keyof AutoTidyConfig>).every((key) => current[key] === config[key])) continue;
    await deps.pki.writeAutoTidy(mount, config);
    written.push(mount);
  }
  return written;
}
