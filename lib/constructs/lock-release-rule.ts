import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';
import { STALE_LOCK_STATUSES } from './rotation-states';

/** The Step Functions status-change event the rule matches (on the default bus). */
export const STEP_FUNCTIONS_STATUS_CHANGE = { source: 'aws.states', detailType: 'Step Functions Execution Status Change' } as const;

export interface LockReleaseRuleProps {
  /** The Rotation state machine whose executions hold the lock. */
  readonly stateMachine: sfn.IStateMachine;
  /** Deletes the lock iff its owner is the event's execution ARN (FunctionRegistry.ReleaseStaleLock). */
  readonly releaseFunction: lambda.IFunction;
  /**
   * Delivery retries to the function. A lock left held turns every later run into AlreadyRunning,
   * so keep trying for as long as EventBridge allows in the event age below.
   * @default 8
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps trying to deliver one event. The next daily run is 24 hours away;
   * two hours leaves a wide margin for a throttled or briefly failing function.
   * @default Duration.hours(2)
   */
  readonly maxEventAge?: Duration;
}

/**
 * Releases the rotation lock of an execution that cannot release it itself: one that was aborted
 * (StopExecution, or a compromise response preempting it) or timed out. Every other ending runs a
 * ReleaseLock state of the definition. The function deletes the lock only if its owner is still
 * that execution, so a late or repeated event never frees a newer run's lock.
 */
export class LockReleaseRule extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: LockReleaseRuleProps) {
    super(scope, id);

    this.deadLetterQueue = deadLetterQueue(this, 'the stale-lock rule (events that could not reach ReleaseStaleLock)');

    this.rule = new events.Rule(this, 'Rule', {
      description: 'certflow: release the rotation lock of an aborted or timed-out Rotation or CompromiseResponse execution',
      // Step Functions sends status changes to the account's default bus.
      eventPattern: {
        source: [STEP_FUNCTIONS_STATUS_CHANGE.source],
        detailType: [STEP_FUNCTIONS_STATUS_CHANGE.detailType],
        detail: {
          status: [...STALE_LOCK_STATUSES],
          stateMachineArn: [props.stateMachine.stateMachineArn],
        },
      },
      targets: [
        new eventTargets.LambdaFunction(props.releaseFunction, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: props.retryAttempts ?? 8,
          maxEventAge: props.maxEventAge ?? Duration.hours(2),
        }),
      ],
    });
  }

  /**
   * Releases the lock of aborted or timed-out executions of another state machine that takes it
   * too (the compromise response: an operator stopping it must not leave every later rotation
   * AlreadyRunning). The rule's pattern lists both ARNs.
   */
  alsoFor(stateMachine: sfn.IStateMachine): void {
    this.rule.addEventPattern({ detail: { stateMachineArn: [stateMachine.stateMachineArn] } });
  }
}
