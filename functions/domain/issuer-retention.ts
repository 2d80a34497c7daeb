/**
 * Which retired issuers may go (issue 16; hashicorp/vault#22980 and #29083: every issuer a mount
 * keeps slows it down, and certflow adds one per rotation). Ordered checks, each naming a reason,
 * as renewal-policy.ts does:
 *
 *  1. NotCertflowIssuer  not named `certflow-<run>`: an operator's issuer is reported, never deleted
 *  2. StillIssues        its usage still has issuing-certificates (not retired)
 *  3. LeafStillValid     a leaf it signed has not expired yet
 *  4. InCrlGrace         its last leaf expired, but a relying party may still hold its last CRL
 *  5. LastLeafExpired    delete it
 *
 * The last leaf is the latest notAfter among the certificates the mount stores that this issuer
 * signed. With none stored (Vault's tidy removed them once expired, or it signed none) it is the
 * issuer's own notBefore: certflow's role stores every leaf (no_store false, VAULT_API.md 4.15).
 * The grace covers the issuer's last CRL: relying parties may cache it until its nextUpdate, and
 * a serial it listed must not seem unknown before then. The default issuer is never a candidate.
 */
/** config pki.maxIssuersPerMount's default. */
export const DEFAULT_MAX_ISSUERS_PER_MOUNT = 50;
/** config pki.retiredIssuerGrace's default: Vault's CRL expiry (4.13 config/crl). */
export const DEFAULT_RETIRED_ISSUER_GRACE_SECONDS = 72 * 3600;

export const RetentionReasons = {
  NotCertflowIssuer: 'NotCertflowIssuer',
  StillIssues: 'StillIssues',
  LeafStillValid: 'LeafStillValid',
  InCrlGrace: 'InCrlGrace',
  LastLeafExpired: 'LastLeafExpired',
} as const;
export type RetentionReason = (typeof RetentionReasons)[keyof typeof RetentionReasons];

export interface RetiredIssuerFacts {
  issuerId: string;
  issuerName: string;
  usage: readonly string[];
  notBefore: Date;
  /** The latest notAfter of the stored certificates it signed; undefined when none are stored. */
  lastLeafNotAfter?: Date;
}

export interface RetentionDecision {
  issuerId: string;
  issuerName: string;
  delete: boolean;
  reason: RetentionReason;
  /** When the issuer may be deleted (its last leaf's notAfter plus the grace). */
  deletableAt: Date;
}

export function decideRetention(issuer: RetiredIssuerFacts, now: Date, graceSeconds: number): RetentionDecision {
  const lastLeaf = issuer.lastLeafNotAfter ?? issuer.notBefore;
  const deletableAt = new Date(lastLeaf.getTime() + graceSeconds * 1000);
  const decide = (reason: RetentionReason): RetentionDecision => ({ issuerId: issuer.issuerId, issuerName: issuer.issuerName, delete: reason === RetentionReasons.LastLeafExpired, reason, deletableAt });
  if (!issuer.issuerName.startsWith('certflow-')) return decide(RetentionReasons.NotCertflowIssuer);
  if (issuer.usage.includes('issuing-certificates')) return decide(RetentionReasons.StillIssues);
  if (now < lastLeaf) return decide(RetentionReasons.LeafStillValid);
  if (now < deletableAt) return decide(RetentionReasons.InCrlGrace);
  return decide(RetentionReasons.LastLeafExpired);
}
