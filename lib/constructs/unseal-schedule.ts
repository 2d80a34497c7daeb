import { Duration } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';

export interface UnsealScheduleProps {
  /** The Unseal state machine to start. */
  readonly stateMachine: sfn.IStateMachine;
  /** EventBridge Scheduler expression, e.g. `rate(1 minute)` (config.schedules.unseal). */
  readonly expression: string;
  /**
   * Retries of a failed StartExecution. Two retries ride out a throttle; more would only overlap
   * with the next scheduled start.
   * @default 2
   */
  readonly retryAttempts?: number;
  /**
   * How long Scheduler keeps trying to start one run. A start that cannot happen within a minute is
   * superseded by the next scheduled start, so one minute (Scheduler's minimum) is enough.
   * @default Duration.minutes(1)
   */
  readonly maxEventAge?: Duration;
}

/**
 * Starts the Unseal workflow on a schedule with input `{"trigger":"schedule"}`. Starts that fail
 * after the retries land in an encrypted, SSL-only dead-letter queue (alarmed on by UnsealAlarms).
 */
export class UnsealSchedule extends Construct {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: UnsealScheduleProps) {
    super(scope, id);

    this.deadLetterQueue = deadLetterQueue(this, "the unseal schedule's failed starts");

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'certflow: start the Unseal workflow',
      schedule: scheduler.ScheduleExpression.expression(props.expression),
      // Unsealing must not drift: a sealed Vault is an outage, so start exactly on time.
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 2,
        maxEventAge: props.maxEventAge ?? Duration.minutes(1),
      }),
    });
  }
}
