import type { HistoryEvent } from './local-runner';

/**
 * Facts read from a local execution's history (aws-local-stepfunctions' event log): where a run
 * failed and why, and which state was running at a given moment. The report of `simulate` is
 * built from these, so a failure explains itself without a sandbox left to query.
 */
export interface RunFailure {
  /** The state whose failure decided the run (the first failure a Catch took, else the last). */
  state: string;
  error: string;
  /** The cause as the task reported it: Lambda's `errorMessage` when the cause is its JSON. */
  cause: string;
}

export function failureOf(history: readonly HistoryEvent[]): RunFailure | undefined {
  const failures = history.filter((event) => event.type === 'StateFailed' && event.state);
  const caught = history.find((event) => event.type === 'StateCaught' && event.state);
  // A Catch turns the first decisive failure into the rollback: report that one, not its echoes.
  const decisive = caught ? [...failures].reverse().find((event) => event.state!.name === caught.state!.name && event.timestamp <= caught.timestamp) : failures[failures.length - 1];
  if (!decisive) {
    const failed = history.find((event) => event.type === 'ExecutionFailed');
    return failed ? { state: '(execution)', error: String(failed.Error ?? failed.error ?? 'States.Runtime'), cause: causeText(failed.Cause ?? failed.cause) } : undefined;
  }
  return { state: decisive.state!.name, error: String(decisive.Error ?? 'States.Runtime'), cause: causeText(decisive.Cause) };
}

/** The last failure of the run when it came after the decisive one: what stopped a rollback. */
export function laterFailureOf(history: readonly HistoryEvent[], first: RunFailure | undefined): RunFailure | undefined {
  // A Fail state "fails" with the run's own error: the cause is the task failure before it.
  const failures = history.filter((event) => event.type === 'StateFailed' && event.state && event.state.type !== 'Fail');
  const last = failures[failures.length - 1];
  if (!last || !first || last.state!.name === first.state) return undefined;
  return { state: last.state!.name, error: String(last.Error ?? 'States.Runtime'), cause: causeText(last.Cause) };
}

/** The state that had most recently been entered at `at` (epoch ms), or undefined before the run. */
export function stateAt(history: readonly HistoryEvent[], at: number): string | undefined {
  let current: string | undefined;
  for (const event of history) {
    if (event.timestamp > at) break;
    if (event.type === 'StateEntered' && event.state && event.state.type !== 'Map' && event.state.type !== 'Parallel') current = event.state.name;
  }
  return current;
}

/** A moment something happened (epoch ms), with the state when it is known already. */
export type Moment = number | { at: number; state: string };

/** How many of `moments` fell in each state, in the order the states were first hit. */
export function countByState(history: readonly HistoryEvent[], moments: readonly Moment[]): Array<{ state: string; times: number }> {
  const counts = new Map<string, number>();
  for (const moment of moments) {
    const state = typeof moment === 'number' ? (stateAt(history, moment) ?? '(before the run)') : moment.state;
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  return [...counts.entries()].map(([state, times]) => ({ state, times }));
}

/**
 * The cause as a person reads it. A Lambda task's cause is its error JSON: its `errorMessage`. A
 * `startExecution.sync:2` task's cause is the child execution's description, as on AWS, whose
 * own `Error` and `Cause` come after thousands of characters of input and output: those, named
 * by the child, are what explain the failure (a 10,000-service run's report once cut the
 * description at 300 characters and lost them).
 */
function causeText(cause: unknown): string {
  if (typeof cause !== 'string') return cause === undefined ? '' : JSON.stringify(cause);
  let parsed: { errorMessage?: unknown; ExecutionArn?: unknown; Name?: unknown; Status?: unknown; Error?: unknown; Cause?: unknown };
  try {
    parsed = JSON.parse(cause) as typeof parsed;
  } catch {
    return cause;
  }
  if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  if (typeof parsed.ExecutionArn === 'string' && typeof parsed.Status === 'string') {
    const child = typeof parsed.Name === 'string' ? parsed.Name : parsed.ExecutionArn;
    const error = typeof parsed.Error === 'string' ? parsed.Error : 'no error given';
    return `child execution ${child} ${parsed.Status}: ${error}: ${causeText(parsed.Cause)}`;
  }
  return cause;
}
