import { Duration } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';

export interface ExpiryScheduleProps {
  /** The ExpirySweep state machine to start. */
  readonly stateMachine: sfn.IStateMachine;
  /** EventBridge Scheduler expression (config.schedules.expirySweep, daily by default). */
  readonly expression: string;
}

/**
 * Starts the expiry sweep daily with `{"trigger":"schedule"}`. Once a day is what the
 * `Certificate Expiring` windows assume (EXPIRY_EVENT_WINDOW_DAYS). Starts that fail after the
 * retries land in a dead-letter queue, alarmed on by ExpiryAlarms.
 */
export class ExpirySchedule extends Construct {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ExpiryScheduleProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, "the expiry sweep schedule's failed starts");
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'certflow: start the expiry sweep',
      schedule: scheduler.ScheduleExpression.expression(props.expression),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 3,
        // A start later than an hour is better left to tomorrow's (the windows are a day wide).
        maxEventAge: Duration.hours(1),
      }),
    });
  }
}
