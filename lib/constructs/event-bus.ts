import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { CompromiseSource } from '../../functions/contracts/compromise';
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

/**
 * The certflow EventBridge bus, with an archive of every event on it from certflow (`certflow`)
 * and from its reporters (`certflow.security`: compromise reports, accepted or not), for replay
 * and audit.
 */
export class CertflowEventBus extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: CertflowEventBusProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: `certflow-${props.deploymentName}`,
      description: 'certflow: unseal, rotation and compromise events',
    });
    this.bus.archive('Archive', {
      description: 'Every certflow and certflow.security event, for replay and audit',
      eventPattern: { source: [EventSource, CompromiseSource] },
      retention: props.archiveRetention ?? Duration.days(90),
    });
  }
}
