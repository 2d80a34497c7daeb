import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { FunctionId } from '../../functions/contracts/functions';
import { RotationStates, WaveManifest, type BatchProgress, type WaveGroup } from '../../functions/contracts/rotation-payloads';
import { LockTableRetry } from './retry-policies';
import { WorkflowKit } from './workflow-kit';
import { RotationErrors, RotationExtraStates, RotationWaveStates, WaveSteps, type WaveStep } from './rotation-states';

export { RotationWaveStates, WaveSteps, type WaveStep };

/** The functions a wave invokes. */
export const ROTATION_WAVE_FUNCTIONS = ['RenewBatch', 'CheckBatch', 'VerifyBatch', 'RestoreBatch'] as const satisfies readonly FunctionId[];
export type RotationWaveFunctionId = (typeof ROTATION_WAVE_FUNCTIONS)[number];

/** The fields of CheckBatch's BatchProgress the wait loops keep (at `$.progress`). */
const PROGRESS_FIELDS = ['attempt', 'done', 'exhausted', 'pending'] as const satisfies readonly (keyof BatchProgress)[];
/** One batch verdict, as VerifyBatch answers it (inside the wave only; the ledger has the targets' verdicts). */
const VERDICT_FIELDS = ['batchId', 'allValid', 'invalid'] as const;
/** Where the wave keeps the batch ids it read from the ledger: `{batchIds: [{S: id}, ...]}`. */
const MANIFEST_PATH = '$.manifest';

export interface RotationWaveProps {
  readonly deploymentName: string;
  readonly functions: Readonly<Pick<Record<FunctionId, lambda.IFunction>, RotationWaveFunctionId>>;
  readonly ledgerTable: dynamodb.ITable;
  readonly eventBus: events.IEventBus;
  /** How many batches of the wave renew, verify or restore at once (config.policy.concurrency). */
  readonly concurrency: number;
  readonly checkInterval: Duration;
  /** Bounds one wave; the Rotation's task waits as long. */
  readonly timeout: Duration;
  readonly logRetention?: logs.RetentionDays;
  /** The customer managed key of the state machine's log group (LogKey). @default CloudWatch Logs' own encryption */
  readonly logKey?: kms.IKey;
}

/**
 * One wave of the Rotation's batches as its own execution (DESIGN.md "Rotation"), so each wave has
 * its own 25,000-event history and a fleet of any size fits one run: the Rotation starts a wave
 * with `states:startExecution.sync:2` and waits for it. Input `{runId, requestedAt, step, group,
 * wave}`: the wave first reads its batch ids from the ledger (the manifest Plan wrote,
 * WaveManifest), so the Rotation's state carries wave numbers, not batch ids. `renew` renews each
 * batch and waits for its rollout (a batch that never rolls out fails the wave with
 * RolloutTimeoutError), `verify` verifies each batch, `restore` restores each batch, waits for it
 * and verifies it against the restored state. Each answers `{batches}`, how many batches it ran:
 * the verdicts are in the ledger (VerifyBatch records them), not in any state, so neither the
 * wave's nor the Rotation's state grows with the fleet. A failed batch fails the wave with the
 * batch's own error, which the Rotation reads back (rotation-workflow.ts).
 */
export class RotationWave extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  private readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: RotationWaveProps) {
    super(scope, id);
    this.timeout = props.timeout;
    const kit = new WorkflowKit<RotationWaveFunctionId>(this, { functions: props.functions, ledgerTable: props.ledgerTable, eventBus: props.eventBus });
    const invoke = kit.invoke.bind(kit);
    const checkInterval = sfn.WaitTime.duration(props.checkInterval);
    /** Inside a batch iteration, whose state is the item `{runId, requestedAt, batchId}` (+ `progress`). */
    const item = {
      runId: sfn.JsonPath.stringAt('$.runId'),
      requestedAt: sfn.JsonPath.stringAt('$.requestedAt'),
      batchId: sfn.JsonPath.stringAt('$.batchId'),
    };
    // Without a ResultPath the selected count is the wave's output; an explicit "$" would do the
    // same on AWS, but aws-local-stepfunctions writes it to a field named "$". The count, not the
    // iterations' answers: those are the verdicts (or the wait loop's progress) of every batch.
    const batches = (name: string) =>
      new sfn.Map(this, name, {
        itemsPath: `${MANIFEST_PATH}.${WaveManifest.attribute}`,
        itemSelector: { runId: sfn.JsonPath.stringAt('$.runId'), requestedAt: sfn.JsonPath.stringAt('$.requestedAt'), batchId: sfn.JsonPath.stringAt('$$.Map.Item.Value.S') },
        maxConcurrency: props.concurrency,
        resultSelector: { batches: sfn.JsonPath.arrayLength(sfn.JsonPath.entirePayload) },
      });

    // renew: renew, then look every checkInterval until CheckBatch says done. The loop is bounded by
    // CheckBatch (attempt in, attempt + 1 out, `exhausted` at its bound).
    const renewBatch = invoke(RotationStates.RenewBatch, 'RenewBatch', sfn.TaskInput.fromObject(item), {
      // Seeds the wait loop's counter (RenewBatch's own answer is not needed).
      resultSelector: { attempt: 0 },
      resultPath: '$.progress',
    });
    const waitBatch = new sfn.Wait(this, RotationStates.WaitBatch, { time: checkInterval });
    const checkBatch = invoke(
      RotationStates.CheckBatch,
      'CheckBatch',
      sfn.TaskInput.fromObject({ ...item, attempt: sfn.JsonPath.numberAt('$.progress.attempt'), phase: 'rotation' }),
      { resultSelector: selectPayload(PROGRESS_FIELDS), resultPath: '$.progress' },
    );
    const batchDone = new sfn.Choice(this, RotationStates.BatchDone)
      .when(sfn.Condition.booleanEquals('$.progress.done', true), new sfn.Succeed(this, RotationExtraStates.BatchRolledOut))
      .when(
        sfn.Condition.booleanEquals('$.progress.exhausted', true),
        new sfn.Fail(this, RotationExtraStates.BatchTimedOut, {
          error: RotationErrors.RolloutTimeout,
          cause: 'A batch did not roll out before CheckBatch reached its bound; the run rolls back.',
        }),
      )
      .otherwise(waitBatch);
    renewBatch.next(waitBatch).next(checkBatch).next(batchDone);
    const renewBatches = batches(RotationWaveStates.RenewBatches);
    renewBatches.itemProcessor(renewBatch);

    // verify: VerifyBatch throws VerificationFailedError (phase rotation) when any target is
    // invalid, so every batch the wave counts is valid.
    const verifyBatch = invoke(RotationStates.VerifyBatch, 'VerifyBatch', sfn.TaskInput.fromObject({ ...item, phase: 'rotation' }), {
      resultSelector: selectPayload(VERDICT_FIELDS),
    });
    const verifyBatches = batches(RotationWaveStates.VerifyBatches);
    verifyBatches.itemProcessor(verifyBatch);

    // restore: restore from backups, wait for the rollout, verify against the restored state. A
    // wait loop that reaches its bound still verifies: VerifyBatch (phase rollback) reports what is
    // there instead of throwing, and every other batch goes on restoring.
    const restoreBatch = invoke(RotationStates.RestoreBatch, 'RestoreBatch', sfn.TaskInput.fromObject({ ...item, phase: 'rollback' }), {
      resultSelector: { attempt: 0 },
      resultPath: '$.progress',
    });
    const waitRestore = new sfn.Wait(this, RotationStates.WaitRestore, { time: checkInterval });
    const checkRestore = invoke(
      RotationStates.CheckRestore,
      'CheckBatch',
      sfn.TaskInput.fromObject({ ...item, attempt: sfn.JsonPath.numberAt('$.progress.attempt'), phase: 'rollback' }),
      { resultSelector: selectPayload(PROGRESS_FIELDS), resultPath: '$.progress' },
    );
    const verifyRestored = invoke(RotationStates.VerifyRestored, 'VerifyBatch', sfn.TaskInput.fromObject({ ...item, phase: 'rollback' }), {
      resultSelector: selectPayload(VERDICT_FIELDS),
    });
    const restoreDone = new sfn.Choice(this, RotationStates.RestoreDone)
      .when(sfn.Condition.or(sfn.Condition.booleanEquals('$.progress.done', true), sfn.Condition.booleanEquals('$.progress.exhausted', true)), verifyRestored)
      .otherwise(waitRestore);
    restoreBatch.next(waitRestore).next(checkRestore).next(restoreDone);
    const restoreBatches = batches(RotationWaveStates.RestoreBatches);
    restoreBatches.itemProcessor(restoreBatch);

    const step = new sfn.Choice(this, RotationWaveStates.Step)
      .when(sfn.Condition.stringEquals('$.step', WaveSteps.renew), renewBatches)
      .when(sfn.Condition.stringEquals('$.step', WaveSteps.verify), verifyBatches)
      .when(sfn.Condition.stringEquals('$.step', WaveSteps.restore), restoreBatches)
      .otherwise(new sfn.Fail(this, RotationWaveStates.UnknownStep, { error: 'RotationWaveUnknownStep', cause: 'The wave was started with a step other than renew, verify or restore.' }));

    // The wave's batch ids, from the manifest Plan wrote. A missing manifest fails the wave at the
    // selector (States.Runtime), so the Rotation rolls back; the ids are only names for the batch
    // tasks, each of which loads its batch from the ledger and admits it against the policy.
    const readWave = new tasks.DynamoGetItem(this, RotationWaveStates.ReadWave, {
      table: props.ledgerTable,
      key: {
        pk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format('run#{}', sfn.JsonPath.stringAt('$.runId'))),
        sk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format(`${WaveManifest.skPrefix}{}#{}`, sfn.JsonPath.stringAt('$.group'), sfn.JsonPath.stringAt('$.wave'))),
      },
      consistentRead: true,
      resultSelector: { [WaveManifest.attribute]: sfn.JsonPath.listAt(`$.Item.${WaveManifest.attribute}.L`) },
      resultPath: MANIFEST_PATH,
    });
    // The same table as the lock, throttled the same way.
    readWave.addRetry(LockTableRetry);
    readWave.next(step);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/certflow-${props.deploymentName}-rotation-wave`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(props.logKey ? { encryptionKey: props.logKey } : {}),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'certflow RotationWave: renew, verify or restore one wave of the Rotation batches (started by the Rotation state machine)',
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(readWave),
      timeout: props.timeout,
      tracingEnabled: true,
      // Errors only, and never execution data (invariant I2), as the Rotation's own log.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-SF1',
        reason: 'Logs errors only, on purpose, as the Rotation: ALL would log every transition of every batch wait loop; the execution history keeps them, and execution data is never logged (I2).',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Vended log delivery and X-Ray support no resource-level permissions; CDK adds exactly these with resource "*".',
      },
      ...ROTATION_WAVE_FUNCTIONS.map((functionId) => props.functions[functionId]).map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(fn)}.Arn>:*]`,
        reason: `lambda:InvokeFunction on ${fn.node.id}'s versions and aliases (ARN:*), which the CDK adds next to the function ARN; it is scoped to this one function.`,
      })),
    );
  }

  /**
   * A Map of the Rotation over `wavesPath` (the plan's wave numbers of `group`) whose iteration
   * starts one wave and waits for it (`.sync:2`: the wave's output arrives parsed, at `Output`).
   * The Map keeps how many waves ran (`{waves}`), nothing per batch, at `resultPath`.
   * Waves run one after another; the batches within a wave run `concurrency` at once, as before.
   * A wave that fails fails the Map with the wave's own error and cause: AWS reports a failed
   * child as States.TaskFailed with the child's DescribeExecution answer as the cause, which the
   * iteration parses back (`Error`, `Cause`), so the Rotation's Catch and its rollback record see
   * the batch's error (RolloutTimeoutError, VerificationFailedError), not States.TaskFailed.
   */
  waveMap(scope: Construct, names: { map: string; task: string; failure: string; failed: string }, options: { step: WaveStep; group: WaveGroup; wavesPath: string; resultPath: string }): sfn.Map {
    const map = new sfn.Map(scope, names.map, {
      itemsPath: options.wavesPath,
      itemSelector: {
        runId: sfn.JsonPath.stringAt('$.run.runId'),
        requestedAt: sfn.JsonPath.stringAt('$.run.requestedAt'),
        step: options.step,
        group: options.group,
        wave: sfn.JsonPath.numberAt('$$.Map.Item.Value'),
      },
      maxConcurrency: 1,
      resultSelector: { waves: sfn.JsonPath.arrayLength(sfn.JsonPath.entirePayload) },
      resultPath: options.resultPath,
    });
    const start = new tasks.StepFunctionsStartExecution(scope, names.task, {
      stateMachine: this.stateMachine,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      input: sfn.TaskInput.fromJsonPathAt('$'),
      // The wave's own answer, `{batches}`.
      outputPath: '$.Output',
      // As long as the wave itself may run.
      taskTimeout: sfn.Timeout.duration(this.timeout),
    });
    const failure = new sfn.Pass(scope, names.failure, { parameters: { 'wave.$': 'States.StringToJson($.Cause)' } });
    const failed = new sfn.Fail(scope, names.failed, { errorPath: '$.wave.Error', causePath: '$.wave.Cause' });
    start.addCatch(failure.next(failed), { errors: [sfn.Errors.TASKS_FAILED] });
    map.itemProcessor(start);
    return map;
  }

}

/** A ResultSelector that copies the named fields of a Lambda answer (`$.Payload.<field>`). */
function selectPayload(fields: readonly string[]): Record<string, string> {
  return Object.fromEntries(fields.map((field) => [`${field}.$`, `$.Payload.${field}`]));
}

/** The logical id of a function's CfnFunction, as cdk-nag names it in IAM5 findings. */
function logicalIdOf(fn: lambda.IFunction): string {
  const cfn = fn.node.defaultChild;
  if (!cfn || !('logicalId' in cfn)) throw new Error(`${fn.node.path} has no CfnFunction`);
  return fn.stack.resolve((cfn as { logicalId: string }).logicalId) as string;
}
