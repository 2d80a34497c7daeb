import { ErrorNames } from '../../functions/contracts/errors';
import { ROTATION_ROLLED_BACK_ERROR, RotationStates } from '../../functions/contracts/rotation-payloads';

/**
 * Names of the Rotation state machine beyond the contract's RotationStates: the request
 * normalisation at the start, the terminal states of each outcome, and the choices and passes
 * around the wait loops and the rollback. aws-local-stepfunctions keys its overrides by state
 * name, so every name here and in RotationStates is unique across the whole definition,
 * nested Map iterators included.
 */
export const RotationExtraStates = {
  /** Pass: `{request: <execution input>, requestDefaults}`. */
  Init: 'Init',
  /** Pass: `request` = the defaults of RotationRequestSchema merged under the input. */
  ApplyRequestDefaults: 'ApplyRequestDefaults',
  /** Succeed after AlreadyRunning. */
  EndAlreadyRunning: 'EndAlreadyRunning',
  /** Pass: Preflight's answer to `$.run` (RunContext has optional fields a selector cannot copy). */
  RecordRun: 'RecordRun',
  /** Failure before anything changed (EmitStarted, Preflight or Plan): event, release, Fail. */
  EmitAborted: 'EmitAborted',
  ReleaseLockAfterAbort: 'ReleaseLockAfterAbort',
  Aborted: 'Aborted',
  /** Pass: the canary's wait loop reached its bound; sets `$.failure` and enters the rollback. */
  CanaryTimedOut: 'CanaryTimedOut',
  /** End states of one batch's renew loop (in the RotationWave state machine). */
  BatchRolledOut: 'BatchRolledOut',
  BatchTimedOut: 'BatchTimedOut',
  /**
   * The iteration of FanOut, VerifyAll and RestoreTargets: start one RotationWave execution and wait
   * for it (`.sync:2`); on its failure, parse its DescribeExecution answer (`...Failure`) and fail
   * with its own error and cause (`...Failed`).
   */
  RenewWave: 'RenewWave',
  RenewWaveFailure: 'RenewWaveFailure',
  RenewWaveFailed: 'RenewWaveFailed',
  VerifyWave: 'VerifyWave',
  VerifyWaveFailure: 'VerifyWaveFailure',
  VerifyWaveFailed: 'VerifyWaveFailed',
  RestoreWave: 'RestoreWave',
  RestoreWaveFailure: 'RestoreWaveFailure',
  RestoreWaveFailed: 'RestoreWaveFailed',
  /** The rollback's entry: the lock is marked rolling back, so a compromise response waits for it. */
  MarkRollingBack: 'MarkRollingBack',
  /** Restore the issuer only if this run made one. */
  NewIssuerPrepared: 'NewIssuerPrepared?',
  /** Restore the trust bundles only if this run published any. */
  TrustPublished: 'TrustPublished?',
  /** The rollback itself failed: event, release, Fail (RotationRollbackFailed). */
  EmitRollbackFailed: 'EmitRollbackFailed',
  ReleaseLockAfterRollbackFailure: 'ReleaseLockAfterRollbackFailure',
  RollbackFailed: 'RollbackFailed',
} as const;

/** What a wave does with its batches (the input's `step`). */
export const WaveSteps = { renew: 'renew', verify: 'verify', restore: 'restore' } as const;
export type WaveStep = (typeof WaveSteps)[keyof typeof WaveSteps];

/** State names of the RotationWave state machine beyond the batch states of RotationStates. */
export const RotationWaveStates = {
  /** DynamoDB GetItem: the wave's batch ids from the ledger (WaveManifest), at `$.manifest`. */
  ReadWave: 'ReadWaveBatches',
  /** Choice on `$.step`. */
  Step: 'WaveStep?',
  RenewBatches: 'RenewBatches',
  VerifyBatches: 'VerifyBatches',
  RestoreBatches: 'RestoreBatches',
  UnknownStep: 'UnknownWaveStep',
} as const;

/** Every state name of the Rotation state machine. */
export const AllRotationStateNames: readonly string[] = [...Object.values(RotationStates), ...Object.values(RotationExtraStates)];

/** Errors of the Rotation state machine's Fail states and passes (what alarms and the CLI read). */
export const RotationErrors = {
  /** A verified rollback: the run changed things, failed, and put everything back. */
  RolledBack: ROTATION_ROLLED_BACK_ERROR,
  /** The rollback itself failed: the fleet may be half rotated. Page someone. */
  RollbackFailed: 'RotationRollbackFailed',
  /** The run stopped before changing anything (EmitStarted, Preflight or Plan failed). */
  Aborted: 'RotationAborted',
  /** A batch's wait loop reached its bound (CheckBatch reports `exhausted`, or throws this). */
  RolloutTimeout: ErrorNames.RolloutTimeout,
  /** VerifyBatch found an invalid target (thrown by the Lambda during the rotation phase). */
  VerificationFailed: ErrorNames.VerificationFailed,
} as const;

/**
 * Detail types of the Rotation events on the certflow bus (source `certflow`); the detail is a
 * RotationEventDetail. They belong beside DetailTypes in functions/contracts/events.ts.
 */
export const RotationDetailTypes = {
  Started: 'Rotation Started',
  Succeeded: 'Rotation Succeeded',
  RolledBack: 'Rotation Rolled Back',
  Failed: 'Rotation Failed',
} as const;

/** The Step Functions execution statuses whose lock the stale-lock rule releases. */
export const STALE_LOCK_STATUSES = ['ABORTED', 'TIMED_OUT'] as const;
