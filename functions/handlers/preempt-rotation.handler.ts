import * as z from 'zod';
import type { Env } from '../contracts/env';
import { PreemptEnvNames } from '../contracts/functions';
import { RotationEnvNames } from '../contracts/rotation-env';
import { RunIdSchema } from '../contracts/unseal-payloads';
import { systemClock, type Clock } from '../ports/clock';
import type { Executions } from '../ports/executions';
import type { Log } from '../ports/log';
import { AwsEnvNames } from '../adapters/aws/client-config';
import { dynamoDbClientFromEnv } from '../adapters/aws/dynamodb-client';
import { DynamoDbLedger } from '../adapters/aws/dynamodb-ledger';
import { DisabledExecutions, SandboxWithoutExecutions, SfnEndpointEnvName, SfnExecutions, sfnClientFromEnv } from '../adapters/aws/sfn-executions';
import { createTelemetry } from '../adapters/aws/telemetry';
import { preemptRotation, type PreemptRotationOutput } from '../steps/preempt-rotation';
import { logFailure, once, parseEnv, parseEvent, type HandlerOptions, type LambdaHandler } from './kit/handler-kit';

const InputSchema = z.object({ runId: RunIdSchema });
const EnvSchema = z.object({
  [RotationEnvNames.LedgerTable]: z.string().min(1),
  [PreemptEnvNames.SfnDisabled]: z.enum(['true', 'false']).optional(),
  [PreemptEnvNames.RotationStateMachineArn]: z.string().regex(/^arn:aws[a-z-]*:states:[^:]*:[0-9]*:stateMachine:.+$/, 'a state machine ARN').optional(),
});
const SandboxKmsEndpointEnvName = 'AWS_ENDPOINT_URL_KMS';

/**
 * Which Executions this cold start talks to. In order:
 * 1. CERTFLOW_SFN_DISABLED=true: every call fails, retryable (never a silent skip).
 * 2. No Step Functions endpoint while KMS has one: a sandbox without a Step Functions API, whose
 *    local runner has no other execution to stop; logged.
 * 3. Otherwise the Step Functions API, for the Rotation ARN the stack sets on this function only.
 */
function buildExecutions(env: Env, parsed: z.infer<typeof EnvSchema>, log: Log): Executions {
  if (parsed[PreemptEnvNames.SfnDisabled] === 'true') return new DisabledExecutions();
  const sfnEndpoint = env[SfnEndpointEnvName] || env[AwsEnvNames.EndpointUrl];
  if (!sfnEndpoint && env[SandboxKmsEndpointEnvName]) return new SandboxWithoutExecutions(log);
  const stateMachineArn = parseEnv(EnvSchema.required({ [PreemptEnvNames.RotationStateMachineArn]: true }), env)[PreemptEnvNames.RotationStateMachineArn];
  return new SfnExecutions(sfnClientFromEnv(env), stateMachineArn);
}

/** PreemptRotation: `{runId}` -> `{stopped: [executionArn]}`: every running Rotation stopped and recorded in the ledger. */
export function makeHandler(env: Env, options: HandlerOptions = {}, clock: Clock = systemClock): LambdaHandler<PreemptRotationOutput> {
  const runtime = once(() => {
    const parsed = parseEnv(EnvSchema, env);
    const telemetry = createTelemetry({ functionName: 'PreemptRotation', ...options });
    return {
      telemetry,
      executions: buildExecutions(env, parsed, telemetry.logger),
      ledger: new DynamoDbLedger(dynamoDbClientFromEnv(env), parsed[RotationEnvNames.LedgerTable]),
    };
  });
  return async (event) => {
    const input = parseEvent(InputSchema, event, 'PreemptRotation input');
    const { telemetry, executions, ledger } = runtime();
    const log = telemetry.forRun(input.runId);
    try {
      return await preemptRotation({ executions, ledger, clock }, input, log);
    } catch (error) {
      logFailure(log, error);
    }
  };
}

export const handler = makeHandler(process.env);
