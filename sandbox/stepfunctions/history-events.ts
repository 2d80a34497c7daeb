import type { HistoryEvent } from '../runner/local-runner';

/**
 * One Step Functions history event as GetExecutionHistory answers it (the subset certflow reads:
 * type, id, timestamp and the state name). Timestamps are epoch seconds, as the JSON protocol
 * carries them.
 */
export interface SfnHistoryEvent {
  id: number;
  previousEventId: number;
  type: string;
  timestamp: number;
  [details: string]: unknown;
}

// aws-local-stepfunctions names events by phase; Step Functions prefixes them with the state type.
const statePrefixes: Record<string, string> = {
  Task: 'Task',
  Choice: 'Choice',
  Wait: 'Wait',
  Pass: 'Pass',
  Succeed: 'Succeed',
  Fail: 'Fail',
  Map: 'Map',
  Parallel: 'Parallel',
};

/** What the execution record knows about how it ended, for the terminal event. */
export interface ExecutionEnd {
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate?: number;
}

/**
 * Turns the local runner's event log into Step Functions history events: ExecutionStarted first,
 * `<Type>StateEntered`/`<Type>StateExited` per state, TaskFailed, Map iterations, and the
 * terminal execution event (synthesized from the record when the log has none, as after an abort).
 */
export function toSfnHistory(local: readonly HistoryEvent[], end: ExecutionEnd): SfnHistoryEvent[] {
  const events: Array<Omit<SfnHistoryEvent, 'id' | 'previousEventId'>> = [];
  const seconds = (ms: number) => ms / 1000;
  if (local[0]?.type !== 'ExecutionStarted') {
    events.push({ type: 'ExecutionStarted', timestamp: end.startDate, executionStartedEventDetails: { input: end.input, inputDetails: { truncated: false } } });
  }
  let terminal = false;
  for (const event of local) {
    const timestamp = seconds(event.timestamp);
    const state = event.state;
    const prefix = state ? (statePrefixes[state.type] ?? 'Task') : '';
    switch (event.type) {
      case 'ExecutionStarted':
        events.push({ type: 'ExecutionStarted', timestamp, executionStartedEventDetails: { input: json(event.input), inputDetails: { truncated: false } } });
        break;
      case 'ExecutionSucceeded':
        terminal = true;
        events.push({ type: 'ExecutionSucceeded', timestamp, executionSucceededEventDetails: { output: json(event.output), outputDetails: { truncated: false } } });
        break;
      case 'ExecutionFailed':
        terminal = true;
        events.push({ type: 'ExecutionFailed', timestamp, executionFailedEventDetails: { error: String(event.Error ?? end.error ?? ''), cause: causeText(event.Cause ?? end.cause) } });
        break;
      case 'ExecutionAborted':
        terminal = true;
        events.push({ type: 'ExecutionAborted', timestamp, executionAbortedEventDetails: {} });
        break;
      case 'ExecutionTimeout':
        terminal = true;
        events.push({ type: 'ExecutionTimedOut', timestamp, executionTimedOutEventDetails: { error: 'States.Timeout' } });
        break;
      case 'StateEntered':
        events.push({ type: `${prefix}StateEntered`, timestamp, stateEnteredEventDetails: { name: state!.name, input: json(state!.input) } });
        break;
      case 'StateExited':
        events.push({ type: `${prefix}StateExited`, timestamp, stateExitedEventDetails: { name: state!.name, output: json(state!.output) } });
        break;
      case 'TaskScheduled': {
        // The callback pattern's token is in these parameters, as on AWS (where `certflow approve` reads it).
        const [service, ...rest] = String(event.resource ?? '').replace(/^arn:aws:states:::/, '').split(':');
        events.push({ type: 'TaskScheduled', timestamp, taskScheduledEventDetails: { resourceType: service ?? '', resource: rest.join(':'), region: '', parameters: json(event.parameters) } });
        break;
      }
      case 'StateFailed':
        if (prefix === 'Task') events.push({ type: 'TaskFailed', timestamp, taskFailedEventDetails: { resourceType: 'lambda', resource: state!.name, error: String(event.Error ?? ''), cause: causeText(event.Cause) } });
        else if (prefix === 'Map' || prefix === 'Parallel') events.push({ type: `${prefix}StateFailed`, timestamp });
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const parent = event.parentState as { name: string } | undefined;
        const key = `${event.type[0]!.toLowerCase()}${event.type.slice(1)}EventDetails`;
        events.push({ type: event.type, timestamp, [key]: { name: parent?.name ?? '', index: Number(event.index ?? 0) } });
        break;
      }
      default:
        // StateRetried, StateCaught and parallel branch events have no one-to-one Step Functions event.
        break;
    }
  }
  if (!terminal && end.status !== 'RUNNING') {
    const timestamp = end.stopDate ?? end.startDate;
    if (end.status === 'SUCCEEDED') events.push({ type: 'ExecutionSucceeded', timestamp, executionSucceededEventDetails: { output: end.output ?? 'null' } });
    if (end.status === 'FAILED') events.push({ type: 'ExecutionFailed', timestamp, executionFailedEventDetails: { error: end.error ?? '', cause: end.cause ?? '' } });
    if (end.status === 'ABORTED') events.push({ type: 'ExecutionAborted', timestamp, executionAbortedEventDetails: { ...(end.error ? { error: end.error } : {}), ...(end.cause ? { cause: end.cause } : {}) } });
    if (end.status === 'TIMED_OUT') events.push({ type: 'ExecutionTimedOut', timestamp, executionTimedOutEventDetails: { error: 'States.Timeout' } });
  }
  return events.map((event, index) => ({ id: index + 1, previousEventId: index, ...event }) as SfnHistoryEvent);
}

function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function causeText(cause: unknown): string {
  if (cause === undefined || cause === null) return '';
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}
