import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ON_FIRST_OCCURRENCE } from './alarm-on-first';
import { Construct } from 'constructs';
import { DetailTypes } from '../../functions/contracts/events';
import { Metrics } from '../../functions/contracts/functions';

export interface UnsealAlarmsProps {
  /** Deployment name (config.name): prefixes the alarm names. */
  readonly deploymentName: string;
  /** Vault cluster id: the `Cluster` dimension of the sealed-nodes metric. */
  readonly clusterId: string;
  /** Consecutive sealed minutes before the VaultSealed alarm fires (config.alarms.sealedMinutes). */
  readonly sealedMinutes: number;
  /** The Unseal state machine. */
  readonly stateMachine: sfn.IStateMachine;
  /** Where alarm and OK notifications go. */
  readonly topic: sns.ITopic;
  /**
   * The schedule's dead-letter queue: a message there is a run that never started.
   * @default - no dead-letter alarm
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/** Alarms of the Unseal capability, each with a short runbook in its description. */
/** A per-cluster gauge the unseal report publishes every minute, read at its worst minute. */
function clusterGauge(metricName: string, clusterId: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: Metrics.Namespace,
    metricName,
    dimensionsMap: { [Metrics.ServiceDimension]: Metrics.ServiceName, [Metrics.ClusterDimension]: clusterId },
    statistic: cloudwatch.Stats.MAXIMUM,
    period: Duration.minutes(1),
  });
}

export class UnsealAlarms extends Construct {
  readonly vaultSealed: cloudwatch.Alarm;
  readonly executionsFailed: cloudwatch.Alarm;
  readonly deadLetters?: cloudwatch.Alarm;
  readonly vaultImpostor: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: UnsealAlarmsProps) {
    super(scope, id);
    const notify = new actions.SnsAction(props.topic);

    this.vaultSealed = new cloudwatch.Alarm(this, 'VaultSealed', {
      alarmName: `certflow-${props.deploymentName}-VaultSealed`,
      alarmDescription: [
        `Vault cluster ${props.clusterId} has had sealed nodes (or no unseal report) for ${props.sealedMinutes} minutes.`,
        `Runbook: 1) read the latest "${DetailTypes.VaultUnsealFailed}" event on the certflow bus: each node's outcome and error name.`,
        '2) UnsealKeySetRejectedError/ShareDecryptError: the stored shares do not open this Vault (rekey or wrong cluster); re-run certflow vault-init only after checking.',
        '3) KmsAccessDeniedError: check the unseal key is enabled and its policy still names the UnsealNode role.',
        '4) Uninitialized: run certflow vault-init. AutoUnsealSealed: check the awskms seal key and IAM.',
        '4b) Paused (UnsealPausedNodes >= 1): the kill switch holds unseal on purpose (certflow pause unseal); certflow resume unseal ends it.',
        '5) No data: the Unseal workflow is not running; check the schedule, its dead-letter queue and failed executions.',
      ].join(' '),
      metric: clusterGauge(Metrics.VaultSealedNodes, props.clusterId),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: props.sealedMinutes,
      datapointsToAlarm: props.sealedMinutes,
      // The report publishes this metric on every run (0 when all nodes are unsealed), every
      // minute. No data therefore means the workflow itself is not running or dies before its
      // report, and then nothing keeps Vault unsealed: that is as alarming as a sealed node.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    this.executionsFailed = new cloudwatch.Alarm(this, 'UnsealExecutionsFailed', {
      alarmName: `certflow-${props.deploymentName}-UnsealExecutionsFailed`,
      alarmDescription: [
        `The Unseal workflow has failed in each of the last ${props.sealedMinutes} minutes.`,
        'Runbook: open the failed executions in Step Functions; error VaultUnsealFailed means nodes stayed sealed (see VaultSealed);',
        'any other error (Lambda, States.Timeout, EventBridge) is the workflow itself failing: fix it before Vault reseals.',
      ].join(' '),
      metric: props.stateMachine.metricFailed({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      // One failed run can be a node restarting; the same number of consecutive minutes as the
      // sealed alarm means it is not going away on its own.
      evaluationPeriods: props.sealedMinutes,
      datapointsToAlarm: props.sealedMinutes,
      // No failed executions publishes no data point.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.vaultImpostor = new cloudwatch.Alarm(this, 'VaultImpostorNodes', {
      alarmName: `certflow-${props.deploymentName}-VaultImpostorNodes`,
      alarmDescription: [
        `A node addressed as part of Vault cluster ${props.clusterId} reported a threshold, share count or cluster id other than the configured ones (VaultIdentityMismatchError).`,
        'UnsealNode refused it: no share was decrypted or sent while it was sealed. Runbook: 1) read the "Vault Unseal Failed" event for the node and what it reported;',
        '2) check the node address resolves to the Vault pod (DNS, load balancer, TLS certificate under the pinned CA); 3) if Vault was rekeyed, update vault.threshold/vault.shares and redeploy;',
        '4) if a message says shares were sent (the cluster id differed only after unsealing), rekey Vault.',
      ].join(' '),
      metric: clusterGauge(Metrics.VaultImpostorNodes, props.clusterId),
      // One refused node is already an incident: no waiting for a second minute.
      ...ON_FIRST_OCCURRENCE,
    });

    if (props.deadLetterQueue) {
      this.deadLetters = new cloudwatch.Alarm(this, 'UnsealScheduleDeadLetters', {
        alarmName: `certflow-${props.deploymentName}-UnsealScheduleDeadLetters`,
        alarmDescription:
          'EventBridge Scheduler could not start the Unseal workflow (messages in its dead-letter queue). Runbook: read a message for the error (usually IAM or a deleted state machine), fix it, then purge the queue.',
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        ...ON_FIRST_OCCURRENCE,
      });
    }

    for (const alarm of [this.vaultSealed, this.executionsFailed, this.vaultImpostor, this.deadLetters]) {
      alarm?.addAlarmAction(notify);
      alarm?.addOkAction(notify);
    }
  }
}
