import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ON_FIRST_OCCURRENCE } from './alarm-on-first';
import { Construct } from 'constructs';
import { RotationLock } from '../../functions/contracts/rotation-payloads';
import { RotationDetailTypes, RotationErrors } from './rotation-states';

export interface RotationAlarmsProps {
  /** Deployment name (config.name): prefixes the alarm names. */
  readonly deploymentName: string;
  /** The Rotation state machine. */
  readonly stateMachine: sfn.IStateMachine;
  /** Where alarm and OK notifications go. */
  readonly topic: sns.ITopic;
  /** The rotation schedules' dead-letter queue: a message there is a run that never started. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** The stale-lock rule's dead-letter queue: a message there is a lock nobody released. */
  readonly lockReleaseDeadLetterQueue: sqs.IQueue;
}

const LOCK_ITEM = `the ledger item pk=${RotationLock.pk}, sk=${RotationLock.sk}`;

/** Alarms of the Rotation capability, each with a short runbook in its description. */
export class RotationAlarms extends Construct {
  readonly executionsFailed: cloudwatch.Alarm;
  readonly executionsTimedOut: cloudwatch.Alarm;
  readonly scheduleDeadLetters: cloudwatch.Alarm;
  readonly lockReleaseDeadLetters: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RotationAlarmsProps) {
    super(scope, id);
    const notify = new actions.SnsAction(props.topic);
    const prefix = `certflow-${props.deploymentName}`;
    // Rotations are rare (a few a day): one failed, timed-out or undeliverable run is worth a
    // look, so every alarm fires on the first occurrence in a 5-minute period and clears itself
    // when the next period is clean. No data is the normal state.
    const once = ON_FIRST_OCCURRENCE;
    const period = Duration.minutes(5);

    this.executionsFailed = new cloudwatch.Alarm(this, 'RotationExecutionsFailed', {
      alarmName: `${prefix}-RotationExecutionsFailed`,
      alarmDescription: [
        'A Rotation execution failed; its event, sent to this topic too, names the run, services, serials, issuers and cause. Runbook: open it in Step Functions and read its error.',
        `${RotationErrors.RolledBack}: the run failed and was rolled back and verified (nothing changed); read the "${RotationDetailTypes.RolledBack}" event and certflow status <run>, fix the failing step, then certflow rotate.`,
        `${RotationErrors.RollbackFailed}: PAGE. The rollback itself failed and the fleet may be half rotated: read the "${RotationDetailTypes.Failed}" event and certflow status <run>, check the default issuer of the intermediate mount, restore the listed Secrets from their backups, then certflow rotate.`,
        `${RotationErrors.Aborted}: Preflight or Plan failed before anything changed (Vault sealed or unreachable, token, cluster access); fix it, the next run retries.`,
        `Any other error (States.Runtime, a lock write): the run may have kept the lock; if ${LOCK_ITEM} still names that execution as owner, delete it.`,
      ].join(' '),
      metric: props.stateMachine.metricFailed({ period, statistic: cloudwatch.Stats.SUM }),
      ...once,
    });

    this.executionsTimedOut = new cloudwatch.Alarm(this, 'RotationExecutionsTimedOut', {
      alarmName: `${prefix}-RotationExecutionsTimedOut`,
      alarmDescription: [
        'A Rotation execution timed out, and a timed-out run is NOT rolled back. Runbook: the stale-lock rule released its lock (check RotationLockReleaseDeadLetters);',
        'read certflow status <run> and the execution history for the last step reached; if it passed ActivateIssuer, check the default issuer and the renewed targets,',
        'then start certflow rotate, whose plan renews whatever is still due or issued by a non-default issuer.',
      ].join(' '),
      metric: props.stateMachine.metricTimedOut({ period, statistic: cloudwatch.Stats.SUM }),
      ...once,
    });

    this.scheduleDeadLetters = new cloudwatch.Alarm(this, 'RotationScheduleDeadLetters', {
      alarmName: `${prefix}-RotationScheduleDeadLetters`,
      alarmDescription:
        'EventBridge Scheduler could not start a Rotation (messages in its dead-letter queue; SCHEDULE_ARN names the schedule). Runbook: read a message for the error (usually IAM or a deleted state machine), fix it, start certflow rotate so no renewal day is lost, then purge the queue.',
      metric: props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      ...once,
    });

    this.lockReleaseDeadLetters = new cloudwatch.Alarm(this, 'RotationLockReleaseDeadLetters', {
      alarmName: `${prefix}-RotationLockReleaseDeadLetters`,
      alarmDescription: `The stale-lock rule could not deliver an aborted or timed-out execution's event to ReleaseStaleLock, so the rotation lock may still be held and every later run will end AlreadyRunning. Runbook: read the message's execution ARN; if ${LOCK_ITEM} names it as owner, delete the item; fix the function's error, then purge the queue.`,
      metric: props.lockReleaseDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      ...once,
    });

    for (const alarm of [this.executionsFailed, this.executionsTimedOut, this.scheduleDeadLetters, this.lockReleaseDeadLetters]) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
  }
}
