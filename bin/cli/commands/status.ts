import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { RotationStates } from '../../../functions/contracts/rotation-payloads';
import { SANDBOX_CREDENTIALS, SANDBOX_REGION } from '../../../sandbox/compose/sandbox';
import { readSandboxState } from '../sandbox-state';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';

/** Where the Rotation state machine is: the running sandbox's emulator, or AWS. */
export interface RotationTarget {
  sfn: SFNClient;
  stateMachineArn?: string;
  /** How long to wait between DescribeExecution polls. */
  pollMs: number;
}

/**
 * `--local`: the SFN emulator of `certflow sandbox` (from its state file). Otherwise the default
 * AWS credential chain and `--state-machine-arn` or CERTFLOW_ROTATION_STATE_MACHINE_ARN.
 */
export function rotationTarget(options: { configPath: string; local: boolean; stateMachineArn?: string }): RotationTarget {
  if (options.local) {
    const state = readSandboxState({ configPath: options.configPath });
    if (!state.stepFunctionsEndpoint || !state.stateMachineArns) {
      throw new CliError('the running sandbox has no Step Functions endpoint (it predates `certflow rotate`): restart `certflow sandbox`', ExitCodes.Environment);
    }
    const stateMachineArn = Object.entries(state.stateMachineArns).find(([logicalId]) => logicalId.startsWith('RotationWorkflow'))?.[1];
    if (!stateMachineArn) throw new CliError('the running sandbox has no Rotation state machine', ExitCodes.Environment);
    const sfn = new SFNClient({ region: SANDBOX_REGION, credentials: SANDBOX_CREDENTIALS, endpoint: state.stepFunctionsEndpoint, maxAttempts: 1 });
    return { sfn, stateMachineArn, pollMs: 250 };
  }
  const stateMachineArn = options.stateMachineArn ?? process.env.CERTFLOW_ROTATION_STATE_MACHINE_ARN;
  return { sfn: new SFNClient({}), ...(stateMachineArn ? { stateMachineArn } : {}), pollMs: 2000 };
}

/** One phase of a run: a RotationStates state, how often it was entered and left, and where it stands. */
export interface PhaseProgress {
  state: string;
  entered: number;
  exited: number;
  status: 'done' | 'running' | 'failed';
}

export interface RunStatus {
  executionArn: string;
  name: string;
  status: string;
  startDate?: string;
  stopDate?: string;
  /** The phase entered last and not yet left (RUNNING), or where the run ended. */
  current?: string;
  phases: PhaseProgress[];
  failures: Array<{ state: string; error: string; cause: string }>;
  error?: string;
  cause?: string;
  output?: unknown;
}

const rotationStateNames = new Set<string>(Object.values(RotationStates));

/** Reads an execution and its history, and turns the history into the Rotation phases. */
export async function readRunStatus(sfn: SFNClient, executionArn: string): Promise<RunStatus> {
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000, includeExecutionData: false }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return { ...summarize(described), ...phasesOf(events) };
}

function summarize(described: DescribeExecutionCommandOutput): Omit<RunStatus, 'phases' | 'failures' | 'current'> {
  return {
    executionArn: described.executionArn!,
    name: described.name ?? '',
    status: described.status ?? 'UNKNOWN',
    ...(described.startDate ? { startDate: described.startDate.toISOString() } : {}),
    ...(described.stopDate ? { stopDate: described.stopDate.toISOString() } : {}),
    ...(described.error ? { error: described.error } : {}),
    ...(described.cause ? { cause: described.cause } : {}),
    ...(described.output ? { output: parseJson(described.output) } : {}),
  };
}

/** Phases in the order the run first entered them; Map iterations count each entry. */
export function phasesOf(events: readonly HistoryEvent[]): Pick<RunStatus, 'phases' | 'failures' | 'current'> {
  const phases = new Map<string, PhaseProgress>();
  const failures: RunStatus['failures'] = [];
  let current: string | undefined;
  let lastEntered: string | undefined;
  for (const event of events) {
    const entered = event.stateEnteredEventDetails?.name;
    const exited = event.stateExitedEventDetails?.name;
    if (entered && rotationStateNames.has(entered)) {
      const phase = phases.get(entered) ?? { state: entered, entered: 0, exited: 0, status: 'running' as const };
      phase.entered += 1;
      phase.status = 'running';
      phases.set(entered, phase);
      lastEntered = entered;
    }
    if (exited && phases.has(exited)) {
      const phase = phases.get(exited)!;
      phase.exited += 1;
      if (phase.exited >= phase.entered && phase.status !== 'failed') phase.status = 'done';
    }
    if (event.type === 'TaskFailed' && lastEntered) {
      failures.push({ state: lastEntered, error: event.taskFailedEventDetails?.error ?? '', cause: event.taskFailedEventDetails?.cause ?? '' });
    }
    if (event.type === 'ExecutionFailed' && lastEntered) {
      phases.get(lastEntered)!.status = 'failed';
      failures.push({ state: lastEntered, error: event.executionFailedEventDetails?.error ?? '', cause: event.executionFailedEventDetails?.cause ?? '' });
    }
  }
  const running = [...phases.values()].filter((phase) => phase.status === 'running');
  current = running.at(-1)?.state ?? lastEntered;
  return { phases: [...phases.values()], failures, ...(current ? { current } : {}) };
}

export interface StatusOptions {
  configPath: string;
  local: boolean;
  /** An execution ARN, or an execution name of the Rotation state machine; the latest run otherwise. */
  execution?: string;
  watch: boolean;
  stateMachineArn?: string;
}

/**
 * `certflow status`: where a Rotation run is, phase by phase (DescribeExecution and
 * GetExecutionHistory), the latest run when none is named. `--watch` follows it to its end.
 */
export async function status(options: StatusOptions, out: Output): Promise<number> {
  const target = rotationTarget(options);
  try {
    const executionArn = await resolveExecution(target, options.execution);
    let run = await readRunStatus(target.sfn, executionArn);
    while (options.watch && run.status === 'RUNNING') {
      out.progress(`${run.name}: RUNNING, in ${run.current ?? 'its first state'}`);
      await new Promise((resolve) => setTimeout(resolve, target.pollMs));
      run = await readRunStatus(target.sfn, executionArn);
    }
    printRun(run, out);
    return run.status === 'RUNNING' || run.status === 'SUCCEEDED' ? ExitCodes.Ok : ExitCodes.WorkflowFailed;
  } finally {
    target.sfn.destroy();
  }
}

async function resolveExecution(target: RotationTarget, execution: string | undefined): Promise<string> {
  if (execution?.startsWith('arn:')) return execution;
  if (!target.stateMachineArn) {
    throw new CliError('--state-machine-arn (or CERTFLOW_ROTATION_STATE_MACHINE_ARN) is required against AWS unless an execution ARN is given: the RotationStateMachineArn output of the stack', ExitCodes.Usage);
  }
  if (execution) return target.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${execution}`;
  const listed = await target.sfn.send(new ListExecutionsCommand({ stateMachineArn: target.stateMachineArn, maxResults: 1 }));
  const latest = listed.executions?.[0]?.executionArn;
  if (!latest) throw new CliError('the Rotation state machine has no execution yet: start one with `certflow rotate`', ExitCodes.Environment);
  return latest;
}

/** The outcome as a document (`--json`) or as a phase table; never prints state payloads. */
export function printRun(run: RunStatus, out: Output): void {
  out.result(run);
  out.line(`Rotation ${run.name}: ${run.status}${run.current ? ` (${run.status === 'RUNNING' ? 'in' : 'last phase'} ${run.current})` : ''}`);
  out.table([['phase', 'status', 'entered'], ...run.phases.map((phase) => [phase.state, phase.status, String(phase.entered)])]);
  for (const failure of run.failures) out.line(`failed in ${failure.state}: ${failure.error}${failure.cause ? `: ${reason(failure.cause)}` : ''}`);
  if (run.status !== 'SUCCEEDED' && run.status !== 'RUNNING' && run.error && run.failures.length === 0) out.line(`${run.error}${run.cause ? `: ${reason(run.cause)}` : ''}`);
}

/** A Lambda failure's Cause is JSON {errorType, errorMessage}; print the message. */
function reason(cause: string): string {
  const parsed = parseJson(cause) as { errorType?: string; errorMessage?: string } | undefined;
  return parsed && typeof parsed === 'object' && parsed.errorMessage ? `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage}` : cause;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
