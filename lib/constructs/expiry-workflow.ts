import { Duration, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { EventSource } from '../../functions/contracts/events';
import { EventPublishRetry, LambdaServiceRetry } from './retry-policies';

/** State names of the ExpirySweep state machine: the tests address states by them. */
export const ExpiryStates = {
  SweepTargets: 'SweepTargets',
  SweepIssuers: 'SweepIssuers',
  ReportExpiry: 'ReportExpiry',
  PublishEachEvent: 'PublishEachEvent',
  PublishExpiringEvent: 'PublishExpiringEvent',
  Swept: 'Swept',
} as const;

export interface ExpiryWorkflowProps {
  /** Deployment name (config.name): names the log group. */
  readonly deploymentName: string;
  /** Reads every target's stored and served certificate (FunctionRegistry.ExpiryTargets). */
  readonly targetsFunction: lambda.IFunction;
  /** Reads every issuer (FunctionRegistry.ExpiryIssuers). */
  readonly issuersFunction: lambda.IFunction;
  /** Gauges, events and thresholds (FunctionRegistry.ExpiryReport). */
  readonly reportFunction: lambda.IFunction;
  /** The certflow bus that receives `Certificate Expiring`. */
  readonly eventBus: events.IEventBus;
  /**
   * Execution timeout. A sweep reads each Secret once and makes one handshake per endpoint (3 s
   * at most each, 8 side by side); 15 minutes bounds a hung run of a fleet of thousands.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** The customer managed key of the state machine's log group (LogKey). @default CloudWatch Logs' own encryption */
  readonly logKey?: kms.IKey;
}

/**
 * The expiry sweep (Standard, JSONPath): gather the targets, gather the issuers, report (gauges,
 * thresholds met), put each `Certificate Expiring` event on the bus. It writes nothing but
 * metrics and events: no Secret, no Vault state, no ledger item (the workflow test checks bytes).
 * It succeeds even when alarms' thresholds are met: the alarms watch the gauges, and a failed
 * execution means the sweep itself could not look.
 */
export class ExpiryWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ExpiryWorkflowProps) {
    super(scope, id);
    const runId = sfn.JsonPath.stringAt('$$.Execution.Name');

    const targets = new tasks.LambdaInvoke(this, ExpiryStates.SweepTargets, {
      lambdaFunction: props.targetsFunction,
      payload: sfn.TaskInput.fromObject({ runId }),
      resultSelector: { targets: sfn.JsonPath.listAt('$.Payload.targets') },
      resultPath: '$.swept.targets',
      retryOnServiceExceptions: false,
    });
    targets.addRetry(LambdaServiceRetry);
    const issuers = new tasks.LambdaInvoke(this, ExpiryStates.SweepIssuers, {
      lambdaFunction: props.issuersFunction,
      payload: sfn.TaskInput.fromObject({ runId }),
      resultSelector: { issuers: sfn.JsonPath.listAt('$.Payload.issuers') },
      resultPath: '$.swept.issuers',
      retryOnServiceExceptions: false,
    });
    issuers.addRetry(LambdaServiceRetry);
    const report = new tasks.LambdaInvoke(this, ExpiryStates.ReportExpiry, {
      lambdaFunction: props.reportFunction,
      payload: sfn.TaskInput.fromObject({
        runId,
        trigger: sfn.JsonPath.stringAt('$.trigger'),
        targets: sfn.JsonPath.listAt('$.swept.targets.targets'),
        issuers: sfn.JsonPath.listAt('$.swept.issuers.issuers'),
      }),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
    });
    report.addRetry(LambdaServiceRetry);

    const publish = new tasks.EventBridgePutEvents(this, ExpiryStates.PublishExpiringEvent, {
      entries: [{ eventBus: props.eventBus, source: EventSource, detailType: sfn.JsonPath.stringAt('$.detailType'), detail: sfn.TaskInput.fromJsonPathAt('$.detail') }],
      resultPath: sfn.JsonPath.DISCARD,
    });
    publish.addRetry(EventPublishRetry);
    const eachEvent = new sfn.Map(this, ExpiryStates.PublishEachEvent, {
      itemsPath: '$.events',
      // A few at a time: PutEvents is cheap, and a burst of thousands would meet the bus's quota.
      maxConcurrency: 10,
      resultPath: sfn.JsonPath.DISCARD,
    });
    eachEvent.itemProcessor(publish);

    const definition = targets.next(issuers).next(report).next(eachEvent).next(new sfn.Succeed(this, ExpiryStates.Swept));

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/certflow-${props.deploymentName}-expiry`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(props.logKey ? { encryptionKey: props.logKey } : {}),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'certflow ExpirySweep: days to expiry of every target and issuer, Certificate Expiring events; changes nothing',
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: props.timeout ?? Duration.minutes(15),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });

    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-SF1',
        reason: 'Logs errors only, and never execution data (I2): the execution history keeps every transition for 90 days.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Vended log delivery and X-Ray support no resource-level permissions; CDK adds exactly these with resource "*".',
      },
      ...[props.targetsFunction, props.issuersFunction, props.reportFunction].map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(fn)}.Arn>:*]`,
        reason: `lambda:InvokeFunction on ${fn.node.id}'s versions and aliases (ARN:*), which the CDK adds next to the function ARN; it is scoped to this one function.`,
      })),
    );
  }
}

function logicalIdOf(fn: lambda.IFunction): string {
  const cfn = fn.node.defaultChild;
  if (!cfn || !('logicalId' in cfn)) throw new Error(`${fn.node.path} has no CfnFunction`);
  return fn.stack.resolve((cfn as { logicalId: string }).logicalId) as string;
}
