import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { AwsUnavailableError } from '../../contracts/errors';
import { EventSource } from '../../contracts/events';
import type { CertflowEvent, EventSink } from '../../ports/event-sink';
import { sdkErrorFacts } from './sdk-error';

/** PutEvents accepts at most 10 entries per call. */
const maxEntriesPerCall = 10;

/**
 * EventSink over EventBridge PutEvents, in batches of 10, one after another so events keep
 * their order. Any failed entry fails the publish with AwsUnavailableError: Step Functions
 * retries it, and since PutEvents is not idempotent a retry may deliver earlier batches twice;
 * consumers of certflow events must tolerate duplicates (they carry the runId).
 */
export class EventBridgeEventSink implements EventSink {
  /**
   * @param client built once per cold start (eventBridgeClientFromEnv) and injected.
   * @param busName the certflow bus (name or ARN).
   * @param source @default 'certflow' (EventSource)
   */
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly source: string = EventSource,
  ) {}

  async publish(events: CertflowEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += maxEntriesPerCall) {
      await this.putBatch(events.slice(start, start + maxEntriesPerCall));
    }
  }

  private async putBatch(events: CertflowEvent[]): Promise<void> {
    const entries: PutEventsRequestEntry[] = events.map((event) => ({
      EventBusName: this.busName,
      Source: this.source,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
    }));
    const output = await this.client.send(new PutEventsCommand({ Entries: entries })).catch((error: unknown) => {
      const facts = sdkErrorFacts(error);
      throw new AwsUnavailableError(`EventBridge PutEvents to bus ${this.busName} failed: ${facts.name}`, {
        cause: error,
        details: { awsError: facts.name, httpStatus: facts.httpStatus, requestId: facts.requestId, bus: this.busName, entries: entries.length },
      });
    });
    const failedCount = output.FailedEntryCount ?? 0;
    if (failedCount > 0) {
      const failures = (output.Entries ?? []).flatMap((entry, index) => (entry.ErrorCode ? [`${events[index]?.detailType}: ${entry.ErrorCode}`] : []));
      throw new AwsUnavailableError(`EventBridge rejected ${failedCount} of ${entries.length} events on bus ${this.busName} (${failures.join('; ')})`, {
        details: { bus: this.busName, failedEntryCount: failedCount, entries: entries.length, firstErrorCode: output.Entries?.find((entry) => entry.ErrorCode)?.ErrorCode },
      });
    }
  }
}
