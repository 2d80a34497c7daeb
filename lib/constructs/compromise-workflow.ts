import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { ON_FIRST_OCCURRENCE } from './alarm-on-first';
import { Construct } from 'constructs';
import type { FunctionId } from '../../functions/contracts/functions';
import { PendingScopeClaim, RotationLock, RotationLockPhase, type BatchProgress } from '../../functions/contracts/rotation-payloads';
import { EventSource } from '../../functions/contracts/events';
import { CompromiseApprovalEntry, CompromiseApprovalErrors, CompromiseDetailTypes, CompromiseErrors, CompromiseLockAttributes, CompromiseOutcomes, CompromiseStates as S } from './compromise-states';
import { LockTableRetry } from './retry-policies';
import { WorkflowKit } from './workflow-kit';

/** The functions the CompromiseResponse state machine invokes. */
export const COMPROMISE_WORKFLOW_FUNCTIONS = [
  'CompromiseValidate',
  'PreemptRotation',
  'Preflight',
  'CompromisePlan',
  'PrepareIntermediate',
  'ActivateIssuer',
  'RenewBatch',
  'CheckBatch',
  'VerifyBatch',
  'CompromiseRevoke',
  'CompromiseReport',
] as const satisfies readonly FunctionId[];
export type CompromiseWorkflowFunctionId = (typeof COMPROMISE_WORKFLOW_FUNCTIONS)[number];

const PROGRESS_FIELDS = ['attempt', 'done', 'exhausted', 'pending'] as const satisfies readonly (keyof BatchProgress)[];
const FAILURE_PATH = '$.failure';

export interface CompromiseWorkflowProps {
  /** Deployment name (config.name): names the log group. */
  readonly deploymentName: string;
  /** The functions the workflow invokes, by FunctionRegistry id. */
  readonly functions: Readonly<Pick<Record<FunctionId, lambda.IFunction>, CompromiseWorkflowFunctionId>>;
  /** The ledger table: the response takes the rotation lock (RotationLock) in it. */
  readonly ledgerTable: dynamodb.ITable;
  /** The certflow bus that receives the Compromise events. */
  readonly eventBus: events.IEventBus;
  /** How many batches are reissued at once (config.policy.concurrency), as in the rotation. */
  readonly concurrency: number;
  /**
   * Pause between two looks at a batch's rollout, as in the rotation.
   * @default Duration.seconds(5)
   */
  readonly checkInterval?: Duration;
  /**
   * Execution timeout. A response reissues only the affected targets, without a canary; one hour
   * bounds a hung response. A timed-out response keeps the lock until the stale-lock cleanup or
   * an operator: see the CompromiseExecutionsFailed runbook.
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
  /**
   * Dual control of an `intermediate` report (config.compromise.intermediateApproval): unless
   * `automatic`, the response waits up to `timeout` for `certflow approve|deny` before the lock.
   * @default - approval required, 30 minutes
   */
  readonly intermediateApproval?: { readonly automatic: boolean; readonly timeout: Duration };
  /**
   * Retention of the state machine's (error-level) log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /** The customer managed key of the state machine's log group (LogKey). @default CloudWatch Logs' own encryption */
  readonly logKey?: kms.IKey;
}

/**
 * The CompromiseResponse workflow (DESIGN.md "Compromise response"; Standard, JSONPath). Input:
 * the `Compromise Reported` EventBridge event, whole.
 *
 * Validate; an invalid report emits `Compromise Rejected` and ends Succeeded (outcome Rejected):
 * a bad report changes nothing, and it is the reporter's error, not a failed execution to alarm
 * on. Then the gate, before anything running is touched: plan the blast radius, and reject a scope
 * that names anything certflow does not manage the same way. Take the rotation lock unless another
 * response holds it (same scope: refused and recorded in that response's ledger; another scope:
 * wait for it), stop every running Rotation (the response preempts), Preflight; for an intermediate, prepare and
 * activate a new one; reissue every affected batch (no canary) and verify it; revoke the
 * compromised serials (and the old intermediate on both mounts), rebuilding the CRLs; report,
 * emit `Compromise Contained`, release the lock.
 *
 * Any failure emits `Compromise Response Failed`, releases the lock and fails with
 * CompromiseResponseFailed. There is no rollback: rolling back would bring compromised material
 * back. The response stops where it is, which is always safe: a new issuer is activated before
 * anything is reissued, and the old material is revoked only after every reissued target verified.
 */
export class CompromiseWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CompromiseWorkflowProps) {
    super(scope, id);
    const checkInterval = sfn.WaitTime.duration(props.checkInterval ?? Duration.seconds(5));
    const { functions } = props;
    const runId = sfn.JsonPath.stringAt('$$.Execution.Name');

    // ---- building blocks (the Rotation's: one kit) ----------------------------------------------

    const kit = new WorkflowKit<CompromiseWorkflowFunctionId>(this, { functions, ledgerTable: props.ledgerTable, eventBus: props.eventBus });
    const invoke = kit.invoke.bind(kit);
    const releaseLock = kit.releaseLock.bind(kit);
    const emit = kit.emit.bind(kit);

    // ---- failure: event, release, Fail (never a rollback) ---------------------------------------

    const responseFailed = new sfn.Fail(this, S.ResponseFailed, {
      error: CompromiseErrors.ResponseFailed,
      cause: `The compromise response failed and stopped where it was; nothing was rolled back (that would restore compromised material). Read the "${CompromiseDetailTypes.ResponseFailed}" event (its error names the step) and certflow status for this run, fix the cause, then report the compromise again: every step is idempotent.`,
    });
    const emitResponseFailed = emit(
      S.EmitResponseFailed,
      CompromiseDetailTypes.ResponseFailed,
      // Error only: a Catch always sets it, Cause not always (and the history keeps the cause).
      sfn.TaskInput.fromObject({ runId, outcome: 'Failed', error: sfn.JsonPath.stringAt(`${FAILURE_PATH}.Error`) }),
      // Released even so: a held lock would turn every later rotation into AlreadyRunning (I6).
      releaseLock(S.ReleaseLockAfterResponseFailure, responseFailed),
    );
    const catchFailure = <T extends sfn.TaskStateBase | sfn.Map>(state: T): T => {
      state.addCatch(emitResponseFailed, { errors: [sfn.Errors.ALL], resultPath: FAILURE_PATH });
      return state;
    };

    // ---- contained: report, event, release ------------------------------------------------------

    const contained = new sfn.Succeed(this, S.Contained);
    const containedOutcome = new sfn.Pass(this, S.ContainedOutcome, {
      parameters: { outcome: CompromiseOutcomes.Contained, runId, 'detail.$': '$.contained.detail' },
    });
    containedOutcome.next(contained);
    const emitContained = emit(
      S.EmitContained,
      CompromiseDetailTypes.Contained,
      sfn.TaskInput.fromJsonPathAt('$.contained.detail'),
      releaseLock(S.ReleaseCompromiseLock, containedOutcome),
    );
    // CompromiseReportInput has optional fields (reportedAt, newIssuerId) that JSONPath cannot
    // leave out conditionally, so the payload is `$.validation` (report, reportedAt when the
    // envelope had a time) merged with the ids; the handler's schema drops `valid`.
    const reportContained = catchFailure(
      invoke(S.ReportContained, 'CompromiseReport', sfn.TaskInput.fromJsonPathAt('$.reportInput.merged'), {
        resultSelector: { 'detail.$': '$.Payload' },
        resultPath: '$.contained',
      }),
    ).next(emitContained);
    const reportInput = new sfn.Pass(this, S.ReportInput, {
      parameters: { merged: sfn.JsonPath.jsonMerge(sfn.JsonPath.objectAt('$.validation'), sfn.JsonPath.objectAt('$.reportIds')) },
      resultPath: '$.reportInput',
    }).next(reportContained);
    const reportIds = new sfn.Pass(this, S.ReportIds, { parameters: { runId }, resultPath: '$.reportIds' }).next(reportInput);
    const reportIdsWithNewIssuer = new sfn.Pass(this, S.ReportIdsWithNewIssuer, {
      parameters: { runId, newIssuerId: sfn.JsonPath.stringAt('$.prepared.issuerId') },
      resultPath: '$.reportIds',
    }).next(reportInput);
    const newIssuerMade = new sfn.Choice(this, S.NewIssuerMade).when(sfn.Condition.isPresent('$.prepared.issuerId'), reportIdsWithNewIssuer).otherwise(reportIds);

    // ---- revoke: only after every reissued target verified --------------------------------------

    const revoke = (stateName: string, extra: Record<string, string>) =>
      catchFailure(
        invoke(stateName, 'CompromiseRevoke', sfn.TaskInput.fromObject({ runId, serials: sfn.JsonPath.listAt('$.plan.affected.serialsToRevoke'), ...extra }), {
          resultPath: sfn.JsonPath.DISCARD,
        }),
      ).next(newIssuerMade);
    const issuerId = sfn.JsonPath.stringAt('$.plan.affected.issuerId');
    const revokeScope = new sfn.Choice(this, S.RevokeScope)
      .when(
        sfn.Condition.and(sfn.Condition.isPresent('$.plan.affected.issuerId'), sfn.Condition.isPresent('$.plan.affected.issuerSerial')),
        revoke(S.RevokeCompromisedIssuerBySerial, { issuerId, rootSerial: sfn.JsonPath.stringAt('$.plan.affected.issuerSerial') }),
      )
      // CompromiseRevoke reads the intermediate's serial from its certificate when it is not given.
      .when(sfn.Condition.isPresent('$.plan.affected.issuerId'), revoke(S.RevokeCompromisedIssuer, { issuerId }))
      .otherwise(revoke(S.RevokeCompromised, {}));

    // ---- reissue: one inline Map iteration per batch, no canary ---------------------------------

    const item = { runId: sfn.JsonPath.stringAt('$.runId'), requestedAt: sfn.JsonPath.stringAt('$.requestedAt'), batchId: sfn.JsonPath.stringAt('$.batchId') };
    const reissueBatch = invoke(S.ReissueBatch, 'RenewBatch', sfn.TaskInput.fromObject(item), { resultSelector: { attempt: 0 }, resultPath: '$.progress' });
    const waitReissue = new sfn.Wait(this, S.WaitReissue, { time: checkInterval });
    const checkReissue = invoke(S.CheckReissue, 'CheckBatch', sfn.TaskInput.fromObject({ ...item, attempt: sfn.JsonPath.numberAt('$.progress.attempt'), phase: 'rotation' }), {
      resultSelector: Object.fromEntries(PROGRESS_FIELDS.map((field) => [`${field}.$`, `$.Payload.${field}`])),
      resultPath: '$.progress',
    });
    // VerifyBatch (phase rotation) throws VerificationFailedError on any invalid target.
    const verifyReissued = invoke(S.VerifyReissued, 'VerifyBatch', sfn.TaskInput.fromObject({ ...item, phase: 'rotation' }), { resultPath: sfn.JsonPath.DISCARD });
    const reissueDone = new sfn.Choice(this, S.ReissueDone)
      .when(sfn.Condition.booleanEquals('$.progress.done', true), verifyReissued)
      .when(
        sfn.Condition.booleanEquals('$.progress.exhausted', true),
        new sfn.Fail(this, S.ReissueTimedOut, { error: CompromiseErrors.RolloutTimeout, cause: 'A batch did not roll out before CheckBatch reached its bound.' }),
      )
      .otherwise(waitReissue);
    reissueBatch.next(waitReissue).next(checkReissue).next(reissueDone);
    const reissue = catchFailure(
      new sfn.Map(this, S.Reissue, {
        itemsPath: '$.plan.batchIds',
        itemSelector: { runId: sfn.JsonPath.stringAt('$.run.runId'), requestedAt: sfn.JsonPath.stringAt('$.run.requestedAt'), batchId: sfn.JsonPath.stringAt('$$.Map.Item.Value') },
        maxConcurrency: props.concurrency,
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    reissue.itemProcessor(reissueBatch).next(revokeScope);

    // ---- intermediate scope: a new intermediate becomes default before anything is reissued -----

    const activate = catchFailure(
      invoke(
        S.ActivateNewIntermediate,
        'ActivateIssuer',
        sfn.TaskInput.fromObject({ runId, issuerId: sfn.JsonPath.stringAt('$.prepared.issuerId'), expectedPreviousDefault: sfn.JsonPath.stringAt('$.run.previousDefault') }),
        { resultPath: sfn.JsonPath.DISCARD },
      ),
    ).next(reissue);
    const prepare = catchFailure(
      invoke(S.PrepareNewIntermediate, 'PrepareIntermediate', sfn.TaskInput.fromObject({ runId, purpose: 'compromise' }), {
        resultSelector: { 'issuerId.$': '$.Payload.issuerId' },
        resultPath: '$.prepared',
      }),
    ).next(activate);
    const intermediateScope = new sfn.Choice(this, S.IntermediateScope).when(sfn.Condition.stringEquals('$.plan.scope', 'intermediate'), prepare).otherwise(reissue);

    // ---- after the lock: preempt, preflight ----------------------------------------------------

    const recordRun = new sfn.Pass(this, S.RecordRun, {
      parameters: { validation: sfn.JsonPath.objectAt('$.validation'), plan: sfn.JsonPath.objectAt('$.plan'), run: sfn.JsonPath.objectAt('$.preflight.run') },
    }).next(intermediateScope);
    const preflight = catchFailure(
      invoke(
        S.Preflight,
        'Preflight',
        sfn.TaskInput.fromObject({
          runId,
          startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
          request: { trigger: 'compromise', forceIntermediate: false, forceRenewal: true },
        }),
        { resultSelector: { 'run.$': '$.Payload' }, resultPath: '$.preflight' },
      ),
    ).next(recordRun);
    const preempt = catchFailure(
      invoke(S.PreemptRotation, 'PreemptRotation', sfn.TaskInput.fromObject({ runId }), { resultSelector: { 'stopped.$': '$.Payload.stopped' }, resultPath: '$.preempted' }),
    ).next(preflight);

    // ---- the lock: one response at a time; a rotation's lock is taken over ----------------------

    const rejected = new sfn.Succeed(this, S.Rejected, { comment: 'A report that is invalid, names nothing managed, or repeats a running response changes nothing and is not a failed execution: the reporter gets Compromise Rejected.' });
    const rejectedWith = (pass: string, emitState: string, outcome: string, reason: string) => {
      const ending = new sfn.Pass(this, outcome, { parameters: { outcome: CompromiseOutcomes.Rejected, runId, 'reason.$': reason } });
      ending.next(rejected);
      const detail = new sfn.Pass(this, pass, {
        parameters: { reason: sfn.JsonPath.stringAt(reason), reportedBy: sfn.JsonPath.stringAt('$.validation.report.reportedBy'), receivedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime') },
        resultPath: '$.rejectedDetail',
      });
      return detail.next(emit(emitState, CompromiseDetailTypes.Rejected, sfn.TaskInput.fromJsonPathAt('$.rejectedDetail'), ending));
    };
    const holder = tasks.DynamoAttributeValue.fromString(CompromiseLockAttributes.HolderValue);
    const takeLock = new tasks.DynamoPutItem(this, S.TakeLock, {
      table: props.ledgerTable,
      item: {
        ...kit.lockItem(),
        [CompromiseLockAttributes.Holder]: holder,
        [CompromiseLockAttributes.ScopeKey]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.plan.scopeKey')),
      },
      // Free, a rotation's (it is preempted next) unless that rotation is rolling back (stopping a
      // rollback halfway leaves the fleet half restored: wait for it), or already ours (a retried
      // put): never another response's.
      conditionExpression: 'attribute_not_exists(pk) OR #owner = :owner OR ((attribute_not_exists(#holder) OR #holder <> :compromise) AND (attribute_not_exists(#phase) OR #phase <> :rollingBack))',
      expressionAttributeNames: { '#holder': CompromiseLockAttributes.Holder, '#owner': 'owner', '#phase': RotationLockPhase.attribute },
      expressionAttributeValues: { ':compromise': holder, ':owner': kit.owner, ':rollingBack': tasks.DynamoAttributeValue.fromString(RotationLockPhase.rollingBack) },
      resultPath: sfn.JsonPath.DISCARD,
    });
    takeLock.addRetry(LockTableRetry);
    const readHeldLock = new tasks.DynamoGetItem(this, S.ReadHeldLock, { table: props.ledgerTable, key: kit.lockKey, consistentRead: true, resultPath: '$.heldLock' });
    readHeldLock.addRetry(LockTableRetry);
    catchFailure(readHeldLock);
    takeLock.addCatch(readHeldLock, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: sfn.JsonPath.DISCARD });
    catchFailure(takeLock).next(preempt);
    // Another scope: the response waits its turn (the execution timeout bounds the wait).
    const waitForLock = new sfn.Wait(this, S.WaitForLock, { time: checkInterval }).next(takeLock);
    const recordDuplicate = new tasks.DynamoPutItem(this, S.RecordDuplicate, {
      table: props.ledgerTable,
      item: {
        // The running response's ledger (DynamoDbLedger: pk run#<runId>, sk log#<entry>), so its record names who was refused.
        pk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format('run#{}', sfn.JsonPath.stringAt('$.heldLock.Item.runId.S'))),
        sk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format('log#compromise#duplicate#{}', runId)),
        at: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.StartTime')),
        fields: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.duplicate'))),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    recordDuplicate.addRetry(LockTableRetry);
    catchFailure(recordDuplicate).next(rejectedWith(S.DuplicateDetail, S.EmitDuplicateRejected, S.DuplicateOutcome, '$.duplicate.reason'));
    const duplicate = new sfn.Pass(this, S.DuplicateOf, {
      parameters: {
        refusedRunId: runId,
        reportedBy: sfn.JsonPath.stringAt('$.validation.report.reportedBy'),
        reason: sfn.JsonPath.format('a compromise response for the same scope is already running ({}); this report changed nothing', sfn.JsonPath.stringAt('$.heldLock.Item.runId.S')),
      },
      resultPath: '$.duplicate',
    }).next(recordDuplicate);
    const sameScopeHeld = sfn.Condition.and(sfn.Condition.isPresent('$.heldLock.Item.scopeKey.S'), sfn.Condition.stringEqualsJsonPath('$.heldLock.Item.scopeKey.S', '$.plan.scopeKey'));
    readHeldLock.next(new sfn.Choice(this, S.SameScopeRunning).when(sameScopeHeld, duplicate).otherwise(waitForLock));

    // ---- dual control: an intermediate report waits for an operator, before the lock ------------

    const approval = props.intermediateApproval ?? { automatic: false, timeout: Duration.minutes(30) };
    let accepted: sfn.IChainable = takeLock;
    if (!approval.automatic) {
      const approvalTimedOut = new sfn.Fail(this, S.ApprovalTimedOut, {
        error: CompromiseErrors.ApprovalTimedOut,
        cause: `Nobody approved or denied the intermediate report within ${approval.timeout.toMinutes()} minutes; nothing was changed (no lock, no preemption). Report it again and approve it with certflow approve <run>.`,
      });
      const emitApprovalTimedOut = emit(
        S.EmitApprovalTimedOut,
        CompromiseDetailTypes.ResponseFailed,
        sfn.TaskInput.fromObject({ runId, outcome: 'Failed', error: CompromiseErrors.ApprovalTimedOut }),
        approvalTimedOut,
      );
      const approvalDenied = new sfn.Pass(this, S.ApprovalDenied, {
        parameters: { reason: 'an operator denied the intermediate report (certflow deny); nothing was changed' },
        resultPath: '$.denial',
      }).next(rejectedWith(S.ApprovalDeniedDetail, S.EmitApprovalDenied, S.ApprovalDeniedOutcome, '$.denial.reason'));
      // What the operator approves: the blast radius, in counts (a fleet's target ids can be thousands).
      const approvalRequest = new sfn.Pass(this, S.ApprovalRequest, {
        parameters: {
          runId,
          scope: sfn.JsonPath.stringAt('$.plan.scope'),
          issuerId: sfn.JsonPath.stringAt('$.plan.affected.issuerId'),
          reportedBy: sfn.JsonPath.stringAt('$.validation.report.reportedBy'),
          services: sfn.JsonPath.listAt('$.plan.affected.services'),
          targets: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.plan.affected.targetIds')),
          serialsToRevoke: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.plan.affected.serialsToRevoke')),
          approveWith: sfn.JsonPath.format('certflow approve {}', runId),
          denyWith: sfn.JsonPath.format('certflow deny {}', runId),
        },
        resultPath: '$.approvalRequest',
      });
      const recordPendingApproval = new tasks.DynamoPutItem(this, S.RecordPendingApproval, {
        table: props.ledgerTable,
        item: {
          pk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format('run#{}', runId)),
          sk: tasks.DynamoAttributeValue.fromString(`log#${CompromiseApprovalEntry}`),
          at: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.StartTime')),
          fields: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.approvalRequest'))),
        },
        resultPath: sfn.JsonPath.DISCARD,
      });
      recordPendingApproval.addRetry(LockTableRetry);
      // Step Functions hands the token to the callback only through the task's parameters; the
      // token alone grants nothing (SendTaskSuccess is an IAM action of the operator's).
      const awaitApproval = new tasks.EventBridgePutEvents(this, S.AwaitApproval, {
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        entries: [
          {
            eventBus: props.eventBus,
            source: EventSource,
            detailType: CompromiseDetailTypes.ApprovalRequested,
            detail: sfn.TaskInput.fromObject({ runId, request: sfn.JsonPath.objectAt('$.approvalRequest'), taskToken: sfn.JsonPath.taskToken }),
          },
        ],
        taskTimeout: sfn.Timeout.duration(approval.timeout),
        resultPath: '$.approval',
      });
      // The claim on the scope ends with the wait, whichever way it ends (a DeleteItem of a claim
      // this execution no longer holds changes nothing).
      const claimKey = { pk: tasks.DynamoAttributeValue.fromString(PendingScopeClaim.pk), sk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.plan.scopeKey')) };
      const releaseClaim = (stateName: string, then: sfn.IChainable) => {
        const release = new tasks.DynamoDeleteItem(this, stateName, { table: props.ledgerTable, key: claimKey, conditionExpression: '#owner = :owner', ...kit.ownedByThisExecution, resultPath: sfn.JsonPath.DISCARD });
        release.addRetry(LockTableRetry);
        release.addCatch(then, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: sfn.JsonPath.DISCARD });
        return release.next(then);
      };
      awaitApproval.addCatch(releaseClaim(S.ReleaseClaimDenied, approvalDenied), { errors: [CompromiseApprovalErrors.Denied], resultPath: '$.approvalFailure' });
      awaitApproval.addCatch(releaseClaim(S.ReleaseClaimTimedOut, emitApprovalTimedOut), { errors: [sfn.Errors.TIMEOUT], resultPath: '$.approvalFailure' });
      awaitApproval.addCatch(releaseClaim(S.ReleaseClaimFailed, emitResponseFailed), { errors: [sfn.Errors.ALL], resultPath: FAILURE_PATH });
      awaitApproval.next(releaseClaim(S.ReleaseClaimApproved, takeLock));
      approvalRequest.next(catchFailure(recordPendingApproval)).next(awaitApproval);

      // A second report for the same scope is refused before it waits: while the first waits for
      // approval (its claim) or runs (the lock), named in that run's ledger (RecordDuplicate).
      const duplicatePending = new sfn.Pass(this, S.DuplicatePendingOf, {
        parameters: {
          refusedRunId: runId,
          reportedBy: sfn.JsonPath.stringAt('$.validation.report.reportedBy'),
          reason: sfn.JsonPath.format('a compromise report for the same scope is already waiting for approval ({}); this report changed nothing', sfn.JsonPath.stringAt('$.heldLock.Item.runId.S')),
        },
        resultPath: '$.duplicate',
      }).next(recordDuplicate);
      const readPendingClaim = new tasks.DynamoGetItem(this, S.ReadPendingClaim, { table: props.ledgerTable, key: claimKey, consistentRead: true, resultPath: '$.heldLock' });
      readPendingClaim.addRetry(LockTableRetry);
      // The claim vanished between the two calls (its wait ended): claim again.
      const claimPendingScope = new tasks.DynamoPutItem(this, S.ClaimPendingScope, {
        table: props.ledgerTable,
        item: {
          ...claimKey,
          owner: kit.owner,
          runId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.Name')),
          at: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.StartTime')),
        },
        conditionExpression: 'attribute_not_exists(pk) OR #owner = :owner',
        ...kit.ownedByThisExecution,
        resultPath: sfn.JsonPath.DISCARD,
      });
      claimPendingScope.addRetry(LockTableRetry);
      claimPendingScope.addCatch(readPendingClaim, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: sfn.JsonPath.DISCARD });
      catchFailure(claimPendingScope).next(approvalRequest);
      catchFailure(readPendingClaim).next(new sfn.Choice(this, S.PendingClaimHeld).when(sfn.Condition.isPresent('$.heldLock.Item.runId.S'), duplicatePending).otherwise(claimPendingScope));
      const readLockBeforeApproval = new tasks.DynamoGetItem(this, S.ReadLockBeforeApproval, { table: props.ledgerTable, key: kit.lockKey, consistentRead: true, resultPath: '$.heldLock' });
      readLockBeforeApproval.addRetry(LockTableRetry);
      catchFailure(readLockBeforeApproval).next(new sfn.Choice(this, S.SameScopeRunningBeforeApproval).when(sameScopeHeld, duplicate).otherwise(claimPendingScope));
      accepted = new sfn.Choice(this, S.NeedsApproval).when(sfn.Condition.stringEquals('$.plan.scope', 'intermediate'), readLockBeforeApproval).otherwise(takeLock);
    }

    // ---- the gate: plan the blast radius before touching anything -------------------------------

    const scopeAccepted = new sfn.Choice(this, S.ScopeAccepted)
      .when(sfn.Condition.booleanEquals('$.plan.accepted', true), accepted)
      .otherwise(rejectedWith(S.ScopeRejectedDetail, S.EmitScopeRejected, S.ScopeRejectedOutcome, '$.plan.rejectedReason'));
    const plan = catchFailure(
      invoke(S.PlanCompromise, 'CompromisePlan', sfn.TaskInput.fromObject({ runId, report: sfn.JsonPath.objectAt('$.validation.report') }), {
        resultSelector: Object.fromEntries(['scope', 'scopeKey', 'accepted', 'rejectedReason', 'affected', 'batchIds'].map((field) => [`${field}.$`, `$.Payload.${field}`])),
        resultPath: '$.plan',
      }),
    ).next(scopeAccepted);

    // ---- validate -------------------------------------------------------------------------------

    const rejectedOutcome = new sfn.Pass(this, S.RejectedOutcome, {
      parameters: { outcome: CompromiseOutcomes.Rejected, runId, 'reason.$': '$.validation.reason' },
    });
    rejectedOutcome.next(rejected);
    const emitRejected = emit(S.EmitRejected, CompromiseDetailTypes.Rejected, sfn.TaskInput.fromJsonPathAt('$.validation.rejectedDetail'), rejectedOutcome);
    const reportValid = new sfn.Choice(this, S.ReportValid).when(sfn.Condition.booleanEquals('$.validation.valid', true), plan).otherwise(emitRejected);
    // The whole event goes in: CompromiseValidate parses it at the edge (a bad event is data).
    const validate = catchFailure(
      invoke(S.ValidateReport, 'CompromiseValidate', sfn.TaskInput.fromJsonPathAt('$'), { resultSelector: { 'validation.$': '$.Payload' }, resultPath: '$.validated' }),
    );
    // Keep only the validation: the raw event (possibly large or hostile) leaves the state here.
    const keepValidation = new sfn.Pass(this, S.KeepValidation, { parameters: { validation: sfn.JsonPath.objectAt('$.validated.validation') } }).next(reportValid);
    validate.next(keepValidation);

    // ---- the state machine ----------------------------------------------------------------------

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/certflow-${props.deploymentName}-compromise`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(props.logKey ? { encryptionKey: props.logKey } : {}),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'certflow CompromiseResponse: preempt the rotation, reissue, verify, revoke and report a compromised certificate or intermediate',
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(validate),
      // The approval's wait comes on top of the response's hour.
      timeout: props.timeout ?? Duration.minutes(60 + (approval.automatic ? 0 : approval.timeout.toMinutes())),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-SF1',
        reason: 'Logs errors only, on purpose (as the Rotation): the execution history keeps every transition for 90 days, the ledger keeps the run, and execution data is never logged (I2).',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Vended log delivery and X-Ray support no resource-level permissions; CDK adds exactly these with resource "*".',
      },
      ...[...new Set(COMPROMISE_WORKFLOW_FUNCTIONS.map((functionId) => functions[functionId]))].map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(fn)}.Arn>:*]`,
        reason: `lambda:InvokeFunction on ${fn.node.id}'s versions and aliases (ARN:*), which the CDK adds next to the function ARN; it is scoped to this one function.`,
      })),
    );
  }
}

export interface CompromiseAlarmsProps {
  /** Deployment name (config.name): prefixes the alarm name. */
  readonly deploymentName: string;
  /** The CompromiseResponse state machine. */
  readonly stateMachine: sfn.IStateMachine;
  /** Where alarm and OK notifications go. */
  readonly topic: sns.ITopic;
}

/** The alarm of the compromise response, with its runbook. */
export class CompromiseAlarms extends Construct {
  readonly executionsFailed: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: CompromiseAlarmsProps) {
    super(scope, id);
    const lockItem = `the ledger item pk=${RotationLock.pk}, sk=${RotationLock.sk}`;
    this.executionsFailed = new cloudwatch.Alarm(this, 'CompromiseExecutionsFailed', {
      alarmName: `certflow-${props.deploymentName}-CompromiseExecutionsFailed`,
      alarmDescription: [
        'PAGE: a compromise response failed (or timed out) and the compromise may not be contained. Runbook: open the execution in Step Functions and read its error;',
        `${CompromiseErrors.ResponseFailed}: read the "${CompromiseDetailTypes.ResponseFailed}" event and certflow status <run> for the failed step. Nothing was rolled back on purpose: a new intermediate, if one was made, stays default; do NOT restore the old one.`,
        'Fix the cause (Vault sealed or unreachable, cluster access, a target that does not verify), then report the same compromise again (certflow compromise): every step is idempotent and finishes what is left.',
        `If the execution failed outside its own states (States.Runtime, timeout), it may still hold the lock: if ${lockItem} names that execution as owner, delete it.`,
      ].join(' '),
      metric: props.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      ...ON_FIRST_OCCURRENCE,
    });
    const notify = new actions.SnsAction(props.topic);
    this.executionsFailed.addAlarmAction(notify);
    this.executionsFailed.addOkAction(notify);
  }
}

/** The logical id of a function's CfnFunction, as cdk-nag names it in IAM5 findings. */
function logicalIdOf(fn: lambda.IFunction): string {
  const cfn = fn.node.defaultChild;
  if (!cfn || !('logicalId' in cfn)) throw new Error(`${fn.node.path} has no CfnFunction`);
  return fn.stack.resolve((cfn as { logicalId: string }).logicalId) as string;
}
