/**
 * The per-node unseal decision (DESIGN.md, Unseal step 2; VAULT_API.md 2.1, 2.2, 3.2).
 * Pure: it looks at one `sys/seal-status` snapshot and says what to do, with a named reason.
 * Checks run in order; the first that matches decides.
 */

/** The fields of `sys/seal-status` the decision depends on. */
export interface SealSnapshot {
  type: string;
  initialized: boolean;
  sealed: boolean;
  t: number;
  progress: number;
  migration: boolean;
  recoverySeal: boolean;
}

export const UnsealReasons = {
  /** Nothing to do. */
  AlreadyUnsealed: 'AlreadyUnsealed',
  /** `initialized: false`: `certflow vault-init` is the explicit bootstrap; never automatic. */
  Uninitialized: 'Uninitialized',
  /**
   * An auto-unseal (awskms) node is sealed: it cannot reach KMS or lacks IAM rights. Keys sent to
   * it would be treated as barrier keys and fail (P12), so the node is reported, never fed keys.
   */
  AutoUnsealSealed: 'AutoUnsealSealed',
  /** A seal migration is pending: it needs `migrate: true` from a human, not the scheduled unsealer. */
  MigrationPending: 'MigrationPending',
  /** Shamir-sealed with no attempt in progress: submit `t` distinct shares. */
  ShamirSealed: 'ShamirSealed',
  /**
   * Shamir-sealed with progress left by another attempt (a dead Lambda, a human with the CLI).
   * Progress is in memory and shared by every caller of the node (2.2), and this run submits all
   * `t` shares itself, so any progress at the start is stale: reset first, or shares mix.
   */
  StaleProgress: 'StaleProgress',
} as const;
export type UnsealReason = (typeof UnsealReasons)[keyof typeof UnsealReasons];

export type UnsealDecision =
  | { action: 'none'; reason: typeof UnsealReasons.AlreadyUnsealed }
  | {
      action: 'report';
      reason: typeof UnsealReasons.Uninitialized | typeof UnsealReasons.AutoUnsealSealed | typeof UnsealReasons.MigrationPending;
    }
  | {
      action: 'submit-shares';
      reason: typeof UnsealReasons.ShamirSealed | typeof UnsealReasons.StaleProgress;
      resetFirst: boolean;
      sharesNeeded: number;
    };

export function isAutoUnseal(status: Pick<SealSnapshot, 'type' | 'recoverySeal'>): boolean {
  return status.recoverySeal || status.type !== 'shamir';
}

export function decideUnseal(status: SealSnapshot): UnsealDecision {
  if (!status.initialized) return { action: 'report', reason: UnsealReasons.Uninitialized };
  if (!status.sealed) return { action: 'none', reason: UnsealReasons.AlreadyUnsealed };
  if (isAutoUnseal(status)) return { action: 'report', reason: UnsealReasons.AutoUnsealSealed };
  if (status.migration) return { action: 'report', reason: UnsealReasons.MigrationPending };
  if (status.progress > 0) {
    return { action: 'submit-shares', reason: UnsealReasons.StaleProgress, resetFirst: true, sharesNeeded: status.t };
  }
  return { action: 'submit-shares', reason: UnsealReasons.ShamirSealed, resetFirst: false, sharesNeeded: status.t };
}

/**
 * What one answer to a submitted share means. Vault clears its partial state at the threshold
 * whether or not the key set was right (2.2), so "still sealed with progress 0 after the last
 * share" means the set was refused even when Vault answered 200.
 */
export type ShareOutcome = 'unsealed' | 'accepted' | 'rejected' | 'interfered';

export function judgeShareAnswer(answer: { sealed: boolean; progress: number }, submitted: number, threshold: number): ShareOutcome {
  if (!answer.sealed) return 'unsealed';
  if (submitted >= threshold) return 'rejected';
  // Our own shares raise progress one by one; anything else means another caller reset or mixed in.
  if (answer.progress !== submitted) return 'interfered';
  return 'accepted';
}

/** What the config says the Vault cluster is: the identity a node must show before it gets a share. */
export interface ExpectedVault {
  /** vault.threshold: exactly this many shares, never the node's own `t`. */
  threshold: number;
  /** vault.shares: the `n` the cluster was initialized with. */
  shares: number;
  /** The `cluster_id` Vault reports once unsealed; unchecked when not configured. */
  reportedClusterId?: string;
}

/**
 * Why a node is not the configured Vault, or undefined when nothing it reports disagrees. Vault
 * reports `t` and `n` while sealed and `cluster_id` only once unsealed (VAULT_API.md 2.1), so a
 * sealed node can be judged by its threshold alone: an impostor answering `t = n` must get
 * nothing, rather than every share. An uninitialized node reports t = n = 0 and is left to the
 * Uninitialized report.
 */
export function identityMismatch(status: SealSnapshot & { n: number; clusterId?: string }, expected: ExpectedVault): string | undefined {
  if (!status.initialized) return undefined;
  // An auto-unseal node reports its recovery threshold, which is not the unseal configuration.
  if (!isAutoUnseal(status)) {
    if (status.t !== expected.threshold) return `reports threshold ${status.t}, configured ${expected.threshold}`;
    if (status.n !== expected.shares) return `reports ${status.n} shares, configured ${expected.shares}`;
  }
  if (expected.reportedClusterId && status.clusterId !== undefined && status.clusterId !== expected.reportedClusterId) {
    return `reports cluster id ${status.clusterId}, configured ${expected.reportedClusterId}`;
  }
  return undefined;
}
