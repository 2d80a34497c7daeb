import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { requireArn, workflowOfExecution, workflowTarget, WORKFLOWS, type WorkflowName, type WorkflowTarget } from '../workflows';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';

/** Where the Rotation state machine is: the running sandbox's emulator, or AWS. */
export interface RotationTarget {
  sfn: SFNClient;
  stateMachineArn?: string;
  /** How long to wait between DescribeExecution polls. */
  pollMs: number;
}

/** The Rotation state machine of the sandbox (`--local`) or of AWS (flag or environment). */
export function rotationTarget(options: { configPath: string; local: boolean; stateMachineArn?: string }): RotationTarget {
  const target = workflowTarget({ ...options, ...(options.stateMachineArn ? { stateMachineArns: { rotation: options.stateMachineArn } } : {}) });
  return { sfn: target.sfn, pollMs: target.pollMs, ...(target.stateMachineArns.rotation ? { stateMachineArn: target.stateMachineArns.rotation } : {}) };
}

/** One phase of a run: a RotationStates state, how often it was entered and left, and where it stands. */
export interface PhaseProgress {
  state: string;
  entered: number;
  exited: number;
  /** `stopped`: the run was aborted or timed out while in this state. */
  status: 'done' | 'running' | 'failed' | 'stopped';
}

export interface RunStatus {
  executionArn: string;
  name: string;
  status: string;
  startDate?: string;
  stopDate?: string;
  /** The phase entered last and not yet left (RUNNING), or where the run ended. */
  current?: string;
  /** Which workflow the run belongs to (Unseal, Rotation, Compromise), when known. */
  workflow?: string;
  phases: PhaseProgress[];
  failures: Array<{ state: string; error: string; cause: string }>;
  /** Per service, from the run's summary: serials whole (pasteable into `compromise --serial`) and the verdict. */
  services?: Array<{ service: string; oldSerial?: string; newSerial?: string; verdict?: string }>;
  /** How many services the run has when the summary lists only some (its servicesTotal); the ledger has every one. */
  servicesTotal?: number;
  error?: string;
  cause?: string;
  output?: unknown;
}

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
  const summary = summarize(described);
  const progress = phasesOf(events);
  // An aborted or timed-out run is not "running" anywhere any more.
  if (summary.status === 'ABORTED' || summary.status === 'TIMED_OUT') for (const phase of progress.phases) if (phase.status === 'running') phase.status = 'stopped';
  const services = servicesOf(summary.output);
  const servicesTotal = (summary.output as { summary?: { detail?: { servicesTotal?: unknown } } } | undefined)?.summary?.detail?.servicesTotal;
  return { ...summary, ...progress, ...(services ? { services } : {}), ...(typeof servicesTotal === 'number' ? { servicesTotal } : {}) };
}

/** The Rotation's summary (its event detail) names every service with its serials and verdict. */
function servicesOf(output: unknown): RunStatus['services'] {
  const services = (output as { summary?: { detail?: { services?: unknown } } } | undefined)?.summary?.detail?.services;
  return Array.isArray(services) ? (services as NonNullable<RunStatus['services']>) : undefined;
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
    ...(described.stateMachineArn ? { workflow: described.stateMachineArn.split(':')[6] ?? '' } : {}),
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
    if (entered) {
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
  /** An execution ARN, or an execution name of the chosen workflow; its latest run otherwise. */
  execution?: string;
  /** Which workflow a name or "the latest run" refers to. @default rotation */
  workflow?: WorkflowName;
  watch: boolean;
  stateMachineArn?: string;
}

/**
 * `certflow status`: where a run of any workflow is, state by state (DescribeExecution and
 * GetExecutionHistory), the latest Rotation run when none is named. `--watch` follows it to its
 * end. Exits 0 only for a run that succeeded, 7 for one still running, 1 otherwise.
 */
export async function status(options: StatusOptions, out: Output): Promise<number> {
  const workflow = options.workflow ?? 'rotation';
  const target = workflowTarget({ ...options, ...(options.stateMachineArn ? { stateMachineArns: { [workflow]: options.stateMachineArn } } : {}) });
  try {
    const executionArn = await resolveExecution(target, workflow, options.execution);
    let run = await readRunStatus(target.sfn, executionArn);
    while (options.watch && run.status === 'RUNNING') {
      out.progress(`${run.name}: RUNNING, in ${run.current ?? 'its first state'}`);
      await new Promise((resolve) => setTimeout(resolve, target.pollMs));
      run = await readRunStatus(target.sfn, executionArn);
    }
    printRun(run, out, WORKFLOWS[workflowOfExecution(executionArn, target.stateMachineArns) ?? workflow].title);
    return exitCodeOf(run.status);
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') {
      throw new CliError(`no such execution: ${options.execution ?? '(latest)'}; list the runs with \`certflow runs\``, ExitCodes.Usage);
    }
    throw error;
  } finally {
    target.sfn.destroy();
  }
}

/** 0 only for a run that succeeded; a run still going has its own code, so scripts can wait on it. */
export function exitCodeOf(status: string): number {
  if (status === 'SUCCEEDED') return ExitCodes.Ok;
  if (status === 'RUNNING') return ExitCodes.StillRunning;
  return ExitCodes.WorkflowFailed;
}

async function resolveExecution(target: WorkflowTarget, workflow: WorkflowName, execution: string | undefined): Promise<string> {
  if (execution?.startsWith('arn:')) return execution;
  const stateMachineArn = requireArn(target, workflow);
  if (execution) return stateMachineArn.replace(':stateMachine:', ':execution:') + `:${execution}`;
  const listed = await target.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }));
  const latest = listed.executions?.[0]?.executionArn;
  if (!latest) throw new CliError(`the ${WORKFLOWS[workflow].title} state machine has no execution yet`, ExitCodes.Environment);
  return latest;
}

/** The outcome as a document (`--json`) or as a phase table; never prints state payloads. */
export function printRun(run: RunStatus, out: Output, title = 'Rotation', options: { document?: boolean } = {}): void {
  if (options.document ?? true) out.result(run);
  const paintStatus = run.status === 'SUCCEEDED' ? out.paint.ok : run.status === 'RUNNING' ? out.paint.warn : out.paint.bad;
  out.line(`${title} ${run.name}: ${paintStatus(run.status)}${run.current ? ` (${run.status === 'RUNNING' ? 'in' : 'last state'} ${run.current})` : ''}`);
  if (out.wide) out.line(`  ${run.executionArn}`);
  // A Rotation enters some 25 states: the narrow view counts the finished ones and lists the rest.
  const shown = out.wide ? run.phases : run.phases.filter((phase) => phase.status !== 'done');
  const done = run.phases.length - run.phases.filter((phase) => phase.status !== 'done').length;
  if (!out.wide) out.line(`states: ${done} done${shown.length ? `, ${shown.length} not` : ''}${run.phases.length ? ' (all of them: -o wide)' : ''}`);
  if (shown.length) out.table([['state', 'status', 'entered'], ...shown.map((phase) => [phase.state, phase.status, String(phase.entered)])]);
  if (run.services?.length) {
    out.line();
    // Serials whole, so one can be pasted into `certflow compromise --serial`.
    out.table(
      [
        ['service', 'verdict', 'serial'],
        ...run.services.flatMap((service) => [
          [service.service, service.verdict ?? '', `new ${service.newSerial ?? '-'}`],
          ['', '', `old ${service.oldSerial ?? '-'}`],
        ]),
      ],
      { whole: [2] },
    );
    if (run.servicesTotal !== undefined && run.servicesTotal > run.services.length) {
      out.line(`  ... and ${run.servicesTotal - run.services.length} more services, each in the run's batch records in the ledger (those with an unexpected verdict are listed above)`);
    }
  }
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
