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
