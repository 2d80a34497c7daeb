import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { ON_FIRST_OCCURRENCE } from './alarm-on-first';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';
import { CompromiseDetailTypes } from '../../functions/contracts/compromise';
import { DetailTypes, EventSource } from '../../functions/contracts/events';
import { RotationDetailTypes } from './rotation-states';

/**
 * One notification: the event it is sent for, the fields of the event's detail it names (JSON
 * paths below `$.detail`), and the runbook step a person takes. Only the paths listed travel: a
 * detail's other fields (the approval's task token above all) never reach the topic.
 */
export interface NotificationSpec {
  readonly detailType: string;
  /** What happened, in a sentence. */
  readonly summary: string;
  /** Message field -> path below `$.detail` (`runId`, `blastRadius.services`, ...). */
  readonly fields: Readonly<Record<string, string>>;
  /** The first thing to do, and where the README's runbook continues. */
  readonly runbook: string;
}

/**
 * The events a person must act on (issue 16 item 7). Each SNS message names the run, the services,
 * serials and issuers concerned, the cause, and the runbook step, read from the event detail.
 */
export const NOTIFICATIONS: readonly NotificationSpec[] = [
  {
    detailType: RotationDetailTypes.RolledBack,
    summary: 'A rotation failed and was rolled back: every touched Secret and the previous default issuer are back.',
    fields: { run: 'runId', trigger: 'trigger', error: 'error', cause: 'cause', services: 'services', previousIssuer: 'intermediate.previousIssuer', newIssuer: 'intermediate.newIssuer', counts: 'counts' },
    runbook: 'Fix what `cause` names (the failed state and its error), then start a rotation (`certflow rotate`). Do not restore backups by hand. README: "The Rotation workflow", "Any failure from PrepareIntermediate to Finalize".',
  },
  {
    detailType: RotationDetailTypes.Failed,
    summary: 'A rotation failed; if its rollback failed too, the services named may hold new certificates while their backups are kept.',
    fields: { run: 'runId', trigger: 'trigger', error: 'error', cause: 'cause', services: 'services', previousIssuer: 'intermediate.previousIssuer', newIssuer: 'intermediate.newIssuer' },
    runbook: 'Read `error`: RotationAborted changed nothing (fix and rerun); `rollback after … failed with …` needs a person: keep the backups, fix the component, start a rotation. README: "If the rollback itself fails".',
  },
  {
    detailType: CompromiseDetailTypes.Contained,
    summary: 'A reported compromise is contained: the services were reissued, the serials revoked and confirmed on their CRLs.',
    fields: { run: 'runId', reason: 'reason', reportedBy: 'reportedBy', ticket: 'ticket', services: 'blastRadius.services', serials: 'blastRadius.serialsRevoked', issuers: 'blastRadius.issuerIds', backupsDestroyed: 'blastRadius.backupsDestroyed' },
    runbook: 'Confirm each serial on its issuer\'s CRL (`GET <mount>/issuer/<id>/crl/pem`, `openssl crl -noout -text`) and close the ticket. README: "Runbook: reporting a compromise", step 3.',
  },
  {
    detailType: CompromiseDetailTypes.ResponseFailed,
    summary: 'PAGE: a compromise response failed and stopped where it was; the compromise may not be contained.',
    fields: { run: 'runId', error: 'error' },
    runbook: 'Read the run\'s history (`certflow runs --workflow compromise`), fix the cause, report the compromise again (every step is idempotent). Never restore old Secrets. README: "Runbook: reporting a compromise", step 4.',
  },
  {
    detailType: CompromiseDetailTypes.ApprovalRequested,
    summary: 'An intermediate compromise report waits for a second person before the whole fleet is reissued.',
    fields: { run: 'runId', blastRadius: 'request' },
    runbook: '`certflow approve <run>` or `certflow deny <run>` before the approval times out. README: "Runbook: approving an intermediate report".',
  },
  {
    detailType: DetailTypes.VaultUnsealFailed,
    summary: 'Vault nodes stayed sealed after an Unseal run.',
    fields: { run: 'runId', trigger: 'trigger', cluster: 'clusterId', nodes: 'nodes' },
    runbook: 'Each node\'s `error` names the cause (KMS, shares, identity); fix it, then `certflow unseal`. README: "The Unseal workflow".',
  },
];

export interface EventNotificationsProps {
  readonly bus: events.IEventBus;
  readonly topic: sns.ITopic;
  /** The topic's key: EventBridge must use it to publish to the encrypted topic. */
  readonly topicKey: kms.IKey;
  readonly deploymentName: string;
}

/** One rule per notification on the certflow bus, each sending its message to the alarm topic. */
export class EventNotifications extends Construct {
  constructor(scope: Construct, id: string, props: EventNotificationsProps) {
    super(scope, id);
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgePublishesNotifications',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    // A notification SNS refused (policy, key, throttling) lands here, and its alarm pages: a person
    // who must act would otherwise never hear of it.
    const undelivered = deadLetterQueue(this, 'the notification rules (notifications SNS refused)');
    const alarm = new cloudwatch.Alarm(this, 'NotificationsUndelivered', {
      alarmName: `certflow-${props.deploymentName}-NotificationsUndelivered`,
      alarmDescription:
        'A notification (rotation rolled back or failed, compromise contained, failed or awaiting approval, unseal failed) could not be published (its dead-letter queue has the event). Runbook: read the message, act on the event it carries, check the topic\'s policy and key policy allow EventBridge, then delete the message.',
      metric: undelivered.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
      ...ON_FIRST_OCCURRENCE,
    });
    alarm.addAlarmAction(new actions.SnsAction(props.topic));
    for (const spec of NOTIFICATIONS) {
      const message = RuleTargetMessage(spec, props.deploymentName);
      new events.Rule(this, spec.detailType.replace(/[^A-Za-z]/g, ''), {
        eventBus: props.bus,
        description: `certflow: notify "${spec.detailType}" with its run, services, serials, issuers, cause and runbook step`,
        eventPattern: { source: [EventSource], detailType: [spec.detailType] },
        targets: [new targets.SnsTopic(props.topic, { message, deadLetterQueue: undelivered })],
      });
    }
  }
}

/** The message: a JSON document a person reads top to bottom, and a machine can parse. */
function RuleTargetMessage(spec: NotificationSpec, deploymentName: string): events.RuleTargetInput {
  return events.RuleTargetInput.fromObject({
    certflow: deploymentName,
    event: spec.detailType,
    summary: spec.summary,
    ...Object.fromEntries(Object.entries(spec.fields).map(([name, path]) => [name, events.EventField.fromPath(`$.detail.${path}`)])),
    runbook: spec.runbook,
    at: events.EventField.time,
  });
}
