import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Env } from '../../contracts/env';
import { AwsUnavailableError } from '../../contracts/errors';
import type { Executions } from '../../ports/executions';
import { awsClientConfigFromEnv, type AwsClientOptions } from './client-config';
import { awsCallError } from './aws-call-error';
import { sdkErrorFacts } from './sdk-error';

export const SfnEndpointEnvName = 'AWS_ENDPOINT_URL_SFN';

/** The Step Functions client for one cold start; AWS_ENDPOINT_URL_SFN points it at the sandbox. */
export function sfnClientFromEnv(env: Env, options?: AwsClientOptions): SFNClient {
  return new SFNClient(awsClientConfigFromEnv(env, SfnEndpointEnvName, options));
}

/**
 * Executions over the Step Functions API. A transient failure (no answer, 5xx, throttling)
 * becomes AwsUnavailableError, which the state machine retries; a refusal (IAM, a wrong ARN,
 * no credentials) becomes ConfigError, which it does not (awsCallError).
 */
export class SfnExecutions implements Executions {
  /**
   * @param client built once per cold start (sfnClientFromEnv) and injected.
   * @param stateMachineArn the Rotation state machine.
   */
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async listRunning(): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client
        .send(new ListExecutionsCommand({ stateMachineArn: this.stateMachineArn, statusFilter: 'RUNNING', ...(nextToken ? { nextToken } : {}) }))
        .catch((error: unknown) => this.fail('ListExecutions', error));
      arns.push(...(page.executions ?? []).flatMap((execution) => (execution.executionArn ? [execution.executionArn] : [])));
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  async stop(executionArn: string, cause: string): Promise<void> {
    await this.client.send(new StopExecutionCommand({ executionArn, cause })).catch((error: unknown) => {
      // It ended (or was stopped by an earlier attempt of this call) between the list and the stop.
      if (sdkErrorFacts(error).name === 'ExecutionDoesNotExist') return;
      this.fail('StopExecution', error);
    });
  }

  private fail(operation: string, error: unknown): never {
    throw awsCallError(`Step Functions ${operation}`, error, { stateMachineArn: this.stateMachineArn });
  }
}

/**
 * Step Functions switched off (CERTFLOW_SFN_DISABLED=true): every call fails with a retryable
 * AwsUnavailableError. The response must not go on as if nothing ran: a rotation it did not
 * stop would keep writing while the response reissues.
 */
export class DisabledExecutions implements Executions {
  listRunning(): Promise<string[]> {
    return Promise.reject(this.error());
  }
  stop(): Promise<void> {
    return Promise.reject(this.error());
  }
  private error(): AwsUnavailableError {
    return new AwsUnavailableError('Step Functions is disabled (CERTFLOW_SFN_DISABLED=true): cannot preempt a running rotation', { details: { reason: 'SfnDisabled' } });
  }
}
