import { startAwsJsonServer, type CallAuthorizer, type CallRecord, type UnavailableMode } from '../aws-json/aws-json-server';
import type { FaultControls } from '../aws-json/fault-plan';
import { EventBuses, type EventListener, type RecordedEvent } from './event-buses';
import { eventBridgeAuthorizations, eventBridgeOperations, type EventBridgeOperationName } from './eventbridge-operations';

export type { RecordedEvent, EventListener } from './event-buses';

export interface EventBridgeEmulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (OS-assigned) */
  port?: number;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  /** Buses to create besides `default` (the certflow bus, typically). @default [] */
  buses?: string[];
}

export interface EventBridgeEmulatorHandle {
  /** `http://127.0.0.1:<port>`: pass as the EventBridgeClient `endpoint` (or AWS_ENDPOINT_URL_EVENTBRIDGE). */
  endpoint: string;
  region: string;
  /** The emulated account (the `account` of event envelopes, for rule routing). */
  accountId: string;
  /** Creates a bus directly (no HTTP call); returns its ARN. */
  createEventBus(name: string): string;
  /** Accepted events in order, optionally only one detail type or one bus (by name). */
  events(filter?: { detailType?: string; bus?: string }): RecordedEvent[];
  /** Calls `listener` for every event accepted from now on; returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void;
  faults: FaultControls<EventBridgeOperationName>;
  /** `false` makes every call fail: a reset connection (default) or a 503. */
  setAvailable(available: boolean, mode?: UnavailableMode): void;
  calls(): CallRecord[];
  /** Enforces IAM (identity and bus policies) on every later call. */
  setAuthorizer(authorizer: CallAuthorizer | undefined): void;
  /** The authorizer in force, for rule targets started as their rule's role (rules-routing.ts). */
  authorizer(): CallAuthorizer | undefined;
  close(): Promise<void>;
}

/**
 * Starts an in-memory Amazon EventBridge on loopback speaking the real JSON 1.1 protocol, so the
 * production EventSink adapter (@aws-sdk/client-eventbridge) runs against it unchanged.
 */
export async function startEventBridgeEmulator(options: EventBridgeEmulatorOptions = {}): Promise<EventBridgeEmulatorHandle> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const buses = new EventBuses(region, accountId);
  for (const name of options.buses ?? []) buses.create(name);
  let authorizer: CallAuthorizer | undefined;
  const server = await startAwsJsonServer(
    { targetPrefix: 'AWSEvents', internalException: 'InternalException', operations: eventBridgeOperations(buses), authorizations: eventBridgeAuthorizations(buses) },
    { host: options.host, port: options.port },
  );

  return {
    endpoint: server.endpoint,
    region,
    accountId,
    createEventBus: (name) => buses.create(name).arn,
    events: (filter) => buses.events(filter),
    onEvent: (listener) => buses.onEvent(listener),
    faults: server.faults,
    setAvailable: server.setAvailable,
    calls: server.calls,
    setAuthorizer(next) {
      authorizer = next;
      server.setAuthorizer(next);
    },
    authorizer: () => authorizer,
    close: server.close,
  };
}
