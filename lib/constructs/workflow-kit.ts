import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { EventSource } from '../../functions/contracts/events';
import { FunctionRegistry, type FunctionId } from '../../functions/contracts/functions';
import { RotationLock } from '../../functions/contracts/rotation-payloads';
import { EventPublishRetry, LockTableRetry, RotationTransientRetry, VaultSealedRetry } from './retry-policies';

export interface WorkflowKitProps<F extends FunctionId> {
  /** The functions the workflow invokes, by FunctionRegistry id. */
  readonly functions: Readonly<Pick<Record<FunctionId, lambda.IFunction>, F>>;
  /** The ledger table that holds the rotation lock (RotationLock). */
  readonly ledgerTable: dynamodb.ITable;
  /** The certflow bus the workflow's events go to. */
  readonly eventBus: events.IEventBus;
}

/**
 * The states the Rotation and CompromiseResponse workflows are built from, written once: they
 * share the lock, the bus and the retry policies, and copies of these builders drifted (task
 * timeouts on one workflow only). Each builder creates its state in `scope`, the workflow.
 */
export class WorkflowKit<F extends FunctionId> {
  /** The rotation lock's key in the ledger table. */
  readonly lockKey = {
    pk: tasks.DynamoAttributeValue.fromString(RotationLock.pk),
    sk: tasks.DynamoAttributeValue.fromString(RotationLock.sk),
  };
  /** The lock's owner is the execution ARN: the stale-lock rule's event carries exactly that. */
  readonly owner = tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.Id'));
  /** `#owner = :owner`'s names and values: the lock is this execution's. */
  readonly ownedByThisExecution = {
    expressionAttributeNames: { '#owner': 'owner' },
    expressionAttributeValues: { ':owner': this.owner },
  };

  constructor(
    private readonly scope: Construct,
    private readonly props: WorkflowKitProps<F>,
  ) {}

  /**
   * A Lambda step. Every step is idempotent (I4), so both named retry policies apply to all, and
   * they replace the CDK's default Lambda retry (6 attempts). The task waits exactly as long as
   * its function may run (revoking a large blast radius rebuilds the CRL once per serial), never
   * a shorter or longer engine default.
   */
  invoke(stateName: string, functionId: F, payload: sfn.TaskInput, result: Pick<tasks.LambdaInvokeProps, 'resultPath' | 'resultSelector' | 'outputPath'>): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this.scope, stateName, {
      lambdaFunction: this.props.functions[functionId],
      payload,
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(FunctionRegistry[functionId].timeoutSeconds)),
      ...result,
    });
    task.addRetry(VaultSealedRetry);
    task.addRetry(RotationTransientRetry);
    return task;
  }

  /** The lock item this execution writes: key, owner, run id, and when it was taken. */
  lockItem(): Record<string, tasks.DynamoAttributeValue> {
    return {
      ...this.lockKey,
      owner: this.owner,
      runId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.Name')),
      // The lock is taken at the start of a run, so the execution's start is when it was taken
      // (and $$.State.EnteredTime is not available to the local runner).
      acquiredAt: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.StartTime')),
    };
  }

  /**
   * Releases the lock iff this execution owns it. A failed condition means it is not ours any
   * more (already released by an earlier attempt of this call, or cleared by an operator), which
   * is what releasing wanted: go on to `then`.
   */
  releaseLock(stateName: string, then: sfn.State): tasks.DynamoDeleteItem {
    const release = new tasks.DynamoDeleteItem(this.scope, stateName, {
      table: this.props.ledgerTable,
      key: this.lockKey,
      conditionExpression: '#owner = :owner',
      ...this.ownedByThisExecution,
      resultPath: sfn.JsonPath.DISCARD,
    });
    release.addRetry(LockTableRetry);
    release.addCatch(then, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: sfn.JsonPath.DISCARD });
    release.next(then);
    return release;
  }

  /**
   * Publishes one event. An event that cannot be published after the retries does not change the
   * run's outcome (the ledger has the record): the Catch goes on to `then`, keeping the error at
   * `$.eventFailure` in the execution's output.
   */
  emit(stateName: string, detailType: string, detail: sfn.TaskInput, then: sfn.State): tasks.EventBridgePutEvents {
    const put = new tasks.EventBridgePutEvents(this.scope, stateName, {
      entries: [{ eventBus: this.props.eventBus, source: EventSource, detailType, detail }],
      resultPath: sfn.JsonPath.DISCARD,
    });
    put.addRetry(EventPublishRetry);
    put.addCatch(then, { errors: [sfn.Errors.ALL], resultPath: '$.eventFailure' });
    put.next(then);
    return put;
  }
}
