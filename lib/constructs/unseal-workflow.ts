import { Duration, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { DetailTypes, EventSource } from '../../functions/contracts/events';
import { EventPublishRetry, LambdaServiceRetry, UnsealTransientRetry } from './retry-policies';

/** State names of the Unseal state machine: the local runner and the tests address states by them. */
export const UnsealStates = {
  DiscoverNodes: 'DiscoverNodes',
  UnsealEachNode: 'UnsealEachNode',
  UnsealNode: 'UnsealNode',
  RecordNodeFailure: 'RecordNodeFailure',
  ReportUnseal: 'ReportUnseal',
  PublishUnsealEvent: 'PublishUnsealEvent',
  AllNodesUnsealed: 'AllNodesUnsealed?',
  Unsealed: 'Unsealed',
  UnsealFailed: 'UnsealFailed',
} as const;

/** The error of the Fail state when nodes stay sealed (what the ExecutionsFailed alarm counts). */
export const UNSEAL_FAILED_ERROR = 'VaultUnsealFailed';

export interface UnsealWorkflowProps {
  /** Deployment name (config.name): names the log group. */
  readonly deploymentName: string;
  /** Lists the nodes to unseal (FunctionRegistry.UnsealDiscover). */
  readonly discoverFunction: lambda.IFunction;
  /** Unseals one node (FunctionRegistry.UnsealNode). */
  readonly unsealNodeFunction: lambda.IFunction;
  /** Re-reads every node, publishes metrics and builds the event (FunctionRegistry.UnsealReport). */
  readonly reportFunction: lambda.IFunction;
  /** The certflow bus that receives `Vault Unsealed` / `Vault Unseal Failed`. */
  readonly eventBus: events.IEventBus;
  /**
   * Execution timeout. A run normally takes seconds; 5 minutes bounds a hung run while leaving
   * room for every retry of every node.
   * @default Duration.minutes(5)
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
 * The Unseal workflow (Standard, JSONPath): discover the nodes, unseal each one (a failure of one
 * node is recorded, never fatal to the others), report, publish the event, and fail the
 * execution when any node is still sealed so alarms fire.
 *
 * Payloads carry node ids, URLs, outcomes and error names only (I2); the logs are error-level
 * without execution data, so not even those reach CloudWatch Logs.
 */
export class UnsealWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: UnsealWorkflowProps) {
    super(scope, id);

    const discover = new tasks.LambdaInvoke(this, UnsealStates.DiscoverNodes, {
      lambdaFunction: props.discoverFunction,
      payload: sfn.TaskInput.fromObject({
        // The execution name is the run id on every log line and event.
        runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
        request: sfn.JsonPath.entirePayload,
      }),
      outputPath: '$.Payload',
      // Our named policy replaces the CDK's default Lambda retry (6 attempts).
      retryOnServiceExceptions: false,
    });
    discover.addRetry(LambdaServiceRetry);

    const unsealNode = new tasks.LambdaInvoke(this, UnsealStates.UnsealNode, {
      lambdaFunction: props.unsealNodeFunction,
      payload: sfn.TaskInput.fromJsonPathAt('$'),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
    });
    // UnsealKeySetRejectedError and ShareDecryptError are deliberately not retried (TerminalUnsealErrors).
    unsealNode.addRetry(UnsealTransientRetry);
    const recordFailure = new sfn.Pass(this, UnsealStates.RecordNodeFailure, {
      parameters: {
        node: sfn.JsonPath.objectAt('$.node'),
        failure: sfn.JsonPath.objectAt('$.failure'),
      },
    });
    unsealNode.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });

    const eachNode = new sfn.Map(this, UnsealStates.UnsealEachNode, {
      itemsPath: '$.nodes',
      itemSelector: {
        runId: sfn.JsonPath.stringAt('$.runId'),
        node: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
      },
      // Every node at once: there are a handful, and each is addressed directly.
      maxConcurrency: 0,
      resultPath: '$.results',
    });
    eachNode.itemProcessor(unsealNode);

    const report = new tasks.LambdaInvoke(this, UnsealStates.ReportUnseal, {
      lambdaFunction: props.reportFunction,
      payload: sfn.TaskInput.fromObject({
        runId: sfn.JsonPath.stringAt('$.runId'),
        trigger: sfn.JsonPath.stringAt('$.trigger'),
        results: sfn.JsonPath.listAt('$.results'),
      }),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
    });
    report.addRetry(LambdaServiceRetry);

    const publish = new tasks.EventBridgePutEvents(this, UnsealStates.PublishUnsealEvent, {
      entries: [
        {
          eventBus: props.eventBus,
          source: EventSource,
          detailType: sfn.JsonPath.stringAt('$.detailType'),
          detail: sfn.TaskInput.fromJsonPathAt('$.detail'),
        },
      ],
      resultPath: sfn.JsonPath.DISCARD,
    });
    publish.addRetry(EventPublishRetry);

    const unsealed = new sfn.Succeed(this, UnsealStates.Unsealed);
    const failed = new sfn.Fail(this, UnsealStates.UnsealFailed, {
      error: UNSEAL_FAILED_ERROR,
      cause: `One or more Vault nodes are still sealed after this run; see the "${DetailTypes.VaultUnsealFailed}" event on the certflow bus for each node's outcome.`,
    });
    const allUnsealed = new sfn.Choice(this, UnsealStates.AllNodesUnsealed)
      .when(sfn.Condition.booleanEquals('$.allUnsealed', true), unsealed)
      .otherwise(failed);

    const definition = discover.next(eachNode).next(report).next(publish).next(allUnsealed);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The vended-logs prefix keeps CloudWatch Logs' account-wide resource policy from growing
      // with every log group that Step Functions delivers to.
      logGroupName: `/aws/vendedlogs/states/certflow-${props.deploymentName}-unseal`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(props.logKey ? { encryptionKey: props.logKey } : {}),
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'certflow Unseal: keep every Vault node unsealed with KMS-wrapped Shamir shares',
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: props.timeout ?? Duration.minutes(5),
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
          'Logs errors only, on purpose: the workflow runs every minute, so ALL would log every state transition of 1,440 runs a day for no diagnostic gain; the execution history keeps every transition for 90 days, and execution data is never logged (I2).',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Vended log delivery (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) and X-Ray (xray:PutTraceSegments, GetSamplingRules, ...) support no resource-level permissions; CDK adds exactly these with resource "*".',
      },
      ...[props.discoverFunction, props.unsealNodeFunction, props.reportFunction].map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(fn)}.Arn>:*]`,
        reason: `lambda:InvokeFunction on ${fn.node.id}'s versions and aliases (ARN:*), which the CDK adds next to the function ARN so an alias or version can be invoked; it is scoped to this one function.`,
      })),
    );
  }
}

/** The logical id of a function's CfnFunction, as cdk-nag names it in IAM5 findings. */
function logicalIdOf(fn: lambda.IFunction): string {
  const cfn = fn.node.defaultChild;
  if (!cfn || !('logicalId' in cfn)) throw new Error(`${fn.node.path} has no CfnFunction`);
  const stack = fn.stack;
  return stack.resolve((cfn as { logicalId: string }).logicalId) as string;
}
