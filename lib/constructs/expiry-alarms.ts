import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ON_FIRST_OCCURRENCE } from './alarm-on-first';
import { Construct } from 'constructs';
import { Metrics } from '../../functions/contracts/functions';
import { ExpiryDetailTypes } from '../../functions/contracts/expiry';

export interface ExpiryAlarmsProps {
  readonly deploymentName: string;
  /** The Vault cluster id (config.vault.clusterId): the Cluster dimension of the gauges. */
  readonly clusterId: string;
  /** A leaf at or under this many days alarms (config alarms.expiryDays). */
  readonly leafDays: number;
  /** The same per CA role (config alarms.caExpiryDays). */
  readonly caDays: Readonly<{ root: number; intermediate: number; mesh: number }>;
  readonly stateMachine: sfn.IStateMachine;
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  readonly topic: sns.ITopic;
}

/**
 * The expiry sweep's alarms, each with its runbook. The gauges come once a day, so each alarm
 * looks at one day: the latest sweep decides, and a day without a sweep keeps the last state
 * (ExpirySweepFailed and the schedule's dead letters say why a sweep is missing).
 */
export class ExpiryAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ExpiryAlarmsProps) {
    super(scope, id);
    const prefix = `certflow-${props.deploymentName}`;
    const day = Duration.days(1);
    const cluster = { [Metrics.ServiceDimension]: Metrics.ServiceName, [Metrics.ClusterDimension]: props.clusterId };
    const atOrUnder = (threshold: number) => ({
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    const atLeastOne = ON_FIRST_OCCURRENCE;
    const add = (name: string, description: string, metric: cloudwatch.IMetric, comparison: Omit<cloudwatch.AlarmProps, 'metric' | 'alarmName' | 'alarmDescription'>) =>
      this.alarms.push(new cloudwatch.Alarm(this, name, { alarmName: `${prefix}-${name}`, alarmDescription: description, metric, ...comparison }));

    add(
      'LeafExpiring',
      `A service certificate (stored in its Secret or served by its endpoint) has ${props.leafDays} days or fewer left, so renewal has not happened in time. Runbook: read the latest ExpirySweep output (certflow expiry) for the target and copy; a stored leaf near its end means the Rotation is failing (see RotationExecutionsFailed, certflow status) or its renewBefore is shorter than this threshold: run certflow rotate; a served one means the workload did not reload: restart it.`,
      new cloudwatch.Metric({ namespace: Metrics.Namespace, metricName: Metrics.SoonestLeafDaysToExpiry, dimensionsMap: cluster, statistic: cloudwatch.Stats.MINIMUM, period: day }),
      atOrUnder(props.leafDays),
    );
    const caRunbook: Record<'root' | 'intermediate' | 'mesh', string> = {
      root: 'The root must be replaced by a ceremony certflow does not automate: create the new root, cross-sign or publish it to every trust bundle, then rotate the intermediate under it.',
      intermediate: 'Run certflow rotate --intermediate (a new intermediate, then the fleet reissued under it); if the scheduled intermediate rotation is failing, see RotationExecutionsFailed first.',
      mesh: 'Run certflow rotate: the mesh CA (istio cacerts) is reissued with the fleet; check that istiod reloaded it.',
    };
    for (const role of ['root', 'intermediate', 'mesh'] as const) {
      const name = `${role === 'mesh' ? 'MeshCa' : role[0]!.toUpperCase() + role.slice(1)}Expiring`;
      add(
        name,
        `A ${role} CA that still signs has ${props.caDays[role]} days or fewer left. Runbook: ${caRunbook[role]}`,
        new cloudwatch.Metric({ namespace: Metrics.Namespace, metricName: Metrics.SoonestIssuerDaysToExpiry, dimensionsMap: { ...cluster, [Metrics.IssuerRoleDimension]: role }, statistic: cloudwatch.Stats.MINIMUM, period: day }),
        atOrUnder(props.caDays[role]),
      );
    }
    add(
      'TargetsUnhealthy',
      'The expiry sweep found targets whose Secret is missing or unreadable, whose endpoint is unreachable, or that serve another certificate than they store (a workload that did not reload). Runbook: certflow expiry lists each with its reason; restart a stale workload, fix an unreachable endpoint, and run certflow rotate for a missing Secret.',
      new cloudwatch.Metric({ namespace: Metrics.Namespace, metricName: Metrics.UnhealthyTargets, dimensionsMap: cluster, statistic: cloudwatch.Stats.MAXIMUM, period: day }),
      atLeastOne,
    );
    add(
      'ExpirySweepFailed',
      `An ExpirySweep execution failed, so the expiry gauges and "${ExpiryDetailTypes.CertificateExpiring}" events are stale. Runbook: open it in Step Functions; the failing state names the function (SweepTargets: cluster access; SweepIssuers: Vault sealed or its login); fix it and run certflow expiry.`,
      props.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      atLeastOne,
    );
    add(
      'ExpiryScheduleDeadLetters',
      'EventBridge Scheduler could not start the expiry sweep (messages in its dead-letter queue). Runbook: read a message for the error (usually IAM), fix it, run certflow expiry, then purge the queue.',
      props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      atLeastOne,
    );
    const notify = new actions.SnsAction(props.topic);
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
  }
}
