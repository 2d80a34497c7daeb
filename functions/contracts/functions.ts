import { createHash } from 'node:crypto';

/**
 * The registry of Lambda functions: the construct in lib/ builds one function per entry, and the
 * local runner maps each task to the handler named here. Paths are relative to the repo root.
 */
export type Capability = 'unseal' | 'pki' | 'rotation' | 'expiry';

/**
 * The Vault identity a function logs in with: one Vault auth role and one policy per group
 * (deploy/vault/certflow-<group>.json), the role bound to exactly the IAM roles of the group's
 * functions. A function without one never logs in: the unseal functions call only Vault's
 * unauthenticated sys/seal-status and sys/unseal, and the others touch no Vault at all. The
 * compromise group alone may revoke; the rotation group alone issues and switches issuers.
 */
export const VaultIdentityGroups = ['rotation', 'compromise'] as const;
export type VaultIdentityGroup = (typeof VaultIdentityGroups)[number];

export const FunctionRegistry = {
  UnsealDiscover: {
    capability: 'unseal',
    entry: 'functions/handlers/unseal-discover.handler.ts',
    description: 'Lists the Vault nodes to unseal (configured addresses).',
    timeoutSeconds: 30,
  },
  UnsealNode: {
    capability: 'unseal',
    entry: 'functions/handlers/unseal-node.handler.ts',
    description: 'Unseals one Vault node with KMS-wrapped Shamir shares.',
    timeoutSeconds: 60,
  },
  UnsealReport: {
    capability: 'unseal',
    entry: 'functions/handlers/unseal-report.handler.ts',
    description: 'Re-reads every node, publishes VaultSealed metrics and builds the unseal event.',
    timeoutSeconds: 30,
  },
  PrepareIntermediate: {
    capability: 'pki',
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/prepare-intermediate.handler.ts',
    description: 'Makes, signs, imports and verifies the run\'s new intermediate issuer (not default yet).',
    timeoutSeconds: 120,
  },
  ActivateIssuer: {
    capability: 'pki',
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/activate-issuer.handler.ts',
    description: 'Makes the run\'s intermediate the default issuer.',
    timeoutSeconds: 30,
  },
  RetireIssuer: {
    capability: 'pki',
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/retire-issuer.handler.ts',
    description: 'Stops the old intermediate issuing; it keeps signing its CRL.',
    timeoutSeconds: 30,
  },
  RestoreIssuer: {
    capability: 'pki',
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/restore-issuer.handler.ts',
    description: 'Rollback: issuance back on the previous default issuer.',
    timeoutSeconds: 30,
  },
  Preflight: {
    capability: 'rotation',
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/preflight.handler.ts',
    description: 'Checks Vault (unsealing sealed nodes), the token, mounts, role and clusters; records the default issuer.',
    timeoutSeconds: 120,
  },
  PlanRotation: {
    capability: 'rotation',
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/plan-rotation.handler.ts',
    description: 'Discovers targets, decides what is due, stores the batches in the ledger.',
    timeoutSeconds: 300,
  },
  RenewBatch: {
    capability: 'rotation',
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/renew-batch.handler.ts',
    description: 'Backs up and renews one batch of targets.',
    timeoutSeconds: 300,
  },
  CheckBatch: {
    capability: 'rotation',
    entry: 'functions/handlers/check-batch.handler.ts',
    description: 'Looks once at a batch: cert-manager issuance and workload rollouts.',
    timeoutSeconds: 60,
  },
  VerifyBatch: {
    capability: 'rotation',
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/verify-batch.handler.ts',
    description: 'Verifies one batch: chains, names, keys, issuer, and an mTLS handshake per endpoint.',
    timeoutSeconds: 300,
  },
  RestoreBatch: {
    capability: 'rotation',
    entry: 'functions/handlers/restore-batch.handler.ts',
    description: 'Rollback: puts one batch of Secrets back from their backups and restarts workloads.',
    timeoutSeconds: 300,
  },
  PublishTrust: {
    capability: 'rotation',
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/publish-trust.handler.ts',
    description: 'Publishes (or restores) each namespace trust bundle.',
    timeoutSeconds: 120,
  },
  FinalizeRotation: {
    capability: 'rotation',
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/finalize-rotation.handler.ts',
    description: 'Retires the old issuer, cleans old backups, writes the ledger, builds the success event.',
    timeoutSeconds: 120,
  },
  RecordRollback: {
    capability: 'rotation',
    entry: 'functions/handlers/record-rollback.handler.ts',
    description: 'Writes the rollback to the ledger and builds the Rotation Rolled Back event.',
    timeoutSeconds: 60,
  },
  CompromiseValidate: {
    capability: 'rotation',
    entry: 'functions/handlers/compromise-validate.handler.ts',
    description: 'Validates a Compromise Reported event; an invalid one becomes a Compromise Rejected detail.',
    timeoutSeconds: 30,
  },
  PreemptRotation: {
    capability: 'rotation',
    entry: 'functions/handlers/preempt-rotation.handler.ts',
    description: 'Stops every running Rotation execution so the compromise response can take the lock.',
    timeoutSeconds: 60,
  },
  CompromisePlan: {
    capability: 'rotation',
    vaultIdentity: 'compromise',
    entry: 'functions/handlers/compromise-plan.handler.ts',
    description: 'Finds the blast radius of a compromise report and stores the affected targets as batches.',
    timeoutSeconds: 300,
  },
  CompromiseRevoke: {
    capability: 'rotation',
    vaultIdentity: 'compromise',
    entry: 'functions/handlers/compromise-revoke.handler.ts',
    description: 'Revokes the compromised serials (and issuer), rebuilds the CRLs and confirms each serial on them.',
    timeoutSeconds: 300,
  },
  CompromiseReport: {
    capability: 'rotation',
    entry: 'functions/handlers/compromise-report.handler.ts',
    description: 'Builds the Compromise Contained detail (blast radius, timings) from the ledger.',
    timeoutSeconds: 60,
  },
  ReleaseStaleLock: {
    capability: 'rotation',
    entry: 'functions/handlers/release-stale-lock.handler.ts',
    description: 'Releases the rotation lock held by an execution that was aborted or timed out.',
    timeoutSeconds: 30,
  },
  ExpiryTargets: {
    capability: 'expiry',
    entry: 'functions/handlers/expiry-targets.handler.ts',
    description: 'Expiry sweep: reads every declared target\'s stored certificate and the one its endpoint serves (read only).',
    timeoutSeconds: 300,
  },
  ExpiryIssuers: {
    capability: 'expiry',
    // Reads issuers only: the rotation group's policy has read on both mounts.
    vaultIdentity: 'rotation',
    entry: 'functions/handlers/expiry-issuers.handler.ts',
    description: 'Expiry sweep: reads every issuer of the root and intermediate mounts (read only).',
    timeoutSeconds: 60,
  },
  ExpiryReport: {
    capability: 'expiry',
    entry: 'functions/handlers/expiry-report.handler.ts',
    description: 'Expiry sweep: days to expiry as metrics, the Certificate Expiring events, the alarm thresholds met.',
    timeoutSeconds: 60,
  },
} as const satisfies Record<string, { capability: Capability; vaultIdentity?: VaultIdentityGroup; entry: string; description: string; timeoutSeconds: number }>;


export type FunctionId = keyof typeof FunctionRegistry;
export const FunctionIds = Object.keys(FunctionRegistry) as FunctionId[];

/** The functions of one capability (each capability's functions share one environment). */
export function functionsOf(capability: Capability): FunctionId[] {
  return FunctionIds.filter((id) => FunctionRegistry[id].capability === capability);
}

/** The Vault identity of a function, or undefined when it has none (it never logs in to Vault). */
export function vaultIdentityOf(functionId: FunctionId): VaultIdentityGroup | undefined {
  const entry = FunctionRegistry[functionId];
  return 'vaultIdentity' in entry ? entry.vaultIdentity : undefined;
}

/** The functions that log in to Vault as `group`. */
export function functionsWithVaultIdentity(group: VaultIdentityGroup): FunctionId[] {
  return FunctionIds.filter((id) => vaultIdentityOf(id) === group);
}

/**
 * Environment variables of PreemptRotation beyond the rotation environment. Only that function
 * gets them: the Rotation state machine never learns of the compromise response, so the two
 * state machines do not depend on each other in a cycle.
 */
export const PreemptEnvNames = {
  /** ARN of the Rotation state machine whose running executions a compromise response stops. */
  RotationStateMachineArn: 'CERTFLOW_ROTATION_STATE_MACHINE_ARN',
  /**
   * `true` makes every Step Functions call fail with a retryable AwsUnavailableError (set by no
   * deployment; a test sets it to prove the response never skips preemption silently).
   */
  SfnDisabled: 'CERTFLOW_SFN_DISABLED',
} as const;

/** Metric names and dimensions published by the functions and alarmed on by lib/. */
export const Metrics = {
  Namespace: 'Certflow',
  /** 1 when a node is sealed after an unseal run, else 0; dimensions Cluster and Node. */
  VaultSealed: 'VaultSealed',
  /** How many nodes of a cluster are sealed after an unseal run; dimension Cluster (the alarm's metric). */
  VaultSealedNodes: 'VaultSealedNodes',
  /** How many nodes an unseal run refused as not the configured Vault (VaultIdentityMismatchError); dimension Cluster. */
  VaultImpostorNodes: 'VaultImpostorNodes',
  /** How many sealed nodes an unseal run left sealed because the kill switch holds unseal; dimension Cluster. */
  UnsealPausedNodes: 'UnsealPausedNodes',
  NodeDimension: 'Node',
  ClusterDimension: 'Cluster',
  /**
   * X.509 certificates a function parsed in one invocation (each content once: a repeat is a cache
   * hit); dimension Function. What the counters test sums to bound the parses per service.
   */
  X509Parses: 'X509Parses',
  FunctionDimension: 'Function',
  // The expiry sweep's gauges (ExpiryReport), days to the hundredth; negative once expired.
  /** Days until a target's leaf expires; dimensions Cluster, Target and Copy (`stored` in the Secret, `served` by a stale endpoint). */
  TargetDaysToExpiry: 'TargetDaysToExpiry',
  /** Days until an issuer expires (root, intermediate, mesh CA); dimensions Cluster, IssuerRole and Issuer. */
  IssuerDaysToExpiry: 'IssuerDaysToExpiry',
  /** The fewest days left of any leaf, stored or served; dimension Cluster (the LeafExpiring alarm's metric). */
  SoonestLeafDaysToExpiry: 'SoonestLeafDaysToExpiry',
  /** The fewest days left of an issuer that still signs, per role; dimensions Cluster and IssuerRole (the CA alarms' metric). */
  SoonestIssuerDaysToExpiry: 'SoonestIssuerDaysToExpiry',
  /** Targets whose Secret is missing or unreadable, whose endpoint is unreachable or serves another certificate; dimension Cluster. */
  UnhealthyTargets: 'UnhealthyTargets',
  TargetDimension: 'Target',
  CopyDimension: 'Copy',
  IssuerDimension: 'Issuer',
  IssuerRoleDimension: 'IssuerRole',
  // The fan-out's counts, one document each per RenewBatch / VerifyBatch invocation (Rotation and
  // Compromise reissue alike): summed over a period they are the renewals and verdicts of that period.
  /** Targets a RenewBatch invocation renewed (or asked cert-manager to renew); a target an earlier attempt renewed is not counted again. Dimension Cluster. */
  RenewalsSucceeded: 'RenewalsSucceeded',
  /** Targets whose renewal failed in a RenewBatch invocation (the batch then fails and the run rolls back); dimension Cluster. */
  RenewalsFailed: 'RenewalsFailed',
  /** Verdicts of a VerifyBatch invocation, per verdict; dimensions Cluster and Verdict (a bounded set: VerdictMetricValues). */
  VerificationVerdicts: 'VerificationVerdicts',
  /** Verdicts of a VerifyBatch invocation other than Valid (0 when none); dimension Cluster. */
  VerificationsRefused: 'VerificationsRefused',
  VerdictDimension: 'Verdict',
  /**
   * Powertools Metrics adds the service name to every EMF document as a dimension (`service`), so a
   * metric CloudWatch stores carries it: an alarm or a widget that leaves it out watches nothing.
   */
  ServiceDimension: 'service',
  ServiceName: 'certflow',
} as const;

/** IAM's limit on a role name. */
const MAX_ROLE_NAME_LENGTH = 64;

/**
 * The IAM role name of one function in one deployment: `certflow-<deployment>-<FunctionId>`.
 * Deterministic so that Vault's AWS IAM auth roles can be bound to exact role ARNs before the
 * stack exists. A deployment name too long for IAM's 64 characters is cut and a short digest of
 * the whole name appended, so two long names that share a prefix still get different roles.
 */
export function functionRoleName(deploymentName: string, functionId: FunctionId): string {
  const full = `certflow-${deploymentName}-${functionId}`;
  if (full.length <= MAX_ROLE_NAME_LENGTH) return full;
  const digest = createHash('sha256').update(deploymentName).digest('hex').slice(0, 8);
  const room = MAX_ROLE_NAME_LENGTH - `certflow--${digest}-${functionId}`.length;
  return `certflow-${deploymentName.slice(0, room)}-${digest}-${functionId}`;
}
