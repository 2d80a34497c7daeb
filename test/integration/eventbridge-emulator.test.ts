import { CreateEventBusCommand, EventBridgeClient, ListEventBusesCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Env } from '../../functions/contracts/env';
import { AwsUnavailableError } from '../../functions/contracts/errors';
import { DetailTypes, EventSource } from '../../functions/contracts/events';
import { eventBridgeClientFromEnv } from '../../functions/adapters/aws/eventbridge-client';
import { EventBridgeEventSink } from '../../functions/adapters/aws/eventbridge-event-sink';
import { startEventBridgeEmulator, type EventBridgeEmulatorHandle, type RecordedEvent } from '../../sandbox/eventbridge/eventbridge-emulator';

const bus = 'certflow';

function envFor(events: EventBridgeEmulatorHandle): Env {
  return {
    AWS_REGION: events.region,
    AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDEVENTS',
    AWS_SECRET_ACCESS_KEY: 'sandbox-secret',
  };
}

const unsealed = (runId: string) => ({ detailType: DetailTypes.VaultUnsealed, detail: { runId, trigger: 'schedule', clusterId: 'econgraph', nodes: [] } });

describe('the EventBridge emulator', () => {
  let emulator: EventBridgeEmulatorHandle;
  let client: EventBridgeClient;

  beforeEach(async () => {
    emulator = await startEventBridgeEmulator({ buses: [bus] });
    client = eventBridgeClientFromEnv(envFor(emulator));
  });

  afterEach(async () => {
    client.destroy();
    await emulator.close();
  });

  describe('PutEvents through the EventBridge client', () => {
    it('records an accepted event with its bus, source, detail type and parsed detail', async () => {
      const output = await client.send(
        new PutEventsCommand({ Entries: [{ EventBusName: bus, Source: 'certflow', DetailType: 'Vault Unsealed', Detail: '{"runId":"r-1","nodes":[{"nodeId":"vault-0"}]}' }] }),
      );

      expect(output.FailedEntryCount).toBe(0);
      expect(output.Entries).toEqual([{ EventId: expect.any(String) }]);
      expect(emulator.events()).toEqual([
        {
          id: output.Entries![0]!.EventId,
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          bus,
          source: 'certflow',
          detailType: 'Vault Unsealed',
          detail: { runId: 'r-1', nodes: [{ nodeId: 'vault-0' }] },
          resources: [],
        },
      ]);
    });

    it('puts an entry without EventBusName on the default bus, and accepts a bus ARN', async () => {
      const arn = `arn:aws:events:us-east-1:000000000000:event-bus/${bus}`;

      await client.send(
        new PutEventsCommand({
          Entries: [
            { Source: 's', DetailType: 'To Default', Detail: '{}' },
            { EventBusName: arn, Source: 's', DetailType: 'To Certflow', Detail: '{}' },
          ],
        }),
      );

      expect(emulator.events({ bus: 'default' }).map((event) => event.detailType)).toEqual(['To Default']);
      expect(emulator.events({ bus }).map((event) => event.detailType)).toEqual(['To Certflow']);
    });

    it.each([
      ['detail that is not JSON', '{"runId": '],
      ['detail that is a JSON array', '[1,2]'],
      ['detail that is a JSON string', '"text"'],
    ])('fails only the entry with %s, as MalformedDetail', async (_case, detail) => {
      const output = await client.send(
        new PutEventsCommand({
          Entries: [
            { EventBusName: bus, Source: 'certflow', DetailType: 'Bad', Detail: detail },
            { EventBusName: bus, Source: 'certflow', DetailType: 'Good', Detail: '{}' },
          ],
        }),
      );

      expect(output.FailedEntryCount).toBe(1);
      expect(output.Entries).toEqual([{ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }, { EventId: expect.any(String) }]);
      expect(emulator.events().map((event) => event.detailType)).toEqual(['Good']);
    });

    it('fails an entry missing its DetailType or naming an unknown bus', async () => {
      const output = await client.send(
        new PutEventsCommand({
          Entries: [
            { EventBusName: bus, Source: 'certflow', Detail: '{}' },
            { EventBusName: 'nope', Source: 'certflow', DetailType: 'X', Detail: '{}' },
          ],
        }),
      );

      expect(output.FailedEntryCount).toBe(2);
      expect(output.Entries!.map((entry) => entry.ErrorCode)).toEqual(['InvalidArgument', 'ResourceNotFoundException']);
      expect(emulator.events()).toEqual([]);
    });

    it('rejects a call with more than 10 entries as a ValidationException', async () => {
      const entries = Array.from({ length: 11 }, () => ({ EventBusName: bus, Source: 'certflow', DetailType: 'X', Detail: '{}' }));

      await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      expect(emulator.events()).toEqual([]);
    });

    it('tells listeners about each accepted event until they unsubscribe', async () => {
      const heard: RecordedEvent[] = [];
      const unsubscribe = emulator.onEvent((event) => heard.push(event));

      await client.send(new PutEventsCommand({ Entries: [{ EventBusName: bus, Source: 'certflow', DetailType: 'First', Detail: '{}' }] }));
      unsubscribe();
      await client.send(new PutEventsCommand({ Entries: [{ EventBusName: bus, Source: 'certflow', DetailType: 'Second', Detail: '{}' }] }));

      expect(heard.map((event) => event.detailType)).toEqual(['First']);
      expect(emulator.events()).toHaveLength(2);
    });
  });

  describe('event buses', () => {
    it('creates a bus and lists it beside the default bus', async () => {
      const created = await client.send(new CreateEventBusCommand({ Name: 'audit' }));
      const listed = await client.send(new ListEventBusesCommand({}));

      expect(created.EventBusArn).toBe('arn:aws:events:us-east-1:000000000000:event-bus/audit');
      expect(listed.EventBuses!.map((entry) => entry.Name)).toEqual(['default', bus, 'audit']);
      await expect(client.send(new CreateEventBusCommand({ Name: 'audit' }))).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
    });
  });

  describe('the EventSink adapter', () => {
    it('publishes certflow events to the bus with source certflow', async () => {
      const sink = new EventBridgeEventSink(client, bus);

      await sink.publish([unsealed('run-1')]);

      expect(emulator.events({ detailType: DetailTypes.VaultUnsealed })).toEqual([
        expect.objectContaining({ bus, source: EventSource, detail: { runId: 'run-1', trigger: 'schedule', clusterId: 'econgraph', nodes: [] } }),
      ]);
    });

    it('publishes 23 events in three PutEvents calls of at most 10, keeping their order', async () => {
      const sink = new EventBridgeEventSink(client, bus);
      const events = Array.from({ length: 23 }, (_, index) => unsealed(`run-${index}`));

      await sink.publish(events);

      expect(emulator.calls().map((call) => call.operation)).toEqual(['PutEvents', 'PutEvents', 'PutEvents']);
      expect(emulator.events().map((event) => event.detail.runId)).toEqual(events.map((event) => event.detail.runId));
    });

    it('makes no call for an empty list', async () => {
      await new EventBridgeEventSink(client, bus).publish([]);

      expect(emulator.calls()).toEqual([]);
    });

    it('fails with AwsUnavailableError when EventBridge rejects an entry', async () => {
      const sink = new EventBridgeEventSink(client, 'no-such-bus');

      const error = await sink.publish([unsealed('run-1')]).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AwsUnavailableError);
      expect(error).toMatchObject({ retryable: true, details: { failedEntryCount: 1, firstErrorCode: 'ResourceNotFoundException', bus: 'no-such-bus' } });
      expect((error as Error).message).toContain(DetailTypes.VaultUnsealed);
    });

    it.each([
      ['EventBridge resets every connection', (events: EventBridgeEmulatorHandle) => events.setAvailable(false)],
      ['PutEvents keeps answering InternalException', (events: EventBridgeEmulatorHandle) => void events.faults.inject({ operation: 'PutEvents', status: 500 })],
      ['PutEvents keeps answering 503', (events: EventBridgeEmulatorHandle) => events.setAvailable(false, 503)],
    ])('fails with AwsUnavailableError, keeping the cause, when %s', async (_case, breakIt) => {
      breakIt(emulator);

      const error = await new EventBridgeEventSink(client, bus).publish([unsealed('run-1')]).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AwsUnavailableError);
      expect(error).toMatchObject({ name: 'AwsUnavailableError', code: 'AWS_UNAVAILABLE', retryable: true });
      expect((error as Error).cause).toBeDefined();
      expect(emulator.events()).toEqual([]);
    });

    it('stops at the first failed batch, leaving later batches unpublished', async () => {
      emulator.faults.inject({ operation: 'PutEvents', status: 500 });
      const events = Array.from({ length: 15 }, (_, index) => unsealed(`run-${index}`));

      await expect(new EventBridgeEventSink(client, bus).publish(events)).rejects.toBeInstanceOf(AwsUnavailableError);

      // Two SDK attempts at the first batch, none at the second.
      expect(emulator.calls()).toHaveLength(2);
    });

    it('succeeds through one throttled call, because the client makes two attempts', async () => {
      emulator.faults.inject({ operation: 'PutEvents', exception: 'ThrottlingException', times: 1 });

      await new EventBridgeEventSink(client, bus).publish([unsealed('run-1')]);

      expect(emulator.calls().map((call) => call.error)).toEqual(['ThrottlingException', undefined]);
      expect(emulator.events()).toHaveLength(1);
    });
  });
});
