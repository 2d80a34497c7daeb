import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Operation } from '../aws-json/aws-json-server';
import { AwsJsonError } from '../aws-json/aws-json-error';
import { parseRequest } from '../aws-json/request-schema';
import type { HistoryEvent, LocalExecution, LocalRunner } from '../runner/local-runner';
import { toSfnHistory, type ExecutionEnd } from './history-events';
import { TaskTokenError } from '../runner/task-tokens';

export const StepFunctionsOperationNames = [
  'StartExecution',
  'DescribeExecution',
  'GetExecutionHistory',
  'ListExecutions',
  'StopExecution',
  'ListStateMachines',
  'DescribeStateMachine',
  'SendTaskSuccess',
  'SendTaskFailure',
] as const;
export type StepFunctionsOperationName = (typeof StepFunctionsOperationNames)[number];

/** One execution the emulator started: its record, live history, and how to abort it. */
export interface EmulatedExecution extends ExecutionEnd {
  executionArn: string;
  stateMachineArn: string;
  stateMachine: string;
  name: string;
  history: readonly HistoryEvent[];
  abort?: () => void;
  /** Settles when the local run has ended (never rejects). */
  done: Promise<void>;
}

// Step Functions' documented limits: names 1-80 characters, no whitespace or wildcards.
const ExecutionName = z.string().regex(/^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/, 'a valid execution name');
const Arn = z.string().min(1).max(256);
const StartExecutionRequest = z.object({ stateMachineArn: Arn, name: ExecutionName.optional(), input: z.string().optional(), traceHeader: z.string().optional() });
const ExecutionRequest = z.object({ executionArn: Arn });
const GetExecutionHistoryRequest = z.object({
  executionArn: Arn,
  maxResults: z.number().int().min(0).max(1000).optional(),
  nextToken: z.string().optional(),
  reverseOrder: z.boolean().optional(),
  includeExecutionData: z.boolean().optional(),
});
const ListExecutionsRequest = z.object({
  stateMachineArn: Arn,
  statusFilter: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']).optional(),
  maxResults: z.number().int().min(0).max(1000).optional(),
  nextToken: z.string().optional(),
});
const StopExecutionRequest = z.object({ executionArn: Arn, error: z.string().max(256).optional(), cause: z.string().max(32768).optional() });
const ListStateMachinesRequest = z.object({ maxResults: z.number().int().min(0).max(1000).optional(), nextToken: z.string().optional() });
const DescribeStateMachineRequest = z.object({ stateMachineArn: Arn });
// Step Functions' limits: a token of 1-2048 characters; output JSON up to 256 KiB; error 256, cause 32768.
const TaskToken = z.string().min(1).max(2048);
const SendTaskSuccessRequest = z.object({ taskToken: TaskToken, output: z.string().max(262_144) });
const SendTaskFailureRequest = z.object({ taskToken: TaskToken, error: z.string().max(256).optional(), cause: z.string().max(32768).optional() });

/** The executions of one emulated account and region, run by a LocalRunner. */
export class StepFunctionsExecutions {
  private readonly executions = new Map<string, EmulatedExecution>();
  private readonly createdAt = Date.now() / 1000;

  constructor(
    private readonly runner: LocalRunner,
    readonly region: string,
    readonly accountId: string,
  ) {}

  arnOf(stateMachine: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${stateMachine}`;
  }

  /** The logical id an ARN names, or StateMachineDoesNotExist / InvalidArn as AWS answers. */
  stateMachineOf(arn: string): string {
    const prefix = `arn:aws:states:${this.region}:${this.accountId}:stateMachine:`;
    if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/.test(arn)) throw new AwsJsonError('InvalidArn', `Invalid Arn: '${arn}'`);
    const logicalId = arn.startsWith(prefix) ? arn.slice(prefix.length) : undefined;
    if (logicalId === undefined || !this.runner.stateMachines().includes(logicalId)) throw new AwsJsonError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return logicalId;
  }

  start(stateMachineArn: string, inputText = '{}', requestedName?: string): EmulatedExecution {
    const stateMachine = this.stateMachineOf(stateMachineArn);
    let input: unknown;
    try {
      input = JSON.parse(inputText);
    } catch {
      throw new AwsJsonError('InvalidExecutionInput', 'Invalid State Machine Execution Input: input must be valid JSON');
    }
    const name = requestedName ?? randomUUID();
    const executionArn = `arn:aws:states:${this.region}:${this.accountId}:execution:${stateMachine}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // Step Functions: the same name and input while running is idempotent; anything else is a duplicate.
      if (existing.status === 'RUNNING' && existing.input === inputText) return existing;
      throw new AwsJsonError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: EmulatedExecution = { executionArn, stateMachineArn, stateMachine, name, status: 'RUNNING', input: inputText, startDate: Date.now() / 1000, history: [], done: Promise.resolve() };
    this.executions.set(executionArn, record);
    record.done = this.runner
      .run(stateMachine, input, {
        name,
        onStart: (abort, history) => {
          record.abort = abort;
          record.history = history;
        },
      })
      .then(
        (result) => this.finish(record, result),
        (error: unknown) => this.finish(record, { status: 'FAILED', error: 'States.Runtime', cause: error instanceof Error ? error.message : String(error), stoppedAt: new Date() }),
      );
    return record;
  }

  private finish(record: EmulatedExecution, result: Pick<LocalExecution, 'status' | 'error' | 'cause' | 'stoppedAt'> & { output?: unknown; history?: HistoryEvent[]; children?: LocalExecution[] }): void {
    if (result.history) record.history = result.history;
    // The child executions its `.sync` tasks started are executions of their own, which
    // ListExecutions, DescribeExecution and GetExecutionHistory answer for, as in AWS (here once
    // the parent has ended: the runner hands them over with it).
    for (const child of result.children ?? []) this.adopt(child);
    // A StopExecution has already decided the outcome: the run's later end does not change it.
    if (record.status !== 'RUNNING') return;
    record.status = result.status;
    record.stopDate = result.stoppedAt.getTime() / 1000;
    if (result.status === 'SUCCEEDED') record.output = JSON.stringify(result.output ?? null);
    if (result.error !== undefined) record.error = result.error;
    if (result.cause !== undefined) record.cause = result.cause;
  }

  private adopt(child: LocalExecution): void {
    if (this.executions.has(child.executionArn)) return;
    const record: EmulatedExecution = {
      executionArn: child.executionArn,
      stateMachineArn: this.arnOf(child.stateMachine),
      stateMachine: child.stateMachine,
      name: child.name,
      status: 'RUNNING',
      input: JSON.stringify(child.input ?? {}),
      startDate: child.startedAt.getTime() / 1000,
      history: [],
      done: Promise.resolve(),
    };
    this.executions.set(child.executionArn, record);
    this.finish(record, child);
  }

  get(executionArn: string): EmulatedExecution {
    if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(executionArn)) throw new AwsJsonError('InvalidArn', `Invalid Arn: '${executionArn}'`);
    const record = this.executions.get(executionArn);
    if (!record) throw new AwsJsonError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  stop(executionArn: string, error?: string, cause?: string): number {
    const record = this.get(executionArn);
    if (record.status === 'RUNNING') {
      record.status = 'ABORTED';
      record.stopDate = Date.now() / 1000;
      if (error !== undefined) record.error = error;
      if (cause !== undefined) record.cause = cause;
      record.abort?.();
    }
    return record.stopDate ?? Date.now() / 1000;
  }

  /** Newest first, as ListExecutions answers. */
  list(stateMachine?: string): EmulatedExecution[] {
    return [...this.executions.values()].filter((record) => stateMachine === undefined || record.stateMachine === stateMachine).reverse();
  }

  abortAll(): void {
    for (const record of this.executions.values()) if (record.status === 'RUNNING') this.stop(record.executionArn, 'Sandbox.Closed', 'the sandbox was stopped');
  }

  settled(): Promise<void> {
    return Promise.all([...this.executions.values()].map((record) => record.done)).then(() => undefined);
  }

  stateMachineCreationDate(): number {
    return this.createdAt;
  }
}

/** The Step Functions operations over one set of executions, as handlers for the shared JSON server. */
export function stepFunctionsOperations(executions: StepFunctionsExecutions, runner: LocalRunner): Record<StepFunctionsOperationName, Operation> {
  return {
    StartExecution(input) {
      const request = parseRequest(StartExecutionRequest, input);
      const record = executions.start(request.stateMachineArn, request.input ?? '{}', request.name);
      return { executionArn: record.executionArn, startDate: record.startDate };
    },

    DescribeExecution(input) {
      const record = executions.get(parseRequest(ExecutionRequest, input).executionArn);
      return {
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: record.startDate,
        ...(record.stopDate === undefined ? {} : { stopDate: record.stopDate }),
        input: record.input,
        inputDetails: { included: true },
        ...(record.output === undefined ? {} : { output: record.output, outputDetails: { included: true } }),
        ...(record.error === undefined ? {} : { error: record.error }),
        ...(record.cause === undefined ? {} : { cause: record.cause }),
      };
    },

    GetExecutionHistory(input) {
      const request = parseRequest(GetExecutionHistoryRequest, input);
      const record = executions.get(request.executionArn);
      let events = toSfnHistory(record.history, record);
      if (request.reverseOrder) events = events.reverse();
      if (request.includeExecutionData === false) events = events.map(withoutData);
      return page(events, request.maxResults, request.nextToken, 'events');
    },

    ListExecutions(input) {
      const request = parseRequest(ListExecutionsRequest, input);
      const stateMachine = executions.stateMachineOf(request.stateMachineArn);
      const items = executions
        .list(stateMachine)
        .filter((record) => request.statusFilter === undefined || record.status === request.statusFilter)
        .map((record) => ({
          executionArn: record.executionArn,
          stateMachineArn: record.stateMachineArn,
          name: record.name,
          status: record.status,
          startDate: record.startDate,
          ...(record.stopDate === undefined ? {} : { stopDate: record.stopDate }),
        }));
      return page(items, request.maxResults, request.nextToken, 'executions');
    },

    StopExecution(input) {
      const request = parseRequest(StopExecutionRequest, input);
      return { stopDate: executions.stop(request.executionArn, request.error, request.cause) };
    },

    ListStateMachines(input) {
      const request = parseRequest(ListStateMachinesRequest, input);
      const items = runner.stateMachines().map((logicalId) => ({ stateMachineArn: executions.arnOf(logicalId), name: logicalId, type: 'STANDARD', creationDate: executions.stateMachineCreationDate() }));
      return page(items, request.maxResults, request.nextToken, 'stateMachines');
    },

    SendTaskSuccess(input) {
      const request = parseRequest(SendTaskSuccessRequest, input);
      let output: unknown;
      try {
        output = JSON.parse(request.output);
      } catch {
        throw new AwsJsonError('InvalidOutput', 'Invalid Output: output must be valid JSON');
      }
      answerTask(() => runner.taskTokens.succeed(request.taskToken, output));
      return {};
    },

    SendTaskFailure(input) {
      const request = parseRequest(SendTaskFailureRequest, input);
      answerTask(() => runner.taskTokens.fail(request.taskToken, request.error ?? '', request.cause ?? ''));
      return {};
    },

    DescribeStateMachine(input) {
      const arn = parseRequest(DescribeStateMachineRequest, input).stateMachineArn;
      const logicalId = executions.stateMachineOf(arn);
      return {
        stateMachineArn: arn,
        name: logicalId,
        status: 'ACTIVE',
        definition: JSON.stringify(runner.definition(logicalId)),
        roleArn: `arn:aws:iam::${executions.accountId}:role/${logicalId}Role`,
        type: 'STANDARD',
        creationDate: executions.stateMachineCreationDate(),
      };
    },
  };
}

/** A task token's answer, with the runner's token errors as Step Functions names them. */
function answerTask(answer: () => void): void {
  try {
    answer();
  } catch (error) {
    if (error instanceof TaskTokenError) throw new AwsJsonError(error.name, error.message);
    throw error;
  }
}

/** maxResults 0 means the service default (1000 for history, 100 for lists); nextToken is an opaque offset. */
function page<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined, key: string): Record<string, unknown> {
  let offset = 0;
  if (nextToken !== undefined) {
    const decoded = /^sandbox:(\d+)$/.exec(Buffer.from(nextToken, 'base64').toString('utf8'));
    if (!decoded) throw new AwsJsonError('InvalidToken', `Invalid Token: '${nextToken}'`);
    offset = Number(decoded[1]);
  }
  const size = maxResults === undefined || maxResults === 0 ? (key === 'events' ? 1000 : 100) : maxResults;
  const slice = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(`sandbox:${offset + size}`).toString('base64') : undefined;
  return { [key]: slice, ...(next ? { nextToken: next } : {}) };
}

function withoutData<T extends Record<string, unknown>>(event: T): T {
  const copy: Record<string, unknown> = { ...event };
  for (const [key, value] of Object.entries(copy)) {
    if (key.endsWith('EventDetails') && typeof value === 'object' && value !== null) {
      const { input: _input, output: _output, ...rest } = value as Record<string, unknown>;
      copy[key] = rest;
    }
  }
  return copy as T;
}
