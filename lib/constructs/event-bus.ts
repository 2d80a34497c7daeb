import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { EventSource } from '../../functions/contracts/events';

export interface CertflowEventBusProps {
  /** Deployment name: the bus is `certflow-<name>`. */
  readonly deploymentName: string;
  /**
   * How long certflow's own events are archived (for replay and audit); 0 days keeps them forever.
   * @default Duration.days(90)
   */
  readonly archiveRetention?: Duration;
}

/** The certflow EventBridge bus, with an archive of every event certflow emits. */
export class CertflowEventBus extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: CertflowEventBusProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: `certflow-${props.deploymentName}`,
      description: 'certflow: unseal, rotation and compromise events',
    });
    this.bus.archive('Archive', {
      description: 'Every event certflow emitted, for replay and audit',
      eventPattern: { source: [EventSource] },
      retention: props.archiveRetention ?? Duration.days(90),
    });
  }
}
