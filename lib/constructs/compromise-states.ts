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
  /** Stop every running Rotation execution, then take the lock unconditionally. */
  PreemptRotation: 'PreemptRotation',
  TakeLock: 'TakeLock',
  /** The rotation's Preflight (trigger compromise, forceRenewal): `$.preflight.run`, moved to `$.run`. */
  Preflight: 'CompromisePreflight',
  RecordRun: 'RecordCompromiseRun',
  PlanCompromise: 'PlanCompromise',
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
} as const;

/** Outcomes in the execution's output (`outcome`). */
export const CompromiseOutcomes = { Rejected: 'Rejected', Contained: 'Contained' } as const;

export { CompromiseDetailTypes };
