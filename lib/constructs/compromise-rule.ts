import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';
import { CompromiseDetailTypes, CompromiseSource } from '../../functions/contracts/compromise';

export interface CompromiseRuleProps {
  /** The certflow bus reporters put `Compromise Reported` on. */
  readonly eventBus: events.EventBus;
  /** The CompromiseResponse state machine; it receives the whole event as its input. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * The IAM role or user ARNs that may put `certflow.security` events on the bus: the security
   * tooling's. Everyone else is denied explicitly (aws:PrincipalArn), so no identity policy in the
   * account can grant it. Reporters also need events:PutEvents in their own identity policy.
   */
  readonly reporterPrincipalArns: readonly string[];
  /**
   * Delivery retries to the state machine: a report that never starts a response is a
   * compromise nobody contains, so keep trying for as long as EventBridge allows.
   * @default 8
   */
  readonly retryAttempts?: number;
  /** @default Duration.hours(2) */
  readonly maxEventAge?: Duration;
}

/**
 * Starts a compromise response for each `Compromise Reported` event (source certflow.security)
 * on the certflow bus, and lets only the configured reporters put events there. Undeliverable
 * reports land in a dead-letter queue (alarmed by its owner: see CompromiseAlarms' runbook).
 */
export class CompromiseRule extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: CompromiseRuleProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'the compromise rule (reports that could not start a response)');

    this.rule = new events.Rule(this, 'Rule', {
      description: 'certflow: start a compromise response for each Compromise Reported event',
      eventBus: props.eventBus,
      eventPattern: { source: [CompromiseSource], detailType: [CompromiseDetailTypes.Reported] },
      // No input transformation: the state machine validates the whole envelope (time included).
      targets: [
        new eventTargets.SfnStateMachine(props.stateMachine, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: props.retryAttempts ?? 8,
          maxEventAge: props.maxEventAge ?? Duration.hours(2),
        }),
      ],
    });

    // The reporters may put reports (events:source is the Source a caller chooses; certflow's own
    // events come from its state machines' roles with another source).
    props.eventBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CompromiseReportersPutEvents',
        effect: iam.Effect.ALLOW,
        principals: props.reporterPrincipalArns.map((arn) => new iam.ArnPrincipal(arn)),
        actions: ['events:PutEvents'],
        resources: [props.eventBus.eventBusArn],
        conditions: { StringEquals: { 'events:source': CompromiseSource } },
      }),
    );
    // Within one account an identity policy alone allows PutEvents, whatever the bus policy allows:
    // only an explicit Deny restricts it. Anyone who is not a named reporter may not put a report.
    props.eventBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyNamedReportersPutCompromiseReports',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [props.eventBus.eventBusArn],
        conditions: { StringEquals: { 'events:source': CompromiseSource }, ArnNotEquals: { 'aws:PrincipalArn': [...props.reporterPrincipalArns] } },
      }),
    );
  }
}
