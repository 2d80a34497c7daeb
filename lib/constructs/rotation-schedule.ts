import { Duration } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';
import type { RotationRequest } from '../../functions/contracts/rotation-payloads';

/** What each schedule puts in the Rotation execution's input. */
export const RotationScheduleInputs = {
  renewalSweep: { trigger: 'schedule' },
  // The plan decides whether the intermediate is due (age, remaining life); this run only makes
  // sure the question is asked on the intermediate's own cadence, under its own trigger.
  intermediateRotation: { trigger: 'intermediate-schedule', forceIntermediate: false },
} as const satisfies Record<string, Partial<RotationRequest>>;

export interface RotationScheduleProps {
  /** The Rotation state machine to start. */
  readonly stateMachine: sfn.IStateMachine;
  /** When the daily renewal sweep starts (config.schedules.renewalSweep). */
  readonly renewalSweepExpression: string;
  /** When the intermediate cadence run starts (config.schedules.intermediateRotation). */
  readonly intermediateRotationExpression: string;
  /**
   * Retries of a failed StartExecution. A missed daily start costs a day of the renewal window
   * (renewBefore is days), so try a little harder than the every-minute unseal schedule.
   * @default 3
   */
  readonly retryAttempts?: number;
  /**
   * How long Scheduler keeps trying to start one run. Past an hour the start would drift into the
   * next schedule's run (they are two hours apart) and meet it at the lock; tomorrow's run is the
   * better retry.
   * @default Duration.hours(1)
   */
  readonly maxEventAge?: Duration;
}

/**
 * Starts the Rotation workflow on two schedules: the daily renewal sweep and the intermediate's
 * cadence. Both start the same state machine (the lock keeps them from overlapping). Starts that
 * fail after the retries land in one encrypted, SSL-only dead-letter queue; each message names its
 * schedule (Scheduler's SCHEDULE_ARN attribute). RotationAlarms alarms on it.
 */
export class RotationSchedule extends Construct {
  readonly renewalSweep: scheduler.Schedule;
  readonly intermediateRotation: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RotationScheduleProps) {
    super(scope, id);

    this.deadLetterQueue = deadLetterQueue(this, "the rotation schedules' failed starts");

    const schedule = (scheduleId: string, description: string, expression: string, input: object) =>
      new scheduler.Schedule(this, scheduleId, {
        description,
        schedule: scheduler.ScheduleExpression.expression(expression),
        // Operators plan around a rotation (and the two schedules are spaced by the clock), so a
        // run starts on time rather than somewhere in a flexible window.
        timeWindow: scheduler.TimeWindow.off(),
        target: new targets.StepFunctionsStartExecution(props.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject(input),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: props.retryAttempts ?? 3,
          maxEventAge: props.maxEventAge ?? Duration.hours(1),
        }),
      });

    this.renewalSweep = schedule('RenewalSweep', 'certflow: start the daily Rotation sweep (renew what is due)', props.renewalSweepExpression, RotationScheduleInputs.renewalSweep);
    this.intermediateRotation = schedule(
      'IntermediateRotation',
      "certflow: start a Rotation on the intermediate's cadence (the plan decides whether it is due)",
      props.intermediateRotationExpression,
      RotationScheduleInputs.intermediateRotation,
    );
  }
}
