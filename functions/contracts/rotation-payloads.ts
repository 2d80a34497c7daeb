import * as z from 'zod';
import { RunIdSchema } from './unseal-payloads';
import { RefusedCandidateSchema } from './target-policy';

/**
 * The Rotation state machine's payloads (DESIGN.md Rotation). The execution's state object is:
 *   { request, run, plan, prepared?, activated?, canary?, failure?, summary? }
 * Every field is an identifier, a count, a serial or a reason: targets are kept in the ledger
 * table by batch id and loaded by the batch steps, so payloads stay small at any fleet size.
 */

/** What a caller (schedule, CLI, compromise response) puts in a Rotation execution's input. */
export const RotationRequestSchema = z
  .object({
    trigger: z.enum(['schedule', 'intermediate-schedule', 'cli', 'compromise', 'sandbox']).default('schedule'),
    /** Rotate the intermediate even when it is not due. */
    forceIntermediate: z.boolean().default(false),
    /** Renew every target even when it is not due. */
    forceRenewal: z.boolean().default(false),
    /** Only these services (names); every discovered target otherwise. */
    services: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();
export type RotationRequest = z.infer<typeof RotationRequestSchema>;

/** Preflight's input: `{runId: $$.Execution.Name, startedAt: $$.Execution.StartTime, request: $.request}`. */
export const PreflightInputSchema = z.object({
  runId: RunIdSchema,
  startedAt: z.iso.datetime({ offset: true }),
  request: RotationRequestSchema.default({ trigger: 'schedule', forceIntermediate: false, forceRenewal: false }),
});
export type PreflightInput = z.infer<typeof PreflightInputSchema>;

/** `$.run`: what every later step needs to know about the run. */
export const RunContextSchema = z.object({
  runId: RunIdSchema,
  /** Restart time of this run's workloads (the execution start): retries restart nothing twice. */
  requestedAt: z.iso.datetime({ offset: true }),
  trigger: z.string(),
  forceIntermediate: z.boolean(),
  forceRenewal: z.boolean(),
  services: z.array(z.string()).optional(),
  /** The intermediate mount's default issuer at preflight: what a rollback restores. */
  previousDefault: z.string(),
  nodesUnsealedByPreflight: z.array(z.string()),
});
export type RunContext = z.infer<typeof RunContextSchema>;

/**
 * Plan's input: the run, and the wave size of the Rotation's definition (history-budget.ts
 * batchesPerWave), so the waves Plan writes to the ledger are the ones the definition was sized for.
 */
export const PlanInputSchema = z.object({ run: RunContextSchema, batchesPerWave: z.number().int().positive().max(1000) });

/**
 * The batch ids of one wave, which Plan writes to the ledger and the RotationWave execution reads
 * itself (a DynamoDB GetItem): the Rotation's state carries wave numbers, not batch ids, so it stays
 * the same size at any fleet size. Key `pk = run#<runId>`, `sk = wave#<group>#<index>`; the ids are
 * a list of strings in the `batchIds` attribute.
 */
export const WaveManifest = {
  skPrefix: 'wave#',
  attribute: 'batchIds',
  /** `fanOut`: the batches the fan-out renews (no canary); `all`: every batch, canary first (verify, rollback). */
  groups: { fanOut: 'fanOut', all: 'all' },
} as const;
export type WaveGroup = (typeof WaveManifest.groups)[keyof typeof WaveManifest.groups];
/** The sort key of a wave's manifest (the state machine builds the same with States.Format). */
export const waveManifestKey = (group: WaveGroup, index: number): string => `${WaveManifest.skPrefix}${group}#${index}`;

/** `$.plan`: the decision. Targets live in the ledger under (runId, batchId). */
export const RotationPlanSchema = z.object({
  runId: RunIdSchema,
  intermediateDue: z.boolean(),
  intermediateReason: z.string(),
  /** True when any target is due (or the intermediate rotates, which renews every target). */
  renewalDue: z.boolean(),
  hasCanary: z.boolean(),
  canaryBatchId: z.string(),
  /** Batches besides the canary's (the ids are in the ledger, by wave). */
  batchCount: z.number().int(),
  /**
   * The wave numbers (0, 1, ...) whose manifests Plan wrote (WaveManifest): `fanOut` for the
   * fan-out Map, `all` (the canary first) for the verify and rollback Maps. One number per wave of
   * batchesPerWave batches, not one id per batch.
   */
  waves: z.object({ fanOut: z.array(z.number().int()), all: z.array(z.number().int()) }),
  targetCount: z.number().int(),
  dueCount: z.number().int(),
  /** Candidates the target policy refused (the first 50; `rejectedCount` counts them all): never written to. */
  rejected: z.array(RefusedCandidateSchema),
  rejectedCount: z.number().int(),
  namespaces: z.array(z.object({ cluster: z.string(), namespace: z.string() })),
});
export type RotationPlan = z.infer<typeof RotationPlanSchema>;

/** Input of RenewBatch / CheckBatch / VerifyBatch / RestoreBatch tasks: the batch is loaded from the ledger. */
export const BatchTaskInputSchema = z.object({
  runId: RunIdSchema,
  requestedAt: z.iso.datetime({ offset: true }),
  batchId: z.string().min(1),
  /** CheckBatch: how many times the wait loop has looked (for the bounded loop). */
  attempt: z.number().int().nonnegative().default(0),
  /** VerifyBatch during rollback: judge against the restored state. */
  phase: z.enum(['rotation', 'rollback']).default('rotation'),
});
export type BatchTaskInput = z.infer<typeof BatchTaskInputSchema>;

/** CheckBatch's answer inside the wait loop. */
export const BatchProgressSchema = z.object({
  runId: RunIdSchema,
  requestedAt: z.string(),
  batchId: z.string(),
  attempt: z.number().int(),
  done: z.boolean(),
  /** True when attempt reached the bound: the state machine fails the batch (RolloutTimeoutError). */
  exhausted: z.boolean(),
  pending: z.number().int(),
  phase: z.enum(['rotation', 'rollback']),
});
export type BatchProgress = z.infer<typeof BatchProgressSchema>;

/**
 * What a wave-running Map of the Rotation keeps (`$.verified`, `$.restored`): how many waves ran.
 * The verdicts stay out of the state: each VerifyBatch records its batch's verdicts in the ledger
 * (`batch#<id>#verify-<phase>`), which Finalize and RecordRollback read.
 */
export const WavesRunSchema = z.object({ waves: z.number().int().nonnegative() });

/** FinalizeRotation's input: the run, the plan, the activation (if any) and how many verify waves ran. */
export const FinalizeInputSchema = z.object({
  run: RunContextSchema,
  plan: RotationPlanSchema,
  activated: z.object({ activeIssuerId: z.string(), previousDefault: z.string(), changed: z.boolean() }).optional(),
  verified: WavesRunSchema,
});

/** Rollback bookkeeping input: what failed, caught by a Catch (`{Error, Cause}`). */
export const RollbackInputSchema = z.object({
  run: RunContextSchema,
  plan: RotationPlanSchema.optional(),
  prepared: z.object({ issuerId: z.string() }).passthrough().optional(),
  failure: z.object({ Error: z.string(), Cause: z.string().optional() }),
  restored: WavesRunSchema.optional(),
});

/** Detail of Rotation Started / Succeeded / Rolled Back / Failed (never key material). */
export const RotationEventDetailSchema = z.object({
  runId: z.string(),
  trigger: z.string(),
  outcome: z.enum(['Started', 'Succeeded', 'RolledBack', 'Failed', 'AlreadyRunning']),
  intermediate: z.object({ rotated: z.boolean(), previousIssuer: z.string().optional(), newIssuer: z.string().optional(), reason: z.string().optional() }).optional(),
  counts: z
    .object({
      targets: z.number().int(),
      renewed: z.number().int(),
      verified: z.number().int(),
      restored: z.number().int(),
      /** Of `restored`: verified by the served chain only, without certflow's client certificate (Vault could not issue it). */
      restoredWithoutClientAuth: z.number().int().optional(),
    })
    .optional(),
  services: z.array(z.object({ service: z.string(), oldSerial: z.string().optional(), newSerial: z.string().optional(), verdict: z.string().optional() })).optional(),
  /**
   * Present only when `services` is cut (functions/domain/report-bounds.ts): how many services the
   * run's ledger has. Every one is in the ledger's batch records; `services` lists the ones whose
   * verdict is not as expected first.
   */
  servicesTotal: z.number().int().optional(),
  /** Issuer hygiene at the end of the run: the intermediate mount's issuer count and bound, and the retired issuers deleted. */
  issuers: z.object({ mount: z.string(), count: z.number().int(), bound: z.number().int(), deleted: z.array(z.string()), kept: z.number().int() }).optional(),
  /** Restart waves under a rollout budget, in order: the batch, when, and how many workloads each started. */
  waves: z.array(z.object({ batchId: z.string(), at: z.string(), workloads: z.number().int() })).optional(),
  /** Present only when `waves` is cut: how many restart waves the run recorded (the first ones are listed). */
  wavesTotal: z.number().int().optional(),
  /** Candidates the target policy refused in this run's plan, with the reason (never written to). */
  rejected: z.array(RefusedCandidateSchema).optional(),
  rejectedCount: z.number().int().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});
export type RotationEventDetail = z.infer<typeof RotationEventDetailSchema>;

/** State names of the Rotation state machine: the local runner, the fault tests and the CLI address states by them. */
export const RotationStates = {
  AcquireLock: 'AcquireLock',
  AlreadyRunning: 'AlreadyRunning',
  EmitStarted: 'EmitStarted',
  Preflight: 'Preflight',
  Plan: 'Plan',
  IntermediateDue: 'IntermediateDue?',
  PrepareIntermediate: 'PrepareIntermediate',
  PublishTrust: 'PublishTrust',
  ActivateIssuer: 'ActivateIssuer',
  HasCanary: 'HasCanary?',
  RenewCanary: 'RenewCanary',
  WaitCanary: 'WaitCanary',
  CheckCanary: 'CheckCanary',
  CanaryDone: 'CanaryDone?',
  VerifyCanary: 'VerifyCanary',
  FanOut: 'FanOut',
  RenewBatch: 'RenewBatch',
  WaitBatch: 'WaitBatch',
  CheckBatch: 'CheckBatch',
  BatchDone: 'BatchDone?',
  VerifyAll: 'VerifyAll',
  VerifyBatch: 'VerifyBatch',
  Finalize: 'Finalize',
  EmitSucceeded: 'EmitSucceeded',
  ReleaseLock: 'ReleaseLock',
  Succeeded: 'Succeeded',
  RestoreIssuer: 'RestoreIssuer',
  RestoreTargets: 'RestoreTargets',
  RestoreBatch: 'RestoreBatch',
  WaitRestore: 'WaitRestore',
  CheckRestore: 'CheckRestore',
  RestoreDone: 'RestoreDone?',
  VerifyRestored: 'VerifyRestored',
  RestoreTrust: 'RestoreTrust',
  RecordRollback: 'RecordRollback',
  EmitRolledBack: 'EmitRolledBack',
  ReleaseLockAfterRollback: 'ReleaseLockAfterRollback',
  RolledBack: 'RolledBack',
} as const;

/** Error of the Fail state after a verified rollback (what the alarm counts). */
export const ROTATION_ROLLED_BACK_ERROR = 'RotationRolledBack';
/** The lock item in the ledger table. */
export const RotationLock = { pk: 'lock#rotation', sk: 'lock' } as const;
/**
 * A compromise report waiting for approval claims its scope here (pk, sk = its scope key; owner =
 * execution ARN), so a second report for the same scope is refused at once instead of waiting too.
 * Released when the wait ends; ReleaseStaleLock releases the claims of an aborted or timed-out run.
 */
export const PendingScopeClaim = { pk: 'compromise#pending' } as const;
/**
 * A rotation marks its lock when its rollback starts (`phase` = `rollback`): a compromise response
 * then waits for the lock instead of stopping a rollback halfway, which would leave the fleet half
 * restored (issue 14).
 */
export const RotationLockPhase = { attribute: 'phase', rollingBack: 'rollback' } as const;
