import { CompromiseDetailTypes } from '../../functions/contracts/compromise';
import { ErrorNames } from '../../functions/contracts/errors';

/**
 * State names of the CompromiseResponse state machine. aws-local-stepfunctions keys its overrides
 * by state name, so every name is unique across the whole definition (the Reissue Map's iterator
 * included) and distinct from the Rotation's names, so a log line or a fault names one state.
 */
export const CompromiseStates = {
  /** CompromiseValidate on the whole event: `$.validation`. */
  ValidateReport: 'ValidateReport',
  /** Pass: `{validation}` only; the raw event leaves the state here. */
  KeepValidation: 'KeepValidation',
  ReportValid: 'ReportValid?',
  /** An invalid report: `Compromise Rejected`, then a successful end that changed nothing. */
  EmitRejected: 'EmitRejected',
  RejectedOutcome: 'RejectedOutcome',
  Rejected: 'Rejected',
  /**
   * The gate, before anything running is touched: the blast radius is planned first, and a scope
   * that names anything unmanaged ends Rejected (Compromise Rejected) with nothing preempted or locked.
   */
  PlanCompromise: 'PlanCompromise',
  ScopeAccepted: 'ScopeAccepted?',
  ScopeRejectedDetail: 'ScopeRejectedDetail',
  EmitScopeRejected: 'EmitScopeRejected',
  ScopeRejectedOutcome: 'ScopeRejectedOutcome',
  /**
   * Dual control for an `intermediate` scope (unless the config approves automatically): the
   * pending approval is recorded in the run's ledger, then `Compromise Approval Requested` names
   * the blast radius and waits for its task token (`certflow approve|deny <run>`). Before the
   * lock, so a report that waits preempts nothing. Denied: Rejected, nothing changed; timed out:
   * failed (alarmed), nothing changed.
   */
  NeedsApproval: 'NeedsApproval?',
  /**
   * Before waiting: a response for the same scope that holds the lock, or a report for the same
   * scope already waiting for approval (its claim), refuses this one at once, named in that run's
   * ledger. Otherwise this run claims the scope until its wait ends (approved, denied, timed out, failed).
   */
  ReadLockBeforeApproval: 'ReadLockBeforeApproval',
  SameScopeRunningBeforeApproval: 'SameScopeRunningBeforeApproval?',
  ClaimPendingScope: 'ClaimPendingScope',
  ReadPendingClaim: 'ReadPendingClaim',
  PendingClaimHeld: 'PendingClaimHeld?',
  DuplicatePendingOf: 'DuplicatePendingOf',
  ReleaseClaimApproved: 'ReleaseClaimApproved',
  ReleaseClaimDenied: 'ReleaseClaimDenied',
  ReleaseClaimTimedOut: 'ReleaseClaimTimedOut',
  ReleaseClaimFailed: 'ReleaseClaimFailed',
  ApprovalRequest: 'ApprovalRequest',
  RecordPendingApproval: 'RecordPendingApproval',
  AwaitApproval: 'AwaitApproval',
  ApprovalDenied: 'ApprovalDenied',
  ApprovalDeniedDetail: 'ApprovalDeniedDetail',
  EmitApprovalDenied: 'EmitApprovalDenied',
  ApprovalDeniedOutcome: 'ApprovalDeniedOutcome',
  EmitApprovalTimedOut: 'EmitApprovalTimedOut',
  ApprovalTimedOut: 'ApprovalTimedOut',
  /**
   * Take the lock unless another compromise response holds it (a rotation's lock is taken over:
   * the response preempts). Held by a response for the same scope: refused, and recorded in that
   * response's ledger; for another scope: wait and try again, so two responses never run at once.
   */
  TakeLock: 'TakeLock',
  ReadHeldLock: 'ReadHeldLock',
  SameScopeRunning: 'SameScopeRunning?',
  WaitForLock: 'WaitForLock',
  DuplicateOf: 'DuplicateOf',
  DuplicateDetail: 'DuplicateDetail',
  RecordDuplicate: 'RecordDuplicate',
  EmitDuplicateRejected: 'EmitDuplicateRejected',
  DuplicateOutcome: 'DuplicateOutcome',
  /** Stop every running Rotation execution (the response holds the lock by now). */
  PreemptRotation: 'PreemptRotation',
  /** The rotation's Preflight (trigger compromise, forceRenewal): `$.preflight.run`, moved to `$.run`. */
  Preflight: 'CompromisePreflight',
  RecordRun: 'RecordCompromiseRun',
  IntermediateScope: 'IntermediateScope?',
  PrepareNewIntermediate: 'PrepareNewIntermediate',
  ActivateNewIntermediate: 'ActivateNewIntermediate',
  /** Inline Map over `$.plan.batchIds`; no canary (containment does not wait for one). */
  Reissue: 'Reissue',
  ReissueBatch: 'ReissueBatch',
  WaitReissue: 'WaitReissue',
  CheckReissue: 'CheckReissue',
  ReissueDone: 'ReissueDone?',
  VerifyReissued: 'VerifyReissued',
  ReissueTimedOut: 'ReissueTimedOut',
  /** Revoke: the leaves only, or the intermediate too (with or without its known serial). */
  RevokeScope: 'RevokeScope?',
  RevokeCompromised: 'RevokeCompromised',
  RevokeCompromisedIssuer: 'RevokeCompromisedIssuer',
  RevokeCompromisedIssuerBySerial: 'RevokeCompromisedIssuerBySerial',
  /** Ids for CompromiseReport: the run id, plus the new issuer when one took over. */
  NewIssuerMade: 'NewIssuerMade?',
  ReportIds: 'ReportIds',
  ReportIdsWithNewIssuer: 'ReportIdsWithNewIssuer',
  ReportInput: 'ReportInput',
  ReportContained: 'ReportContained',
  EmitContained: 'EmitContained',
  ReleaseCompromiseLock: 'ReleaseCompromiseLock',
  ContainedOutcome: 'ContainedOutcome',
  Contained: 'Contained',
  /** Any failure: event, release, Fail. Never a rollback to compromised material. */
  EmitResponseFailed: 'EmitResponseFailed',
  ReleaseLockAfterResponseFailure: 'ReleaseLockAfterResponseFailure',
  ResponseFailed: 'ResponseFailed',
} as const;

export const AllCompromiseStateNames: readonly string[] = Object.values(CompromiseStates);

/** Errors of the CompromiseResponse state machine's Fail states (what the alarm and the CLI read). */
export const CompromiseErrors = {
  /** The response failed and stopped where it was: no rollback (DESIGN.md Compromise response). */
  ResponseFailed: 'CompromiseResponseFailed',
  /** A batch did not roll out before CheckBatch reached its bound. */
  RolloutTimeout: ErrorNames.RolloutTimeout,
  /** No approval (nor denial) of an intermediate report within its timeout: nothing changed. */
  ApprovalTimedOut: 'CompromiseApprovalTimedOut',
} as const;

/** What `certflow deny` sends (SendTaskFailure's error): the report is refused and changes nothing. */
export const CompromiseApprovalErrors = { Denied: 'CompromiseApprovalDenied' } as const;

/** The ledger entry of a pending (intermediate) approval, in the run's ledger (sk `log#<entry>`). */
export const CompromiseApprovalEntry = 'compromise#approval';

/** Outcomes in the execution's output (`outcome`). */
export const CompromiseOutcomes = { Rejected: 'Rejected', Contained: 'Contained' } as const;

/** The lock item's attribute that marks a compromise response as its holder (and the scope it contains). */
export const CompromiseLockAttributes = { Holder: 'holder', HolderValue: 'compromise', ScopeKey: 'scopeKey' } as const;

export { CompromiseDetailTypes };
