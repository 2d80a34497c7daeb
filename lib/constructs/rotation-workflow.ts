import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type * as z from 'zod';
import { EventSource } from '../../functions/contracts/events';
import type { FunctionId } from '../../functions/contracts/functions';
import { ActivateIssuerOutputSchema, PreparedIntermediateSchema } from '../../functions/contracts/pki-payloads';
import {
  RotationPlanSchema,
  RotationRequestSchema,
  WaveManifest,
  RotationLockPhase,
  RotationStates,
  type BatchProgress,
  type RotationEventDetail,
} from '../../functions/contracts/rotation-payloads';
import { EventPublishRetry, LockTableRetry } from './retry-policies';
import { WorkflowKit } from './workflow-kit';
import { RotationDetailTypes, RotationErrors, RotationExtraStates } from './rotation-states';
import { WaveSteps, type RotationWave } from './rotation-wave';

/** The functions the Rotation state machine invokes. */
export const ROTATION_WORKFLOW_FUNCTIONS = [
  'Preflight',
  'PlanRotation',
  'PrepareIntermediate',
  'PublishTrust',
  'ActivateIssuer',
  'RenewBatch',
  'CheckBatch',
  'VerifyBatch',
  'FinalizeRotation',
  'RestoreIssuer',
  'RestoreBatch',
  'RecordRollback',
] as const satisfies readonly FunctionId[];
export type RotationWorkflowFunctionId = (typeof ROTATION_WORKFLOW_FUNCTIONS)[number];

/** The fields of CheckBatch's BatchProgress the wait loops keep (at `$.canary` / `$.progress`). */
const PROGRESS_FIELDS = ['attempt', 'done', 'exhausted', 'pending'] as const satisfies readonly (keyof BatchProgress)[];
/** The Catch output of every step that the rollback (or the abort path) reads. */
const FAILURE_PATH = '$.failure';
const ROLLBACK_FAILURE_PATH = '$.rollbackFailure';

export interface RotationWorkflowProps {
  /** Deployment name (config.name): names the log group. */
  readonly deploymentName: string;
  /** The functions the workflow invokes, by FunctionRegistry id (others may be present: they are not used). */
  readonly functions: Readonly<Pick<Record<FunctionId, lambda.IFunction>, RotationWorkflowFunctionId>>;
  /** The ledger table: the rotation lock lives in it (RotationLock). */
  readonly ledgerTable: dynamodb.ITable;
  /** The certflow bus that receives the Rotation events. */
  readonly eventBus: events.IEventBus;
  /**
   * How many batches renew, verify or restore at once (config.policy.concurrency): bounds the load
   * on Vault, the Kubernetes API servers and cert-manager.
   */
  readonly concurrency: number;
  /**
   * The RotationWave state machine the fan-out, the verification and the rollback's restore start
   * one wave of batches at a time in (each wave is its own execution with its own history).
   */
  readonly wave: RotationWave;
  /**
   * Batches per wave (history-budget.ts batchesPerWave of the CheckBatch bound): a wave whose every
   * batch runs its wait loop to the bound stays within its history's budget.
   */
  readonly batchesPerWave: number;
  /**
   * Pause between two looks at the canary's rollout (the waves' loops have their own, the same).
   * Each look costs 9 history events (Wait, CheckCanary, CanaryDone?), so a shorter interval only
   * buys latency at the price of headroom.
   * @default Duration.seconds(5)
   */
  readonly checkInterval?: Duration;
  /**
   * Execution timeout. A daily run over tens of batches takes minutes; two hours bounds a hung run
   * while leaving room for every batch's bounded wait loop and every retry. A timed-out run is not
   * rolled back: the stale-lock rule releases its lock and the RotationExecutionsTimedOut alarm fires.
   * @default Duration.hours(2)
   */
  readonly timeout?: Duration;
  /**
   * Retention of the state machine's (error-level) log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /** The customer managed key of the state machine's log group (LogKey). @default CloudWatch Logs' own encryption */
  readonly logKey?: kms.IKey;
}

/**
 * The Rotation workflow (DESIGN.md "Rotation"; Standard, JSONPath): take the lock, check the world,
 * plan, rotate the intermediate if due (prepare, publish trust, activate), renew the canary and
 * wait for it, fan out over the other batches, verify every batch, finalize, release the lock.
 *
 * Any failure after Plan goes to the rollback: the previous default issuer back (if this run made
 * a new one), every batch restored from its backups and verified, the trust bundles restored (if
 * this run published any), the rollback recorded and announced, the lock released, and the
 * execution failed with RotationRolledBack so the alarm fires. A failure of the rollback itself
 * ends in RotationRollbackFailed. A failure before anything changed (EmitStarted, Preflight, Plan)
 * ends in RotationAborted. Every path that took the lock releases it.
 *
 * The execution's state object is `{request, run, plan, prepared?, activated?, canary?, verified?,
 * failure?, restored?, summary?}`: identifiers and counts only (I2). Targets, batch ids and verdicts
 * stay in the ledger (by batch, by wave), so the state stays small at any fleet size.
 */
export class RotationWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RotationWorkflowProps) {
    super(scope, id);
    const checkInterval = sfn.WaitTime.duration(props.checkInterval ?? Duration.seconds(5));
    const { functions } = props;

    // ---- building blocks ------------------------------------------------------------------------

    const kit = new WorkflowKit<RotationWorkflowFunctionId>(this, { functions, ledgerTable: props.ledgerTable, eventBus: props.eventBus });
    const invoke = kit.invoke.bind(kit);
    const releaseLock = kit.releaseLock.bind(kit);
    const emit = kit.emit.bind(kit);
    const run = {
      runId: sfn.JsonPath.stringAt('$.run.runId'),
      requestedAt: sfn.JsonPath.stringAt('$.run.requestedAt'),
    };

    /** A detail the state machine builds itself (a RotationEventDetail: runId, trigger, outcome, error). */
    const detail = (outcome: RotationEventDetail['outcome'], extra: Record<string, string> = {}) =>
      sfn.TaskInput.fromObject({
        runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
        trigger: sfn.JsonPath.stringAt('$.request.trigger'),
        outcome,
        ...extra,
      });

    // ---- terminal paths -------------------------------------------------------------------------

    const aborted = new sfn.Fail(this, RotationExtraStates.Aborted, {
      error: RotationErrors.Aborted,
      cause: `The run stopped before changing anything: EmitStarted, Preflight or Plan failed. Its error is in the "${RotationDetailTypes.Failed}" event and in the execution history; the lock is released, and the next scheduled run (or certflow rotate) tries again.`,
    });
    const emitAborted = emit(
      RotationExtraStates.EmitAborted,
      RotationDetailTypes.Failed,
      detail('Failed', { error: sfn.JsonPath.stringAt(`${FAILURE_PATH}.Error`) }),
      releaseLock(RotationExtraStates.ReleaseLockAfterAbort, aborted),
    );

    const rollbackFailed = new sfn.Fail(this, RotationExtraStates.RollbackFailed, {
      error: RotationErrors.RollbackFailed,
      cause: `The rotation failed and so did its rollback: issuers, Secrets or trust bundles may be half rotated. Read the "${RotationDetailTypes.Failed}" event and certflow status for this run, then restore by hand from the backups the run recorded in the ledger.`,
    });
    const emitRollbackFailed = emit(
      RotationExtraStates.EmitRollbackFailed,
      RotationDetailTypes.Failed,
      detail('Failed', {
        error: sfn.JsonPath.stringAt(`${ROLLBACK_FAILURE_PATH}.Error`),
        cause: sfn.JsonPath.format('rollback after {} failed with {}', sfn.JsonPath.stringAt(`${FAILURE_PATH}.Error`), sfn.JsonPath.stringAt(`${ROLLBACK_FAILURE_PATH}.Error`)),
      }),
      // Released even so: a held lock would turn every later run into AlreadyRunning, and nothing
      // would renew certificates any more (I6). The alarm makes sure a person looks first.
      releaseLock(RotationExtraStates.ReleaseLockAfterRollbackFailure, rollbackFailed),
    );
    /** Every rollback step: its failure ends the run as RotationRollbackFailed. */
    const catchRollbackFailure = <T extends sfn.TaskStateBase | sfn.Map>(state: T): T => {
      state.addCatch(emitRollbackFailed, { errors: [sfn.Errors.ALL], resultPath: ROLLBACK_FAILURE_PATH });
      return state;
    };

    // ---- rollback -------------------------------------------------------------------------------

    const rolledBack = new sfn.Fail(this, RotationStates.RolledBack, {
      error: RotationErrors.RolledBack,
      cause: `The rotation failed and was rolled back and verified: the default issuer, every Secret and the trust bundles are as before the run. Read the "${RotationDetailTypes.RolledBack}" event on the certflow bus (its error names the failed step) and certflow status for this run, fix the cause, then run certflow rotate.`,
    });
    const emitRolledBack = emit(
      RotationStates.EmitRolledBack,
      RotationDetailTypes.RolledBack,
      sfn.TaskInput.fromJsonPathAt('$.summary.detail'),
      releaseLock(RotationStates.ReleaseLockAfterRollback, rolledBack),
    );

    // RecordRollback reads the whole state (RollbackInputSchema: run, plan, prepared?, failure,
    // restored); it holds identifiers and counts only. It answers with the event's detail.
    const recordRollback = catchRollbackFailure(
      invoke(RotationStates.RecordRollback, 'RecordRollback', sfn.TaskInput.fromJsonPathAt('$'), {
        resultSelector: { 'detail.$': '$.Payload' },
        resultPath: '$.summary',
      }),
    ).next(emitRolledBack);

    const restoreTrust = catchRollbackFailure(
      invoke(
        RotationStates.RestoreTrust,
        'PublishTrust',
        sfn.TaskInput.fromObject({ runId: run.runId, namespaces: sfn.JsonPath.listAt('$.plan.namespaces'), mode: 'restore' }),
        { resultPath: sfn.JsonPath.DISCARD },
      ),
    ).next(recordRollback);
    // Trust is published only after PrepareIntermediate succeeded: without `$.prepared` there is
    // nothing to restore (and no namespace list the publish step was ever given).
    const trustPublished = new sfn.Choice(this, RotationExtraStates.TrustPublished)
      .when(sfn.Condition.isPresent('$.prepared'), restoreTrust)
      .otherwise(recordRollback);

    // Every batch restored from its backups and verified, one wave (child execution) at a time.
    const restoreTargets = catchRollbackFailure(
      props.wave.waveMap(
        this,
        { map: RotationStates.RestoreTargets, task: RotationExtraStates.RestoreWave, failure: RotationExtraStates.RestoreWaveFailure, failed: RotationExtraStates.RestoreWaveFailed },
        { step: WaveSteps.restore, group: WaveManifest.groups.all, wavesPath: '$.plan.waves.all', resultPath: '$.restored' },
      ),
    );
    restoreTargets.next(trustPublished);

    const restoreIssuer = catchRollbackFailure(
      invoke(
        RotationStates.RestoreIssuer,
        'RestoreIssuer',
        sfn.TaskInput.fromObject({
          runId: run.runId,
          previousDefault: sfn.JsonPath.stringAt('$.run.previousDefault'),
          newIssuerId: sfn.JsonPath.stringAt('$.prepared.issuerId'),
        }),
        { resultPath: sfn.JsonPath.DISCARD },
      ),
    ).next(restoreTargets);
    // ActivateIssuer runs only after PrepareIntermediate succeeded, so without `$.prepared` the
    // default issuer never moved and there is no new issuer to stop.
    const rollback = new sfn.Choice(this, RotationExtraStates.NewIssuerPrepared)
      .when(sfn.Condition.isPresent('$.prepared'), restoreIssuer)
      .otherwise(restoreTargets);
    // The rollback's first state marks the lock (same owner, `phase` rollback): a compromise
    // response that arrives now waits for the lock instead of preempting a rollback halfway. The
    // mark never stops the rollback: if the lock is not ours any more (a response took it just
    // before) or the table fails, restoring still comes first.
    const markRollingBack = new tasks.DynamoPutItem(this, RotationExtraStates.MarkRollingBack, {
      table: props.ledgerTable,
      item: { ...kit.lockItem(), [RotationLockPhase.attribute]: tasks.DynamoAttributeValue.fromString(RotationLockPhase.rollingBack) },
      conditionExpression: '#owner = :owner',
      ...kit.ownedByThisExecution,
      resultPath: sfn.JsonPath.DISCARD,
    });
    markRollingBack.addRetry(LockTableRetry);
    markRollingBack.addCatch(rollback, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
    markRollingBack.next(rollback);
    /** Every step from IntermediateDue? to Finalize: any failure rolls back. */
    const catchForRollback = <T extends sfn.TaskStateBase | sfn.Map>(state: T): T => {
      state.addCatch(markRollingBack, { errors: [sfn.Errors.ALL], resultPath: FAILURE_PATH });
      return state;
    };

    // ---- success path ---------------------------------------------------------------------------

    const succeeded = new sfn.Succeed(this, RotationStates.Succeeded);
    const emitSucceeded = emit(
      RotationStates.EmitSucceeded,
      RotationDetailTypes.Succeeded,
      sfn.TaskInput.fromJsonPathAt('$.summary.detail'),
      releaseLock(RotationStates.ReleaseLock, succeeded),
    );
    // Finalize reads the whole state (FinalizeInputSchema: run, plan, activated?, verified): JSONPath
    // cannot pass a field that may be absent (`activated`), and the state holds identifiers only.
    const finalize = catchForRollback(
      invoke(RotationStates.Finalize, 'FinalizeRotation', sfn.TaskInput.fromJsonPathAt('$'), {
        resultSelector: { 'detail.$': '$.Payload' },
        resultPath: '$.summary',
      }),
    ).next(emitSucceeded);

    // Every batch verified, one wave at a time: VerifyBatch (phase rotation) throws
    // VerificationFailedError when any target is invalid, and the Catch on the Map rolls back. The
    // Map keeps how many waves ran; the verdicts are in the ledger, where Finalize reads them.
    const verifyAll = catchForRollback(
      props.wave.waveMap(
        this,
        { map: RotationStates.VerifyAll, task: RotationExtraStates.VerifyWave, failure: RotationExtraStates.VerifyWaveFailure, failed: RotationExtraStates.VerifyWaveFailed },
        { step: WaveSteps.verify, group: WaveManifest.groups.all, wavesPath: '$.plan.waves.all', resultPath: '$.verified' },
      ),
    );
    verifyAll.next(finalize);

    // The fan-out: each wave renews its batches and waits for their rollouts (RotationWave); a batch
    // that never rolls out fails its wave with RolloutTimeoutError, which rolls the run back.
    const fanOut = catchForRollback(
      props.wave.waveMap(
        this,
        { map: RotationStates.FanOut, task: RotationExtraStates.RenewWave, failure: RotationExtraStates.RenewWaveFailure, failed: RotationExtraStates.RenewWaveFailed },
        { step: WaveSteps.renew, group: WaveManifest.groups.fanOut, wavesPath: '$.plan.waves.fanOut', resultPath: sfn.JsonPath.DISCARD },
      ),
    );
    fanOut.next(verifyAll);

    // The canary: the same loop at the top level, its progress at `$.canary`.
    const canaryBatch = { ...run, batchId: sfn.JsonPath.stringAt('$.plan.canaryBatchId') };
    const verifyCanary = catchForRollback(
      invoke(RotationStates.VerifyCanary, 'VerifyBatch', sfn.TaskInput.fromObject({ ...canaryBatch, phase: 'rotation' }), {
        resultPath: sfn.JsonPath.DISCARD,
      }),
    ).next(fanOut);
    const canaryTimedOut = new sfn.Pass(this, RotationExtraStates.CanaryTimedOut, {
      // What a Catch would have put there, so the rollback reads one shape.
      result: sfn.Result.fromObject({ Error: RotationErrors.RolloutTimeout, Cause: 'The canary batch did not roll out before CheckBatch reached its bound.' }),
      resultPath: FAILURE_PATH,
    }).next(markRollingBack);
    const waitCanary = new sfn.Wait(this, RotationStates.WaitCanary, { time: checkInterval });
    const checkCanary = catchForRollback(
      invoke(
        RotationStates.CheckCanary,
        'CheckBatch',
        sfn.TaskInput.fromObject({ ...canaryBatch, attempt: sfn.JsonPath.numberAt('$.canary.attempt'), phase: 'rotation' }),
        { resultSelector: selectPayload(PROGRESS_FIELDS), resultPath: '$.canary' },
      ),
    );
    const canaryDone = new sfn.Choice(this, RotationStates.CanaryDone)
      .when(sfn.Condition.booleanEquals('$.canary.done', true), verifyCanary)
      .when(sfn.Condition.booleanEquals('$.canary.exhausted', true), canaryTimedOut)
      .otherwise(waitCanary);
    const renewCanary = catchForRollback(
      invoke(RotationStates.RenewCanary, 'RenewBatch', sfn.TaskInput.fromObject(canaryBatch), {
        resultSelector: { attempt: 0 },
        resultPath: '$.canary',
      }),
    );
    renewCanary.next(waitCanary).next(checkCanary).next(canaryDone);

    const hasCanary = new sfn.Choice(this, RotationStates.HasCanary)
      .when(sfn.Condition.booleanEquals('$.plan.hasCanary', true), renewCanary)
      .otherwise(fanOut);

    // The intermediate: prepare (not default yet), publish a bundle trusting both, then activate.
    const activateIssuer = catchForRollback(
      invoke(
        RotationStates.ActivateIssuer,
        'ActivateIssuer',
        sfn.TaskInput.fromObject({
          runId: run.runId,
          issuerId: sfn.JsonPath.stringAt('$.prepared.issuerId'),
          expectedPreviousDefault: sfn.JsonPath.stringAt('$.run.previousDefault'),
        }),
        { resultSelector: selectPayload(requiredKeys(ActivateIssuerOutputSchema, 'ActivateIssuerOutput')), resultPath: '$.activated' },
      ),
    ).next(hasCanary);
    const publishTrust = catchForRollback(
      invoke(
        RotationStates.PublishTrust,
        'PublishTrust',
        sfn.TaskInput.fromObject({ runId: run.runId, namespaces: sfn.JsonPath.listAt('$.plan.namespaces'), mode: 'publish' }),
        { resultPath: sfn.JsonPath.DISCARD },
      ),
    ).next(activateIssuer);
    const prepareIntermediate = catchForRollback(
      invoke(RotationStates.PrepareIntermediate, 'PrepareIntermediate', sfn.TaskInput.fromObject({ runId: run.runId }), {
        resultSelector: selectPayload(requiredKeys(PreparedIntermediateSchema, 'PreparedIntermediate')),
        resultPath: '$.prepared',
      }),
    ).next(publishTrust);
    const intermediateDue = new sfn.Choice(this, RotationStates.IntermediateDue)
      .when(sfn.Condition.booleanEquals('$.plan.intermediateDue', true), prepareIntermediate)
      .otherwise(hasCanary);

    // ---- start: request, lock, event, preflight, plan -------------------------------------------

    // Every plan field is required, so a selector copies exactly the contract's fields: an answer
    // missing one fails here (and aborts) instead of at the Choices that read it.
    // Plan cuts the batches into waves of this definition's size and writes each wave's batch ids to
    // the ledger (WaveManifest): the plan, and so the state, carries wave numbers only.
    const plan = invoke(RotationStates.Plan, 'PlanRotation', sfn.TaskInput.fromObject({ run: sfn.JsonPath.objectAt('$.run'), batchesPerWave: props.batchesPerWave }), {
      resultSelector: selectPayload(requiredKeys(RotationPlanSchema, 'RotationPlan')),
      resultPath: '$.plan',
    });
    plan.addCatch(emitAborted, { errors: [sfn.Errors.ALL], resultPath: FAILURE_PATH });
    plan.next(intermediateDue);

    const recordRun = new sfn.Pass(this, RotationExtraStates.RecordRun, {
      parameters: { request: sfn.JsonPath.objectAt('$.request'), run: sfn.JsonPath.objectAt('$.preflight.run') },
    }).next(plan);
    const preflight = invoke(
      RotationStates.Preflight,
      'Preflight',
      sfn.TaskInput.fromObject({
        // The execution name is the run id on every log line, ledger entry and event.
        runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        request: sfn.JsonPath.objectAt('$.request'),
      }),
      // RunContext has optional fields (services) that a field-by-field selector could not copy,
      // so the whole answer is kept here and moved to `$.run` by RecordRun.
      { resultSelector: { 'run.$': '$.Payload' }, resultPath: '$.preflight' },
    );
    preflight.addCatch(emitAborted, { errors: [sfn.Errors.ALL], resultPath: FAILURE_PATH });
    preflight.next(recordRun);

    const emitStarted = new tasks.EventBridgePutEvents(this, RotationStates.EmitStarted, {
      entries: [{ eventBus: props.eventBus, source: EventSource, detailType: RotationDetailTypes.Started, detail: detail('Started') }],
      resultPath: sfn.JsonPath.DISCARD,
    });
    emitStarted.addRetry(EventPublishRetry);
    emitStarted.addCatch(emitAborted, { errors: [sfn.Errors.ALL], resultPath: FAILURE_PATH });
    emitStarted.next(preflight);

    const alreadyRunning = new sfn.Pass(this, RotationStates.AlreadyRunning, {
      parameters: { outcome: 'AlreadyRunning', runId: sfn.JsonPath.stringAt('$$.Execution.Name'), trigger: sfn.JsonPath.stringAt('$.request.trigger') },
    }).next(new sfn.Succeed(this, RotationExtraStates.EndAlreadyRunning));

    const acquireLock = new tasks.DynamoPutItem(this, RotationStates.AcquireLock, {
      table: props.ledgerTable,
      item: kit.lockItem(),
      // Free, or already ours: re-entrant, so a retry after a write that landed still acquires.
      conditionExpression: 'attribute_not_exists(pk) OR #owner = :owner',
      ...kit.ownedByThisExecution,
      resultPath: sfn.JsonPath.DISCARD,
    });
    acquireLock.addRetry(LockTableRetry);
    acquireLock.addCatch(alreadyRunning, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: sfn.JsonPath.DISCARD });
    acquireLock.next(emitStarted);

    // The input is a RotationRequest, possibly partial (`{}` from the CLI): merge it over the
    // schema's defaults so `$.request.trigger` always exists for the events. Preflight still
    // validates the request (strict) and rejects unknown fields.
    const applyRequestDefaults = new sfn.Pass(this, RotationExtraStates.ApplyRequestDefaults, {
      parameters: { request: sfn.JsonPath.jsonMerge(sfn.JsonPath.objectAt('$.requestDefaults'), sfn.JsonPath.objectAt('$.request')) },
    }).next(acquireLock);
    const init = new sfn.Pass(this, RotationExtraStates.Init, {
      parameters: { request: sfn.JsonPath.entirePayload, requestDefaults: RotationRequestSchema.parse({}) },
    }).next(applyRequestDefaults);

    // ---- the state machine ----------------------------------------------------------------------

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The vended-logs prefix keeps CloudWatch Logs' account-wide resource policy from growing
      // with every log group that Step Functions delivers to.
      logGroupName: `/aws/vendedlogs/states/certflow-${props.deploymentName}-rotation`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(props.logKey ? { encryptionKey: props.logKey } : {}),
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'certflow Rotation: rotate the Vault PKI intermediate and renew, verify or roll back every service certificate',
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(init),
      timeout: props.timeout ?? Duration.hours(2),
      tracingEnabled: true,
      logs: {
        destination: this.logGroup,
        // Errors only, and never execution data: payloads stay out of the logs (invariant I2).
        level: sfn.LogLevel.ERROR,
        includeExecutionData: false,
      },
    });

    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-SF1',
        reason:
          'Logs errors only, on purpose: ALL would log every transition of every batch wait loop (thousands per run) for no diagnostic gain; the execution history keeps every transition for 90 days, the ledger keeps each run, and execution data is never logged (I2).',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Vended log delivery (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) and X-Ray (xray:PutTraceSegments, GetSamplingRules, ...) support no resource-level permissions; CDK adds exactly these with resource "*".',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalIdOfResource(props.wave.stateMachine)}"}]}]}*]`,
        reason:
          'states:DescribeExecution and StopExecution on the executions of the RotationWave state machine only (its name, then any execution name): what startExecution.sync:2 needs to wait for and stop the waves it starts, and execution names are not known in advance. The CDK adds exactly this.',
      },
      // RestoreBatch runs in the waves only.
      ...ROTATION_WORKFLOW_FUNCTIONS.filter((functionId) => functionId !== 'RestoreBatch').map((functionId) => functions[functionId]).map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(fn)}.Arn>:*]`,
        reason: `lambda:InvokeFunction on ${fn.node.id}'s versions and aliases (ARN:*), which the CDK adds next to the function ARN so an alias or version can be invoked; it is scoped to this one function.`,
      })),
    );
  }
}

/**
 * A ResultSelector that copies the named fields of a Lambda answer (`$.Payload.<field>`). Selecting
 * instead of keeping the whole answer drops the invoke metadata, keeps the state to the contract,
 * and fails the task itself (where its Catch applies) when a field is missing.
 */
function selectPayload(fields: readonly string[]): Record<string, string> {
  return Object.fromEntries(fields.map((field) => [`${field}.$`, `$.Payload.${field}`]));
}

/** The keys of a contract schema, refusing one with an optional field (a selector would fail on it). */
function requiredKeys(schema: z.ZodObject, what: string): string[] {
  return Object.entries(schema.shape).map(([key, field]) => {
    if ((field as z.ZodType).safeParse(undefined).success) {
      throw new Error(`${what}.${key} is optional: a ResultSelector cannot copy a field that may be absent`);
    }
    return key;
  });
}

/** The logical id of a function's CfnFunction, as cdk-nag names it in IAM5 findings. */
function logicalIdOf(fn: lambda.IFunction): string {
  return logicalIdOfResource(fn);
}

function logicalIdOfResource(resource: Construct & { stack: import('aws-cdk-lib').Stack }): string {
  const cfn = resource.node.defaultChild;
  if (!cfn || !('logicalId' in cfn)) throw new Error(`${resource.node.path} has no CloudFormation resource`);
  return resource.stack.resolve((cfn as { logicalId: string }).logicalId) as string;
}
