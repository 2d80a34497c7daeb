/**
 * Step Functions' execution history, counted by AWS's rules rather than by the local engine's log
 * (aws-local-stepfunctions logs one StateEntered/StateExited per state and nothing per task
 * phase). A Standard execution fails once its history would pass 25,000 events, so the Rotation's
 * waves are sized from these rules, and the benchmark reports the events of each execution.
 *
 * The event types are the `HistoryEventType` values of the Step Functions API reference
 * (HistoryEvent); the sequence each state type writes on its success path is:
 * - execution: ExecutionStarted, then ExecutionSucceeded | ExecutionFailed (2);
 * - Pass, Choice, Wait, Succeed: `<Type>StateEntered`, `<Type>StateExited` (2);
 * - Fail: FailStateEntered (1), then the execution's (or the Map iteration's) failure;
 * - Task, request-response (lambda:invoke, events:putEvents, dynamodb:*): TaskStateEntered,
 *   TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited (5); a failed attempt writes TaskFailed
 *   instead of TaskSucceeded, and each retry TaskScheduled, TaskStarted and TaskFailed|TaskSucceeded again (+3);
 * - Task, run a job (`.sync`, `.sync:2`): the same plus TaskSubmitted once the job is started (6);
 * - inline Map: MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited (4), and per
 *   iteration MapIterationStarted, MapIterationSucceeded (2) around the iteration's own states,
 *   which count against the execution that runs the Map.
 * A child execution started by a `.sync` task has its own history and its own 25,000.
 * These rules were not checked against an AWS account from here; they are the documented types in
 * the order the Step Functions console lists them for these integrations.
 */
export const HISTORY_EVENT_LIMIT = 25_000;

/** The events one state writes on its success path, by its type (and resource for a Task). */
export function eventsOfState(state: { Type: string; Resource?: unknown }): number {
  switch (state.Type) {
    case 'Task':
      return isRunJob(state.Resource) ? 6 : 5;
    case 'Map':
      return 4;
    case 'Fail':
      return 1;
    default:
      return 2;
  }
}

/** Per Map iteration, besides its states: MapIterationStarted, MapIterationSucceeded. */
export const EVENTS_PER_MAP_ITERATION = 2;
/** ExecutionStarted and the execution's end. */
export const EVENTS_PER_EXECUTION = 2;
/** A retried attempt: TaskScheduled, TaskStarted, and its TaskFailed (or TaskSucceeded). */
export const EVENTS_PER_RETRY = 3;

function isRunJob(resource: unknown): boolean {
  return typeof resource === 'string' && /\.sync(:2)?$/.test(resource);
}

/** The part of an ASL definition the count reads. */
export interface AslStates {
  StartAt: string;
  States: Record<string, AslState>;
}
export interface AslState {
  Type: string;
  Resource?: unknown;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: ReadonlyArray<{ Next: string }>;
  ItemProcessor?: AslStates;
  Iterator?: AslStates;
}

/**
 * What the walk cannot read from a definition: how many items each Map gets, and which of its
 * rules each Choice takes (an index into `Choices`, or -1 for `Default`) on its nth visit within
 * the current Map iteration (counting from 1). A `.sync` task's child execution has its own
 * history: count it with its own definition and scenario.
 */
export interface HistoryScenario {
  mapItems(mapState: string): number;
  choose(choiceState: string, visit: number): number;
}

/**
 * The events of one execution that follows the success path `scenario` describes: every state on
 * the path by its type, every Map iteration with its states, and the execution's own two.
 */
export function countExecutionEvents(definition: AslStates, scenario: HistoryScenario): number {
  return EVENTS_PER_EXECUTION + countPath(definition, scenario);
}

function countPath(machine: AslStates, scenario: HistoryScenario): number {
  const visits = new Map<string, number>();
  let events = 0;
  let name: string | undefined = machine.StartAt;
  // A path longer than the limit is already over budget; the bound also stops a scenario that loops forever.
  for (let steps = 0; name !== undefined; steps += 1) {
    if (steps > HISTORY_EVENT_LIMIT) throw new Error(`the path through ${machine.StartAt} does not end within ${HISTORY_EVENT_LIMIT} states`);
    const state: AslState | undefined = machine.States[name];
    if (!state) throw new Error(`no state ${name} in the definition`);
    events += eventsOfState(state);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (state.Type === 'Map' && processor) {
      const items = scenario.mapItems(name);
      // Every iteration of one Map follows the same path here; its visits count from 1 again.
      events += items * (EVENTS_PER_MAP_ITERATION + countPath(processor, scenario));
    }
    const visit = (visits.get(name) ?? 0) + 1;
    visits.set(name, visit);
    if (state.Type === 'Choice') {
      const rule = scenario.choose(name, visit);
      name = rule < 0 ? state.Default : state.Choices?.[rule]?.Next;
      if (name === undefined) throw new Error(`choice ${String(rule)} does not exist`);
    }
    else if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End) name = undefined;
    else name = state.Next;
  }
  return events;
}

/** A local engine log event (aws-local-stepfunctions' eventLogs), as much as the count reads. */
export interface LocalLogEvent {
  type: string;
  state?: { name: string; type: string };
}

/**
 * The events AWS would write for what a local execution did, from the local engine's log: the same
 * per-type rules applied to each state the log shows entered, exited, failed or retried. `runJobTasks`
 * names the `.sync` tasks (the log does not carry a task's resource).
 */
export function countLocalLogEvents(log: readonly LocalLogEvent[], runJobTasks: ReadonlySet<string> = new Set()): number {
  let events = 0;
  for (const event of log) {
    const type = event.state?.type;
    switch (event.type) {
      case 'ExecutionStarted':
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimeout':
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        events += 1;
        break;
      case 'StateEntered':
        // Task: Entered, Scheduled, Started (+ Submitted for a job); Map: Entered, Started; others: Entered.
        events += type === 'Task' ? (runJobTasks.has(event.state!.name) ? 4 : 3) : type === 'Map' ? 2 : 1;
        break;
      case 'StateExited':
        // Task: Succeeded, Exited; Map: Succeeded, Exited; others: Exited.
        events += type === 'Task' || type === 'Map' ? 2 : 1;
        break;
      case 'StateFailed':
        // TaskFailed or MapStateFailed; a Fail state's FailStateEntered was its StateEntered.
        if (type === 'Task' || type === 'Map') events += 1;
        break;
      case 'StateRetried':
        // The retried attempt's TaskScheduled and TaskStarted (its end is the next StateFailed or StateExited).
        events += 2;
        break;
      default:
        break;
    }
  }
  return events;
}

/**
 * The events one batch can add to a wave's history at most: its Map iteration, the first task,
 * and `maxChecks` turns of the wait loop (Wait, check Task, Choice), then the verify task or the
 * end state. Waves are sized from this, so a wave whose every batch runs its loop to the bound
 * still fits, with headroom for retries.
 */
export function worstCaseEventsPerBatch(maxChecks: number): number {
  const loopTurn = 2 + 5 + 2;
  return EVENTS_PER_MAP_ITERATION + 5 + maxChecks * loopTurn + 5;
}

/** Of the 25,000, what a wave plans to use at most: the rest is headroom for retried tasks. */
export const WAVE_EVENT_BUDGET = 20_000;

/** How many batches one wave execution may hold so its worst case stays within WAVE_EVENT_BUDGET. */
export function batchesPerWave(maxChecks: number): number {
  // The wave's own states: the execution (2), reading its batch ids (a Task, 5), the step Choice (2), the Map (4).
  const fixed = EVENTS_PER_EXECUTION + 5 + 2 + 4;
  return Math.max(1, Math.floor((WAVE_EVENT_BUDGET - fixed) / worstCaseEventsPerBatch(maxChecks)));
}
