import { startAwsJsonServer, type CallAuthorization, type CallRecord } from '../aws-json/aws-json-server';
import type { FaultControls } from '../aws-json/fault-plan';
import type { LocalRunner } from '../runner/local-runner';
import { StepFunctionsExecutions, stepFunctionsOperations, type StepFunctionsOperationName } from './stepfunctions-operations';

export interface StepFunctionsEmulatorOptions {
  /** Runs the executions: the template's state machines, over the sandbox. */
  runner: LocalRunner;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (OS-assigned) */
  port?: number;
}

export interface StepFunctionsEmulatorHandle {
  /** `http://127.0.0.1:<port>`: pass as the SFNClient `endpoint` (or AWS_ENDPOINT_URL_SFN). */
  endpoint: string;
  region: string;
  /** `arn:aws:states:<region>:<account>:stateMachine:<logicalId>`. */
  arnOf(stateMachineLogicalId: string): string;
  /** Every state machine of the template, by logical id. */
  stateMachineArns(): Record<string, string>;
  /** Starts an execution without an HTTP round trip (EventBridge rule targets); returns its ARN. */
  startExecution(stateMachineArn: string, input: string, name?: string): string;
  /** Resolves when every execution started so far has ended. */
  settled(): Promise<void>;
  faults: FaultControls<StepFunctionsOperationName>;
  calls(): CallRecord[];
  /** Aborts running executions and closes the server. */
  close(): Promise<void>;
}

/**
 * The IAM decision of a Step Functions call: its action on the state machine or execution it
 * names; a task token's answer (SendTask*) on the state machine whose execution waits for it.
 */
function stepFunctionsAuthorizations(runner: LocalRunner, region: string, accountId: string) {
  return (operation: string, input: unknown): CallAuthorization[] => {
    const request = (input ?? {}) as { stateMachineArn?: unknown; executionArn?: unknown; taskToken?: unknown };
    if (typeof request.taskToken === 'string') {
      let resource = '*';
      try {
        const stateMachine = runner.taskTokens.taskOf(request.taskToken).executionArn.split(':')[6];
        resource = `arn:aws:states:${region}:${accountId}:stateMachine:${stateMachine}`;
      } catch {
        // An unknown token: IAM decides on "*", and the operation answers InvalidToken.
      }
      return [{ action: `states:${operation}`, resource }];
    }
    const resource = typeof request.executionArn === 'string' ? request.executionArn : typeof request.stateMachineArn === 'string' ? request.stateMachineArn : '*';
    return [{ action: `states:${operation}`, resource }];
  };
}

/**
 * Starts an AWS Step Functions API on loopback (AWS JSON 1.0, `X-Amz-Target:
 * AWSStepFunctions.<Operation>`) whose executions are the template's state machines run by the
 * LocalRunner, so `certflow rotate|status` and @aws-sdk/client-sfn work against the sandbox
 * exactly as against AWS.
 */
export async function startStepFunctionsEmulator(options: StepFunctionsEmulatorOptions): Promise<StepFunctionsEmulatorHandle> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const executions = new StepFunctionsExecutions(options.runner, region, accountId);
  const server = await startAwsJsonServer(
    { targetPrefix: 'AWSStepFunctions', internalException: 'InternalServerError', operations: stepFunctionsOperations(executions, options.runner), authorizations: stepFunctionsAuthorizations(options.runner, region, accountId) },
    { host: options.host, port: options.port },
  );
  // The runner's sandbox decides who may start, read and stop executions, as it decides every AWS call.
  server.setAuthorizer(options.runner.authorizer);
  return {
    endpoint: server.endpoint,
    region,
    arnOf: (logicalId) => executions.arnOf(logicalId),
    stateMachineArns: () => Object.fromEntries(options.runner.stateMachines().map((logicalId) => [logicalId, executions.arnOf(logicalId)])),
    startExecution: (arn, input, name) => executions.start(arn, input, name).executionArn,
    settled: () => executions.settled(),
    faults: server.faults,
    calls: server.calls,
    async close() {
      executions.abortAll();
      await server.close();
      await executions.settled();
    },
  };
}
