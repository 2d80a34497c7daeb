import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { CallAuthorization, Operation } from '../aws-json/aws-json-server';
import { AwsJsonError } from '../aws-json/aws-json-error';
import { parseRequest } from '../aws-json/request-schema';
import type { EventBuses, RecordedEvent } from './event-buses';

export const EventBridgeOperationNames = ['PutEvents', 'CreateEventBus', 'ListEventBuses'] as const;
export type EventBridgeOperationName = (typeof EventBridgeOperationNames)[number];

// Members are optional in the AWS model: a missing one fails its entry, not the whole request.
const PutEventsRequestEntry = z.object({
  Time: z.number().optional(),
  Source: z.string().optional(),
  Resources: z.array(z.string()).optional(),
  DetailType: z.string().optional(),
  Detail: z.string().optional(),
  EventBusName: z.string().optional(),
});
type PutEventsRequestEntry = z.infer<typeof PutEventsRequestEntry>;

const PutEventsRequest = z.object({ Entries: z.array(PutEventsRequestEntry).min(1).max(10) });
const CreateEventBusRequest = z.object({ Name: z.string().regex(/^[/.\-_A-Za-z0-9]{1,256}$/) });
const ListEventBusesRequest = z.object({ NamePrefix: z.string().optional(), Limit: z.number().int().min(1).max(100).optional() });

// AWS's limit on the total size of one PutEvents request.
const maxRequestBytes = 256 * 1024;

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** The EventBridge operations over one set of buses, as handlers for the shared JSON 1.1 server. */
export function eventBridgeOperations(buses: EventBuses): Record<EventBridgeOperationName, Operation> {
  return {
    PutEvents(input) {
      const request = parseRequest(PutEventsRequest, input);
      if (request.Entries.reduce((total, entry) => total + entrySize(entry), 0) > maxRequestBytes) {
        throw new AwsJsonError('ValidationException', 'Total size of the entries in the request is over the limit.');
      }
      // As AWS does: each entry succeeds or fails on its own, and the call itself still answers 200.
      const entries = request.Entries.map((entry) => putEntry(buses, entry));
      return { FailedEntryCount: entries.filter((entry) => 'ErrorCode' in entry).length, Entries: entries };
    },

    CreateEventBus(input) {
      return { EventBusArn: buses.create(parseRequest(CreateEventBusRequest, input).Name).arn };
    },

    ListEventBuses(input) {
      const request = parseRequest(ListEventBusesRequest, input);
      const list = buses.list(request.NamePrefix).slice(0, request.Limit ?? 100);
      return { EventBuses: list.map((bus) => ({ Name: bus.name, Arn: bus.arn })) };
    },
  };
}

/**
 * The IAM decisions of an EventBridge call. PutEvents is authorized per entry, on the entry's bus,
 * with the entry's `events:source` and `events:detail-type` (what bus policies condition on); a
 * call with any entry denied is refused whole.
 */
export function eventBridgeAuthorizations(buses: EventBuses): (operation: string, input: unknown) => CallAuthorization[] {
  return (operation, input) => {
    const account = `arn:aws:events:${buses.region}:${buses.accountId}`;
    if (operation === 'PutEvents') {
      const entries = ((input as { Entries?: unknown }).Entries ?? []) as PutEventsRequestEntry[];
      if (!Array.isArray(entries)) return [];
      return entries.map((entry) => ({
        action: 'events:PutEvents',
        resource: buses.find(entry.EventBusName)?.arn ?? (entry.EventBusName?.startsWith('arn:') ? entry.EventBusName : `${account}:event-bus/${entry.EventBusName ?? 'default'}`),
        context: { ...(entry.Source ? { 'events:source': entry.Source } : {}), ...(entry.DetailType ? { 'events:detail-type': entry.DetailType } : {}) },
      }));
    }
    if (operation === 'CreateEventBus') return [{ action: 'events:CreateEventBus', resource: `${account}:event-bus/${String((input as { Name?: unknown }).Name ?? '')}` }];
    return [{ action: `events:${operation}`, resource: '*' }];
  };
}

function putEntry(buses: EventBuses, entry: PutEventsRequestEntry): EntryResult {
  for (const member of ['Source', 'DetailType', 'Detail'] as const) {
    if (!entry[member]) return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${member} is not valid. Reason: ${member} is a required argument.` };
  }
  const detail = parseDetail(entry.Detail!);
  if (detail === undefined) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  const bus = buses.find(entry.EventBusName);
  if (bus === undefined) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${entry.EventBusName} does not exist.` };
  const event: RecordedEvent = {
    id: randomUUID(),
    time: new Date(entry.Time === undefined ? Date.now() : entry.Time * 1000).toISOString(),
    bus: bus.name,
    source: entry.Source!,
    detailType: entry.DetailType!,
    detail,
    resources: entry.Resources ?? [],
  };
  buses.record(event);
  return { EventId: event.id };
}

/** Detail must be a JSON object (EventBridge rejects arrays, strings and numbers as malformed too). */
function parseDetail(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Entry size as AWS computes it: UTF-8 bytes of Source, DetailType, Detail and Resources, plus 14 for Time. */
function entrySize(entry: PutEventsRequestEntry): number {
  const texts = [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])];
  return texts.reduce((total, text) => total + Buffer.byteLength(text ?? '', 'utf8'), entry.Time === undefined ? 0 : 14);
}
