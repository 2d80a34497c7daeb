import './polyfills';
import { resolve as resolvePath } from 'node:path';
import { randomUUID } from 'node:crypto';
import { StateMachine, ExecutionError, ExecutionTimeoutError, ExecutionAbortedError } from 'aws-local-stepfunctions';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { CallAuthorizer } from '../aws-json/aws-json-server';
import { credentialsForRole } from '../iam/role-credentials';
import { EnvNames, type Env } from '../../functions/contracts/env';
import { resolveRunTimeValues } from '../../functions/adapters/run-time-values';
import { repoRoot } from '../../lib/repo-root';
import { FunctionRegistry, type FunctionId } from '../../functions/contracts/functions';
import type { HandlerOptions, LambdaHandler } from '../../functions/handlers/kit/handler-kit';
import { lambdaFunctions, listStateMachines, resolveDefinition, stateMachineRoleArn, type CfnTemplate, type LambdaFunctionInfo } from './template-resolver';
import { listStatesOfType, listTaskStates, type AslMachine, type TaskState } from './task-walker';
import { TaskTokens } from './task-tokens';
import { loadBundle } from './bundle-loader';

/**
 * Runs the state machines of the synthesized template with aws-local-stepfunctions: the
 * definition that runs here is the one that deploys. Each Lambda task runs its real handler in
 * process with the environment the template gives that function (plus the sandbox's endpoints);
 * each SDK-integration task calls the real AWS SDK client against the sandbox; a task with no
 * mapping fails the run before it starts.
 */
export interface LocalRunnerOptions {
  template: CfnTemplate;
  /**
   * The cloud assembly the template was synthesized into: each function runs from its bundle
   * there (`asset.<hash>/index.js`), the code that deploys. Omitted only with `code: 'source'`.
   */
  assemblyDir?: string;
  /**
   * `bundle` (the default) runs the synthesized bundles; `source` requires the handlers' TypeScript,
   * for debugging with breakpoints only (CERTFLOW_RUN_SOURCE=1): no test that proves a workflow uses it.
   */
  code?: 'bundle' | 'source';
  region: string;
  accountId: string;
  /** Physical names for template resources (tables, keys, buses), by logical id. */
  refs: Record<string, string>;
  /** `Fn::GetAtt` values, keyed `LogicalId.Attribute` (key ARNs and the like). */
  attributes?: Record<string, string>;
  /**
   * Added to every function's environment: the AWS region and endpoint settings, and nothing else
   * (FUNCTION_AWS_VARIABLES; anything else is refused). Each function also gets its own role's
   * credentials (credentialsForRole). Values that exist only at run time reach the functions
   * through the parameters their template names, never through this.
   */
  awsEnv: Env;
  /**
   * Clients for SDK-integration tasks when awsEnv names no endpoint for their service; with
   * an endpoint, those tasks run with the state machine's own role's credentials instead.
   */
  eventBridge: EventBridgeClient;
  dynamoDb: DynamoDBClient;
  /** The sandbox's IAM decisions, for emulators built over this runner (Step Functions). */
  authorizer?: CallAuthorizer;
  /**
   * Decides, by the role's trust policy, whether a service may assume a role before the runner
   * hands that service's work the role's credentials: Lambda for each function (at its cold
   * start), Step Functions for each state machine's SDK tasks (at each start).
   */
  assumeRole?: (servicePrincipal: string, roleArn: string, sourceArn?: string) => Promise<void>;
  /** Where handlers write log and metric lines (captured per runner). */
  output?: NodeJS.WritableStream;
  /** Milliseconds between retries (Step Functions' real intervals are seconds). */
  retryIntervalMs?: number;
  /** Milliseconds every Wait state waits locally (the definitions wait seconds). @default 10 */
  waitMs?: number;
}

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface HistoryEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  [key: string]: unknown;
}

export interface LocalExecution {
  executionArn: string;
  name: string;
  stateMachine: string;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  startedAt: Date;
  stoppedAt: Date;
  history: HistoryEvent[];
  /** The executions its `startExecution.sync:2` tasks started, in start order (each with its own history). */
  children: LocalExecution[];
}

interface LocalFunction {
  logicalId: string;
  functionId: FunctionId;
  env: Env;
  handler: LambdaHandler<unknown>;
}

type TaskImplementation = (input: unknown) => Promise<unknown>;

/** What a task implementation knows of the execution it runs in. */
interface TaskScope {
  executionArn: string;
  /** Adds an event to the execution's history (TaskScheduled, with the resolved parameters). */
  record(event: HistoryEvent): void;
  /** The state machine's role: Step Functions starts child executions as this role. */
  roleArn: string | undefined;
  /** Child executions started so far, and the aborts of those still running. */
  children: LocalExecution[];
  runningChildren: Set<() => void>;
}

const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync:2';
/** The managed rule Step Functions puts in the account to learn that a `.sync` child execution ended. */
const SYNC_EXECUTION_RULE = 'StepFunctionsGetEventsForStepFunctionsExecutionRule';

const WAIT_FOR_TASK_TOKEN = '.waitForTaskToken';

interface HandlerModule {
  makeHandler(env: Env, options: HandlerOptions): LambdaHandler<unknown>;
}

/**
 * One machine per definition text, built without validation: aws-local-stepfunctions would
 * validate the definition with asl-validator (compiling its JSON schemas, about a quarter of a
 * second) every time a machine is built, and the runner runs the same definitions many times.
 * Every synthesized definition is validated with asl-validator by the infra tests
 * (test/infra/*-workflow.test.ts).
 */
const machines = new Map<string, StateMachine>();

function machineFor(definition: AslMachine): StateMachine {
  const text = JSON.stringify(definition);
  let machine = machines.get(text);
  if (!machine) {
    machine = new StateMachine(definition as never, { validationOptions: { noValidate: true } });
    if (machines.size >= 16) machines.delete(machines.keys().next().value!);
    machines.set(text, machine);
  }
  return machine;
}

/**
 * The module a function's task runs. A bundle's `Handler` export is `makeHandler(process.env)`;
 * the runner calls the same bundle's `makeHandler` with the function's own environment, so many
 * functions share this process without sharing one `process.env`.
 */
function loadHandlerModule(fn: LambdaFunctionInfo, options: LocalRunnerOptions): { module: HandlerModule; invoked(): void } {
  const functionId = fn.functionId as FunctionId;
  const mode = options.code ?? (process.env.CERTFLOW_RUN_SOURCE === '1' ? 'source' : 'bundle');
  if (mode === 'source') return { module: require(resolvePath(repoRoot(), FunctionRegistry[functionId].entry)) as HandlerModule, invoked: () => undefined };
  if (!options.assemblyDir) throw new Error('the local runner needs the cloud assembly directory to run the synthesized bundles');
  const [file, exported] = (fn.handler ?? '').split('.');
  if (!fn.assetDir || !file || !exported) throw new Error(`function ${fn.logicalId} has no bundle in the template (Handler ${fn.handler ?? 'none'})`);
  const bundlePath = resolvePath(options.assemblyDir, fn.assetDir, `${file}.js`);
  // Node's loader, not jest's registry, with V8's code cache (bundle-loader.ts): once per process.
  const bundle = loadBundle(bundlePath);
  const module = bundle.exports as Partial<HandlerModule> & Record<string, unknown>;
  if (typeof module[exported] !== 'function' || typeof module.makeHandler !== 'function') {
    throw new Error(`bundle ${bundlePath} of ${fn.logicalId} exports no ${exported} and makeHandler`);
  }
  return { module: module as HandlerModule, invoked: () => bundle.saveCodeCache() };
}

/** The AWS credential variables of a function running as `roleArn` (no session token in the sandbox). */
function roleEnv(roleArn: string): Env {
  const credentials = credentialsForRole(roleArn);
  return { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: undefined };
}

/**
 * The only variables the runner adds to a function's template environment: the region, the
 * sandbox's endpoints, and (per function) its own role's credentials. Anything else would make
 * what runs differ from what the template deploys.
 */
export const FUNCTION_AWS_VARIABLES: readonly string[] = [
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ENDPOINT_URL_KMS',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_EVENTBRIDGE',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_SSM',
  'AWS_ENDPOINT_URL_SFN',
];

function assertAwsVariables(variables: Env): void {
  const others = Object.keys(variables).filter((name) => !FUNCTION_AWS_VARIABLES.includes(name));
  if (others.length > 0) throw new Error(`the runner adds only AWS endpoint settings to a function's template environment, not ${others.join(', ')}`);
}

interface SdkClients {
  eventBridge: EventBridgeClient;
  dynamoDb: DynamoDBClient;
}

export class LocalRunner {
  private readonly functions = new Map<string, LocalFunction>();
  private readonly clientsByRole = new Map<string, SdkClients>();
  private readonly taskListeners = new Set<(state: string) => void>();
  private readonly tasksRunning = new Set<Promise<unknown>>();
  readonly authorizer: CallAuthorizer | undefined;
  /** The tokens of `.waitForTaskToken` tasks: what SendTaskSuccess/SendTaskFailure answer. */
  readonly taskTokens = new TaskTokens();
  /**
   * Milliseconds a callback task waits locally before it times out (`States.Timeout`), as Wait
   * states wait `waitMs`: the definitions wait minutes. Undefined: the task's own TimeoutSeconds.
   */
  callbackTimeoutMs: number | undefined;

  constructor(private readonly options: LocalRunnerOptions) {
    assertAwsVariables(options.awsEnv);
    this.authorizer = options.authorizer;
    for (const fn of lambdaFunctions(options.template, this.resolveOptions())) {
      const functionId = fn.environment[EnvNames.Function];
      if (typeof functionId !== 'string' || !(functionId in FunctionRegistry)) {
        continue; // CDK's own helper functions (log retention and the like) are not certflow steps.
      }
      const env: Record<string, string | undefined> = {};
      for (const [key, value] of Object.entries(fn.environment)) {
        if (typeof value === 'string') env[key] = value;
      }
      Object.assign(env, options.awsEnv);
      // Each function signs with its own role's key, as Lambda hands it its role's session.
      if (fn.roleArn) Object.assign(env, roleEnv(fn.roleArn));
      const handlerOptions: HandlerOptions = options.output ? { output: options.output } : {};
      // A bundle is loaded on its function's first invocation (a cold start), not for every runner.
      let handler: LambdaHandler<unknown> | undefined;
      let firstInvocationDone: (() => void) | undefined;
      const lazyHandler: LambdaHandler<unknown> = async (event, context) => {
        if (!handler) {
          // Lambda assumes the function's role before its first invocation; a trust policy that does not let it, fails it.
          if (fn.roleArn && options.assumeRole) await options.assumeRole('lambda.amazonaws.com', fn.roleArn, fn.arn);
          if (!handler) {
            const loaded = loadHandlerModule(fn, options);
            handler = loaded.module.makeHandler(env, handlerOptions);
            firstInvocationDone = loaded.invoked;
          }
        }
        try {
          return await handler(event, context);
        } finally {
          // The code cache is taken after a first invocation, so it holds the code that ran.
          firstInvocationDone?.();
          firstInvocationDone = undefined;
        }
      };
      this.functions.set(fn.arn, { logicalId: fn.logicalId, functionId: functionId as FunctionId, env, handler: lazyHandler });
    }
  }

  /**
   * Adds endpoint variables to every function's environment, for endpoints that exist only after
   * the runner (the sandbox's Step Functions API is built over it). Handlers read their environment
   * on first use, so call this before running anything that needs the variables.
   */
  extendEnv(variables: Env): void {
    assertAwsVariables(variables);
    for (const fn of this.functions.values()) Object.assign(fn.env as Record<string, string | undefined>, variables);
  }

  /**
   * Replaces template values in every function's environment: a deliberate divergence from what
   * deploys, for the one test that must hold a policy value (the batch size) at a size the seed
   * config does not have without synthesizing a second template. Only template variables that
   * exist may be replaced; nothing else is added. Call before anything runs.
   */
  overrideTemplateValuesForTest(variables: Env): void {
    for (const fn of this.functions.values()) {
      for (const [name, value] of Object.entries(variables)) {
        if (name in fn.env) (fn.env as Record<string, string | undefined>)[name] = value;
      }
    }
  }

  /**
   * Invokes one function as Lambda would (its bundle, its environment), outside any state machine:
   * for tests that drive a single step many times.
   */
  async invoke(functionId: FunctionId, payload: unknown): Promise<unknown> {
    const fn = [...this.functions.values()].find((candidate) => candidate.functionId === functionId);
    if (!fn) throw new Error(`the template has no function ${functionId}`);
    return fn.handler(payload);
  }

  /** The ARN of every certflow function of the template (what the Lambda API emulator answers for). */
  functionArns(): string[] {
    return [...this.functions.keys()];
  }

  /**
   * Invokes the function with this ARN as Lambda would (its bundle, its environment, its role): the
   * Lambda API emulator's Invoke. Throws what the handler throws.
   */
  async invokeArn(functionArn: string, payload: unknown): Promise<unknown> {
    const fn = this.functions.get(functionArn);
    if (!fn) throw new Error(`the template has no certflow function ${functionArn}`);
    return fn.handler(payload);
  }

  /** The environment a function runs with here: the template's, plus the AWS endpoints and its own credentials. */
  functionEnv(functionId: FunctionId): Env {
    const fn = [...this.functions.values()].find((candidate) => candidate.functionId === functionId);
    if (!fn) throw new Error(`the template has no function ${functionId}`);
    return fn.env;
  }

  /**
   * The environment a function works with once its cold start has read the run-time values its
   * template names (as the function's role, with the function's own code): for tests and CLI
   * commands that build one function's adapters themselves.
   */
  resolvedFunctionEnv(functionId: FunctionId): Promise<Env> {
    return resolveRunTimeValues(this.functionEnv(functionId));
  }

  /**
   * Calls `listener` with a task state's name each time any execution of this runner starts that
   * task (each attempt, before its work begins), so a fault can be armed exactly when a state
   * starts (fault-injection.ts `from=`). Returns the unsubscribe.
   */
  onTaskStart(listener: (state: string) => void): () => void {
    this.taskListeners.add(listener);
    return () => this.taskListeners.delete(listener);
  }

  /**
   * Resolves once every task attempt started so far has returned. An aborted execution stops at
   * once, but a handler it had started runs to its end, as a Lambda invocation does: wait for it
   * before reading the world it changes.
   */
  async tasksSettled(): Promise<void> {
    while (this.tasksRunning.size) await Promise.allSettled([...this.tasksRunning]);
  }

  /** Logical ids of the template's state machines. */
  stateMachines(): string[] {
    return listStateMachines(this.options.template);
  }

  /**
   * `stateMachine` and every state machine its `startExecution.sync:2` tasks start, transitively:
   * the states a run of it can enter (the Rotation's batches run in its RotationWave children).
   */
  withChildren(stateMachine: string): string[] {
    const prefix = `arn:aws:states:${this.options.region}:${this.options.accountId}:stateMachine:`;
    const found = [stateMachine];
    for (let index = 0; index < found.length; index += 1) {
      for (const task of listTaskStates(this.definition(found[index]!))) {
        const arn = task.resource === START_EXECUTION_SYNC ? String(task.parameters.StateMachineArn ?? '') : '';
        const child = arn.startsWith(prefix) ? arn.slice(prefix.length) : undefined;
        if (child && !found.includes(child)) found.push(child);
      }
    }
    return found;
  }

  definition(stateMachine: string): AslMachine {
    return resolveDefinition(this.options.template, stateMachine, this.resolveOptions()) as AslMachine;
  }

  private resolveOptions() {
    return {
      region: this.options.region,
      accountId: this.options.accountId,
      refs: this.options.refs,
      ...(this.options.attributes ? { attributes: this.options.attributes } : {}),
    };
  }

  /** The state machine whose logical id starts with `prefix` (CDK appends a hash). */
  find(prefix: string): string {
    const matches = this.stateMachines().filter((id) => id.startsWith(prefix));
    if (matches.length !== 1) throw new Error(`expected one state machine named ${prefix}*, found: ${this.stateMachines().join(', ')}`);
    return matches[0]!;
  }

  /**
   * Runs one execution to its end. `onStart` is called once the execution has started, with its
   * abort (StopExecution) and the history as it grows (DescribeExecution/GetExecutionHistory of a
   * running execution, for the Step Functions API emulator).
   */
  async run(
    stateMachine: string,
    input: unknown,
    options: { name?: string; onStart?: (abort: () => void, history: readonly HistoryEvent[]) => void } = {},
  ): Promise<LocalExecution> {
    const definition = this.definition(stateMachine);
    const roleArn = stateMachineRoleArn(this.options.template, stateMachine, this.resolveOptions());
    const stateMachineArn = `arn:aws:states:${this.options.region}:${this.options.accountId}:stateMachine:${stateMachine}`;
    if (roleArn && this.options.assumeRole) await this.options.assumeRole('states.amazonaws.com', roleArn, stateMachineArn);
    const clients = this.clientsFor(roleArn);
    const name = options.name ?? randomUUID();
    const executionArn = `arn:aws:states:${this.options.region}:${this.options.accountId}:execution:${stateMachine}:${name}`;
    const history: HistoryEvent[] = [];
    const scope: TaskScope = { executionArn, record: (event) => history.push(event), roleArn, children: [], runningChildren: new Set() };
    const overrides = Object.fromEntries(listTaskStates(definition).map((task) => [task.name, this.announced(task.name, this.implement(task, clients, scope))]));
    const tokens = this.taskTokens;
    const startedAt = new Date();
    const machine = machineFor(definition);
    const retryInterval = this.options.retryIntervalMs ?? 10;
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: overrides as never,
        retryIntervalOverrides: Object.fromEntries(listTaskStates(definition).map((task) => [task.name, retryInterval])),
        waitTimeOverrides: Object.fromEntries(listStatesOfType(definition, 'Wait').map((name) => [name, this.options.waitMs ?? 10])),
      },
      context: {
        Execution: { Id: executionArn, Name: name, Input: input as never, StartTime: startedAt.toISOString(), RoleArn: roleArn ?? `arn:aws:iam::${this.options.accountId}:role/local` },
        StateMachine: { Id: stateMachine, Name: stateMachine },
        // A fresh token each time a task's parameters read $$.Task.Token, as Step Functions mints one per task.
        Task: {
          get Token() {
            return tokens.mint(executionArn);
          },
        },
      } as never,
    });
    const collecting = (async () => {
      for await (const event of execution.eventLogs) history.push(event as unknown as HistoryEvent);
    })();
    // Stopping an execution stops the child executions its `.sync` tasks wait for, as Step Functions does.
    const stopChildren = () => {
      for (const stop of [...scope.runningChildren]) stop();
    };
    options.onStart?.(() => {
      execution.abort();
      stopChildren();
    }, history);
    const base = { executionArn, name, stateMachine, input, startedAt, history, children: scope.children };
    try {
      return await this.outcome(execution, collecting, base);
    } finally {
      stopChildren();
      this.taskTokens.release(executionArn);
    }
  }

  private async outcome(
    execution: { result: Promise<unknown> },
    collecting: Promise<void>,
    base: Pick<LocalExecution, 'executionArn' | 'name' | 'stateMachine' | 'input' | 'startedAt' | 'history' | 'children'>,
  ): Promise<LocalExecution> {
    try {
      const output = await execution.result;
      await collecting;
      return { ...base, status: 'SUCCEEDED', output, stoppedAt: new Date() };
    } catch (error) {
      await collecting.catch(() => undefined);
      const stoppedAt = new Date();
      if (error instanceof ExecutionTimeoutError) return { ...base, status: 'TIMED_OUT', error: 'States.Timeout', stoppedAt };
      if (error instanceof ExecutionAbortedError) return { ...base, status: 'ABORTED', stoppedAt };
      if (error instanceof ExecutionError) {
        const cause = (error.cause ?? {}) as { name?: string; message?: string };
        return { ...base, status: 'FAILED', error: cause.name ?? 'States.Runtime', cause: cause.message ?? '', stoppedAt };
      }
      throw error;
    }
  }

  /**
   * The clients a state machine's SDK-integration tasks call with: its own role's credentials at
   * awsEnv's endpoints (Step Functions calls the service as the state machine's role).
   */
  private clientsFor(roleArn: string | undefined): SdkClients {
    const eventsEndpoint = this.options.awsEnv['AWS_ENDPOINT_URL_EVENTBRIDGE'];
    const dynamoEndpoint = this.options.awsEnv['AWS_ENDPOINT_URL_DYNAMODB'];
    if (!roleArn || !eventsEndpoint || !dynamoEndpoint) return { eventBridge: this.options.eventBridge, dynamoDb: this.options.dynamoDb };
    let clients = this.clientsByRole.get(roleArn);
    if (!clients) {
      const common = { region: this.options.region, credentials: credentialsForRole(roleArn), maxAttempts: 1 };
      clients = { eventBridge: new EventBridgeClient({ ...common, endpoint: eventsEndpoint }), dynamoDb: new DynamoDBClient({ ...common, endpoint: dynamoEndpoint }) };
      this.clientsByRole.set(roleArn, clients);
    }
    return clients;
  }

  /** The task's implementation, preceded by the onTaskStart listeners (synchronously, so an armed fault meets this very attempt). */
  private announced(state: string, implementation: TaskImplementation): TaskImplementation {
    return (input) => {
      for (const listener of this.taskListeners) listener(state);
      const running = implementation(input);
      this.tasksRunning.add(running);
      void running.then(
        () => this.tasksRunning.delete(running),
        () => this.tasksRunning.delete(running),
      );
      return running;
    };
  }

  private implement(task: TaskState, clients: SdkClients, scope: TaskScope): TaskImplementation {
    if (task.resource.endsWith(WAIT_FOR_TASK_TOKEN)) return this.waitForTaskToken(task, this.implement({ ...task, resource: task.resource.slice(0, -WAIT_FOR_TASK_TOKEN.length) }, clients, scope), scope);
    if (task.resource === 'arn:aws:states:::lambda:invoke') return this.invokeLambda(task);
    if (task.resource === 'arn:aws:states:::events:putEvents') return this.putEvents(clients.eventBridge);
    const dynamo = /^arn:aws:states:::dynamodb:(putItem|getItem|updateItem|deleteItem)$/.exec(task.resource);
    if (dynamo) return this.dynamoDb(dynamo[1] as 'putItem', clients.dynamoDb);
    if (task.resource === START_EXECUTION_SYNC) return this.startExecutionSync(task, scope);
    throw new Error(`task "${task.name}" uses ${task.resource}, which the local runner cannot run; refusing to call AWS`);
  }

  /**
   * The callback pattern: the service call is made (the request goes out with its token), the
   * history gets TaskScheduled with the resolved parameters (where `certflow approve` reads the
   * token, as on AWS), and the task's result is what SendTaskSuccess sends, parsed.
   */
  private waitForTaskToken(task: TaskState, call: TaskImplementation, scope: TaskScope): TaskImplementation {
    return async (input) => {
      const token = tokensIn(input).find((candidate) => {
        try {
          return this.taskTokens.taskOf(candidate).executionArn === scope.executionArn;
        } catch {
          return false;
        }
      });
      if (!token) throw Object.assign(new Error(`task "${task.name}" waits for a task token but its parameters carry none`), { name: 'States.Runtime' });
      scope.record({ type: 'TaskScheduled', timestamp: Date.now(), state: { name: task.name, type: 'Task' }, resource: task.resource, parameters: input });
      await call(input);
      const answer = this.taskTokens.wait(token, task.name);
      const timeoutMs = this.callbackTimeoutMs;
      if (timeoutMs === undefined) return answer;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('the task timed out waiting for its task token'), { name: 'States.Timeout' })), timeoutMs);
      });
      try {
        return await Promise.race([answer, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    };
  }

  private invokeLambda(task: TaskState): TaskImplementation {
    const functionArn = String(task.parameters.FunctionName);
    const fn = this.functions.get(functionArn);
    if (!fn) throw new Error(`task "${task.name}" invokes ${functionArn}, which is not a certflow function of this template`);
    return async (input) => {
      const { Payload } = input as { Payload?: unknown };
      try {
        const result = await fn.handler(Payload ?? {});
        return { Payload: result ?? null, StatusCode: 200, ExecutedVersion: '$LATEST' };
      } catch (error) {
        // As Lambda reports it: Error is the error's name, Cause the JSON of {errorType, errorMessage}.
        const failure = error as Error;
        const reported = new Error(JSON.stringify({ errorType: failure.name, errorMessage: failure.message, trace: [] }));
        reported.name = failure.name;
        throw reported;
      }
    };
  }

  /**
   * `states:startExecution.sync:2`: a child execution of one of this template's state machines, run
   * here by this runner, with the result Step Functions gives: the child's DescribeExecution answer
   * with its output parsed (`Output`). IAM decides first, for the parent's role, what AWS requires of
   * it: states:StartExecution on the child state machine, states:DescribeExecution (the wait) on the
   * child execution, and events:PutTargets, PutRule and DescribeRule on the managed rule that tells
   * Step Functions the child ended. A denial fails the task (`StepFunctions.AccessDeniedException`);
   * a child that does not succeed fails it with States.TaskFailed and the child's DescribeExecution
   * answer as the cause, as on AWS.
   */
  private startExecutionSync(task: TaskState, scope: TaskScope): TaskImplementation {
    return async (input) => {
      const request = (input ?? {}) as { StateMachineArn?: unknown; Input?: unknown; Name?: unknown };
      const stateMachineArn = String(request.StateMachineArn ?? '');
      const prefix = `arn:aws:states:${this.options.region}:${this.options.accountId}:stateMachine:`;
      const child = stateMachineArn.startsWith(prefix) ? stateMachineArn.slice(prefix.length) : '';
      if (!this.stateMachines().includes(child)) {
        throw Object.assign(new Error(`task "${task.name}" starts ${stateMachineArn}, which is not a state machine of this template`), { name: 'StepFunctions.StateMachineDoesNotExistException' });
      }
      const name = typeof request.Name === 'string' ? request.Name : randomUUID();
      const childInput = typeof request.Input === 'string' ? (JSON.parse(request.Input) as unknown) : (request.Input ?? {});
      const executionArn = `arn:aws:states:${this.options.region}:${this.options.accountId}:execution:${child}:${name}`;
      const rule = `arn:aws:events:${this.options.region}:${this.options.accountId}:rule/${SYNC_EXECUTION_RULE}`;
      if (this.authorizer && scope.roleArn) {
        const accessKeyId = credentialsForRole(scope.roleArn).accessKeyId;
        const required = [
          { action: 'states:StartExecution', resource: stateMachineArn },
          { action: 'states:DescribeExecution', resource: executionArn },
          ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((action) => ({ action, resource: rule })),
        ];
        try {
          for (const call of required) await this.authorizer(accessKeyId, call);
        } catch (error) {
          throw Object.assign(new Error((error as Error).message), { name: 'StepFunctions.AccessDeniedException' });
        }
      }
      let stop: (() => void) | undefined;
      const stopChild = () => stop?.();
      scope.runningChildren.add(stopChild);
      let execution: LocalExecution;
      try {
        execution = await this.run(child, childInput, { name, onStart: (abort) => (stop = abort) });
      } finally {
        scope.runningChildren.delete(stopChild);
      }
      scope.children.push(execution);
      const described = {
        ExecutionArn: execution.executionArn,
        StateMachineArn: stateMachineArn,
        Name: execution.name,
        Status: execution.status,
        StartDate: execution.startedAt.getTime(),
        StopDate: execution.stoppedAt.getTime(),
        Input: JSON.stringify(childInput),
        InputDetails: { Included: true },
      };
      if (execution.status === 'SUCCEEDED') return { ...described, Output: execution.output ?? null, OutputDetails: { Included: true } };
      const cause = { ...described, ...(execution.error === undefined ? {} : { Error: execution.error }), ...(execution.cause === undefined ? {} : { Cause: execution.cause }) };
      throw Object.assign(new Error(JSON.stringify(cause)), { name: 'States.TaskFailed' });
    };
  }

  private putEvents(eventBridge: EventBridgeClient): TaskImplementation {
    return async (input) => {
      const { Entries } = input as { Entries: Array<Record<string, unknown>> };
      // Step Functions serializes an object Detail to a JSON string before calling EventBridge.
      const entries: PutEventsRequestEntry[] = Entries.map((entry) => ({
        ...entry,
        Detail: typeof entry.Detail === 'string' ? entry.Detail : JSON.stringify(entry.Detail),
      })) as PutEventsRequestEntry[];
      const result = await eventBridge.send(new PutEventsCommand({ Entries: entries }));
      return { Entries: result.Entries, FailedEntryCount: result.FailedEntryCount };
    };
  }

  private dynamoDb(operation: 'putItem' | 'getItem' | 'updateItem' | 'deleteItem', dynamoDb: DynamoDBClient): TaskImplementation {
    const commands = {
      putItem: (input: never) => new PutItemCommand(input),
      getItem: (input: never) => new GetItemCommand(input),
      updateItem: (input: never) => new UpdateItemCommand(input),
      deleteItem: (input: never) => new DeleteItemCommand(input),
    };
    return async (input) => {
      try {
        const command = commands[operation](input as never);
        const output = (await dynamoDb.send(command as PutItemCommand)) as unknown as Record<string, unknown>;
        const { $metadata: _metadata, ...result } = output;
        return result;
      } catch (error) {
        // Step Functions names SDK-integration errors `<Service>.<Exception>`.
        const failure = error as Error;
        const reported = new Error(failure.message);
        reported.name = `DynamoDB.${failure.name}`;
        throw reported;
      }
    };
  }
}

/** Every string in a task's resolved parameters (where its token is). */
function tokensIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(tokensIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(tokensIn);
  return [];
}
