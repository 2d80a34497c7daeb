import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_CONFIG_PATH } from '../../bin/app';
import { loadConfig } from '../../lib/config';
import { Metrics } from '../../functions/contracts/functions';
import { loadTemplate } from '../support/template';

const config = loadConfig(DEFAULT_CONFIG_PATH);
const raw = loadTemplate();
const template = Template.fromJSON(raw as never);
const [stateMachineId] = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));

describe('the unseal schedule', () => {
  it('starts the Unseal state machine at the configured rate with {"trigger":"schedule"}, on time', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: config.schedules.unseal,
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: { Arn: { Ref: stateMachineId }, Input: JSON.stringify({ trigger: 'schedule' }) },
    });
  });

  it('retries a failed start briefly and then dead-letters it into an encrypted, SSL-only queue', () => {
    const schedule = Object.values(template.findResources('AWS::Scheduler::Schedule'))[0]!;
    const target = schedule['Properties']['Target'];
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 });
    const queueId = target.DeadLetterConfig.Arn['Fn::GetAtt'][0] as string;
    expect(raw.Resources[queueId]!.Properties).toMatchObject({ SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('the alarms', () => {
  it('VaultSealed fires when any node stays sealed for the configured consecutive minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: Metrics.Namespace,
      MetricName: Metrics.VaultSealedNodes,
      // Powertools puts the service name on every EMF document as a dimension: the stored metric carries it.
      Dimensions: [{ Name: Metrics.ClusterDimension, Value: config.vault.clusterId }, { Name: Metrics.ServiceDimension, Value: Metrics.ServiceName }],
      Statistic: 'Maximum',
      Period: 60,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: config.alarms.sealedMinutes,
      DatapointsToAlarm: config.alarms.sealedMinutes,
      // Missing data means the workflow is not running: nothing is keeping Vault unsealed.
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: topicId }],
      AlarmDescription: Match.stringLikeRegexp('Runbook'),
    });
  });

  it('VaultImpostorNodes pages on the first node refused as not the configured Vault', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: Metrics.Namespace,
      MetricName: Metrics.VaultImpostorNodes,
      // Powertools puts the service name on every EMF document as a dimension: the stored metric carries it.
      Dimensions: [{ Name: Metrics.ClusterDimension, Value: config.vault.clusterId }, { Name: Metrics.ServiceDimension, Value: Metrics.ServiceName }],
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topicId }],
      AlarmDescription: Match.stringLikeRegexp('VaultIdentityMismatchError.*Runbook'),
    });
  });

  it('UnsealExecutionsFailed fires on failed executions of the Unseal state machine', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('notify a KMS-encrypted topic that accepts SSL only', () => {
    const topic = raw.Resources[topicId!]!;
    expect(topic.Properties).toMatchObject({ KmsMasterKeyId: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('the stack outputs', () => {
  it('export the state machine, the bus, the tables and the key', () => {
    const outputs = Object.keys(template.toJSON().Outputs ?? {});
    expect(outputs).toEqual(expect.arrayContaining(['UnsealStateMachineArn', 'EventBusName', 'ShareTableName', 'LedgerTableName', 'UnsealKeyArn']));
  });

  it('name the bus certflow-<deployment>', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: `certflow-${config.name}` });
  });
});

describe('the notifications a person acts on', () => {
  const { NOTIFICATIONS } = require('../../lib/constructs/event-notifications') as typeof import('../../lib/constructs/event-notifications');
  const { RotationEventDetailSchema } = require('../../functions/contracts/rotation-payloads') as typeof import('../../functions/contracts/rotation-payloads');
  const { CompromiseContainedDetailSchema } = require('../../functions/contracts/compromise-payloads') as typeof import('../../functions/contracts/compromise-payloads');
  const { UnsealEventDetailSchema } = require('../../functions/contracts/events') as typeof import('../../functions/contracts/events');
  const rules = Object.values(template.findResources('AWS::Events::Rule'));
  const ruleFor = (detailType: string) => rules.find((rule) => JSON.stringify(rule['Properties']['EventPattern']['detail-type']) === JSON.stringify([detailType]) && rule['Properties']['Targets'][0]?.Arn?.Ref === topicId);

  /** The path of the event a message field is read from: `"field":<key>` in the template, key -> path in the map. */
  const pathOf = (detailType: string, field: string): string | undefined => {
    const transformer = ruleFor(detailType)?.['Properties']['Targets'][0].InputTransformer;
    const key = new RegExp(`"${field}":<([^>]+)>`).exec(transformer?.InputTemplate ?? '')?.[1];
    return key ? transformer.InputPathsMap[key] : undefined;
  };

  it('sends each to the alarm topic with the run, what it concerns, the cause and the runbook step', () => {
    for (const spec of NOTIFICATIONS) {
      expect([spec.detailType, pathOf(spec.detailType, 'run')]).toEqual([spec.detailType, '$.detail.runId']);
      expect(ruleFor(spec.detailType)!['Properties']['Targets'][0].InputTransformer.InputTemplate).toContain(`"runbook":${JSON.stringify(spec.runbook).slice(0, 40)}`);
    }
    const rolledBack = Object.fromEntries(['services', 'cause', 'error', 'previousIssuer', 'newIssuer'].map((field) => [field, pathOf('Rotation Rolled Back', field)]));
    expect(rolledBack).toEqual({ services: '$.detail.services', cause: '$.detail.cause', error: '$.detail.error', previousIssuer: '$.detail.intermediate.previousIssuer', newIssuer: '$.detail.intermediate.newIssuer' });
    const contained = Object.fromEntries(['services', 'serials', 'issuers', 'reason'].map((field) => [field, pathOf('Compromise Contained', field)]));
    expect(contained).toEqual({ services: '$.detail.blastRadius.services', serials: '$.detail.blastRadius.serialsRevoked', issuers: '$.detail.blastRadius.issuerIds', reason: '$.detail.reason' });
  });

  it('reads only fields its event detail has, and never the approval’s task token', () => {
    const schemas: Record<string, unknown> = { 'Rotation Rolled Back': RotationEventDetailSchema, 'Rotation Failed': RotationEventDetailSchema, 'Compromise Contained': CompromiseContainedDetailSchema, 'Vault Unseal Failed': UnsealEventDetailSchema };
    const has = (schema: any, path: string[]): boolean => {
      let current = schema;
      for (const key of path) {
        while (current?.unwrap && !current.shape) current = current.unwrap();
        current = current?.shape?.[key];
        if (!current) return false;
      }
      return true;
    };
    for (const spec of NOTIFICATIONS.filter((entry) => schemas[entry.detailType])) {
      for (const path of Object.values(spec.fields)) expect([spec.detailType, path, has(schemas[spec.detailType], path.split('.'))]).toEqual([spec.detailType, path, true]);
    }
    const approval = ruleFor('Compromise Approval Requested')!['Properties']['Targets'][0].InputTransformer;
    expect(JSON.stringify(approval)).not.toMatch(/taskToken/i);
  });

  it('lets EventBridge use the topic key, for this account only', () => {
    const keys = Object.values(template.findResources('AWS::KMS::Key'));
    const statement = keys.flatMap((key) => key['Properties']['KeyPolicy']['Statement'] as Array<Record<string, any>>).find((entry) => entry['Sid'] === 'EventBridgePublishesNotifications');
    expect(statement).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } });
  });
});
