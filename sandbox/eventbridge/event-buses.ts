import { AwsJsonError } from '../aws-json/aws-json-error';

/** One event as the bus accepted it; `detail` is the parsed Detail object. */
export interface RecordedEvent {
  id: string;
  /** ISO 8601, from the entry's Time or the moment it was accepted. */
  time: string;
  /** The bus name (never its ARN). */
  bus: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources: string[];
}

export type EventListener = (event: RecordedEvent) => void;

export interface EventBus {
  name: string;
  arn: string;
}

/** The event buses of one emulated account and region, and every event put on them. */
export class EventBuses {
  private readonly buses = new Map<string, EventBus>();
  private readonly recorded: RecordedEvent[] = [];
  private readonly listeners = new Set<EventListener>();

  constructor(
    readonly region: string,
    readonly accountId: string,
  ) {
    // Every account has the default bus.
    this.create('default');
  }

  create(name: string): EventBus {
    if (this.buses.has(name)) throw new AwsJsonError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
    const bus = { name, arn: `arn:aws:events:${this.region}:${this.accountId}:event-bus/${name}` };
    this.buses.set(name, bus);
    return bus;
  }

  list(namePrefix = ''): EventBus[] {
    return [...this.buses.values()].filter((bus) => bus.name.startsWith(namePrefix));
  }

  /** The bus an EventBusName (name or ARN; absent means `default`) refers to, if it exists. */
  find(nameOrArn = 'default'): EventBus | undefined {
    const prefix = `arn:aws:events:${this.region}:${this.accountId}:event-bus/`;
    if (nameOrArn.startsWith('arn:')) return nameOrArn.startsWith(prefix) ? this.buses.get(nameOrArn.slice(prefix.length)) : undefined;
    return this.buses.get(nameOrArn);
  }

  record(event: RecordedEvent): void {
    this.recorded.push(event);
    for (const listener of this.listeners) {
      // After the PutEvents answer is decided: a throwing test listener must fail the test
      // loudly, not turn into an InternalException that the SDK would retry as a duplicate put.
      queueMicrotask(() => listener(structuredClone(event)));
    }
  }

  events(filter: { detailType?: string; bus?: string } = {}): RecordedEvent[] {
    return this.recorded
      .filter((event) => (filter.detailType === undefined || event.detailType === filter.detailType) && (filter.bus === undefined || event.bus === filter.bus))
      .map((event) => structuredClone(event));
  }

  /** Calls `listener` for every event accepted from now on; returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
