import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ON_FIRST_OCCURRENCE } from './alarm-on-first';
import { Construct } from 'constructs';
import { CompromiseDetailTypes } from '../../functions/contracts/compromise';
import { EventSource } from '../../functions/contracts/events';
import { RotationLock } from '../../functions/contracts/rotation-payloads';
import { boundedName } from './bounded-name';
import { deadLetterQueue } from './dead-letter-queue';
import type { Notifications } from './notifications';

export interface AuditAlarmsProps {
  /** Deployment name (config.name): prefixes the alarm names. */
  readonly deploymentName: string;
  /** The certflow bus (Compromise Contained events). */
  readonly eventBus: events.IEventBus;
  /** Its name as the config gives it (`certflow-<deployment>`), for the rule's ARN in the key policy. */
  readonly eventBusName: string;
  /** The CompromiseResponse state machine. */
  readonly compromiseStateMachine: sfn.IStateMachine;
  /** The compromise rule's dead-letter queue: a report there started no response. */
  readonly compromiseDeadLetterQueue: sqs.IQueue;
  /** ReleaseStaleLock's own dead-letter queue: a lock release that failed after Lambda's retries. */
  readonly lockReleaseFailures: sqs.IQueue;
  readonly notifications: Notifications;
}

const LOCK_ITEM = `the ledger item pk=${RotationLock.pk}, sk=${RotationLock.sk}`;

/**
 * What a regulated account must hear about at once (issue 13 item 6), each with its runbook:
 * - CompromiseReportsUndelivered: a compromise report EventBridge could not deliver to the
 *   response (its dead-letter queue has a message): a compromise nobody is containing.
 * - CompromiseExecutionsTimedOut: a response ran out of time (CompromiseExecutionsFailed does
 *   not count time-outs: Step Functions counts them apart).
 * - LockReleaseFailed: ReleaseStaleLock failed after Lambda's retries, so a lock may be held by
 *   a run that is over.
 * - IntermediateRevoked: not an alarm but a notification on every `Compromise Contained` event
 *   that revoked an intermediate issuer: a revocation must never go unnoticed, even a wanted one.
 */
export class AuditAlarms extends Construct {
  readonly compromiseReportsUndelivered: cloudwatch.Alarm;
  readonly compromiseExecutionsTimedOut: cloudwatch.Alarm;
  readonly lockReleaseFailed: cloudwatch.Alarm;
  readonly intermediateRevoked: events.Rule;

  constructor(scope: Construct, id: string, props: AuditAlarmsProps) {
    super(scope, id);
    const topic = props.notifications.topic;
    const notify = new actions.SnsAction(topic);
    const prefix = `certflow-${props.deploymentName}`;
    const once = ON_FIRST_OCCURRENCE;
    const period = Duration.minutes(5);
    const alarm = (name: string, description: string, metric: cloudwatch.IMetric) => {
      const created = new cloudwatch.Alarm(this, name, { alarmName: `${prefix}-${name}`, alarmDescription: description, metric, ...once });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      return created;
    };

    this.compromiseReportsUndelivered = alarm(
      'CompromiseReportsUndelivered',
      'PAGE: a compromise report could not start a response (EventBridge gave up delivering it) and nothing is containing that compromise. Runbook: read the message in the compromise rule\'s dead-letter queue (the whole report), check the CompromiseResponse state machine exists and the rule\'s role may start it, then send the report again (certflow compromise) and delete the message.',
      props.compromiseDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
    );
    this.compromiseExecutionsTimedOut = alarm(
      'CompromiseExecutionsTimedOut',
      `PAGE: a compromise response timed out and the compromise may not be contained. Runbook: open the execution in Step Functions and find the state it was in (an approval nobody gave ends failed, not timed out). The stale-lock rule releases the lock it held; if ${LOCK_ITEM} still names that execution, delete it. Then report the compromise again (certflow compromise): every step is idempotent.`,
      props.compromiseStateMachine.metricTimedOut({ period, statistic: cloudwatch.Stats.SUM }),
    );
    this.lockReleaseFailed = alarm(
      'LockReleaseFailed',
      `ReleaseStaleLock failed on an aborted or timed-out run after Lambda's retries (its dead-letter queue has the event). Runbook: read the function's log for the error; if ${LOCK_ITEM} names the execution of the event, delete it, then delete the message. Until then every rotation ends AlreadyRunning.`,
      props.lockReleaseFailures.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
    );

    // Every revocation of an intermediate, one notification each (what it revoked, which run).
    const undelivered = deadLetterQueue(this, 'the revoked-intermediate notification rule (notifications SNS refused)');
    const ruleName = boundedName(`${prefix}-IntermediateRevoked`, 64);
    this.intermediateRevoked = new events.Rule(this, 'IntermediateRevoked', {
      ruleName,
      description: 'certflow: notify on every compromise response that revoked an intermediate issuer',
      eventBus: props.eventBus,
      eventPattern: { source: [EventSource], detailType: [CompromiseDetailTypes.Contained], detail: { blastRadius: { issuerIds: { revoked: [{ exists: true }] } } } },
      targets: [
        new eventTargets.SnsTopic(topic, {
          deadLetterQueue: undelivered,
          message: events.RuleTargetInput.fromText(
            `certflow ${props.deploymentName}: intermediate issuer ${events.EventField.fromPath('$.detail.blastRadius.issuerIds.revoked')} was REVOKED by compromise response ${events.EventField.fromPath('$.detail.runId')} (reported by ${events.EventField.fromPath('$.detail.reportedBy')}). Every leaf it issued is untrusted once relying parties fetch the CRL; certflow status ${events.EventField.fromPath('$.detail.runId')} shows the new issuer and the reissued services.`,
          ),
        }),
      ],
    });
    props.notifications.allowEventRule(props.eventBusName, ruleName);
    alarm(
      'IntermediateRevokedUndelivered',
      'The notification of a revoked intermediate could not be published (its dead-letter queue has the event). Runbook: read the message (the Compromise Contained event), tell the security team by hand, check the notification topic\'s policy and key policy allow EventBridge, then delete the message.',
      undelivered.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
    );
  }
}
