import * as z from 'zod';
import type { Env } from '../contracts/env';
import { PreemptEnvNames } from '../contracts/functions';
import { PreemptEnvSchema, type PreemptEnv } from '../contracts/preempt-env-schema';
import { RotationEnvNames } from '../contracts/rotation-env';
import { RunIdSchema } from '../contracts/unseal-payloads';
import { systemClock, type Clock } from '../ports/clock';
import type { Executions } from '../ports/executions';
import { dynamoDbClientFromEnv } from '../adapters/aws/dynamodb-client';
import { DynamoDbLedger } from '../adapters/aws/dynamodb-ledger';
import { DisabledExecutions, SfnExecutions, sfnClientFromEnv } from '../adapters/aws/sfn-executions';
import { createTelemetry } from '../adapters/aws/telemetry';
import { preemptRotation, type PreemptRotationOutput } from '../steps/preempt-rotation';
import { logFailure, once, parseEnv, parseEvent, type HandlerOptions, type LambdaHandler } from './kit/handler-kit';

const InputSchema = z.object({ runId: RunIdSchema });

/**
 * Which Executions this cold start talks to: the Step Functions API for the Rotation ARN the
 * stack sets on this function, or, with CERTFLOW_SFN_DISABLED=true, one whose every call fails,
 * retryable (never a silent skip). There is deliberately no "no endpoint, so nothing to stop"
 * branch: guessing the environment fails open, and the sandbox serves the Step Functions API.
 */
function buildExecutions(env: Env, parsed: PreemptEnv): Executions {
  if (parsed[PreemptEnvNames.SfnDisabled] === 'true') return new DisabledExecutions();
  return new SfnExecutions(sfnClientFromEnv(env), parsed[PreemptEnvNames.RotationStateMachineArn]);
}

/** PreemptRotation: `{runId}` -> `{stopped: [executionArn]}`: every running Rotation stopped and recorded in the ledger. */
export function makeHandler(env: Env, options: HandlerOptions = {}, clock: Clock = systemClock): LambdaHandler<PreemptRotationOutput> {
  const runtime = once(() => {
    const parsed = parseEnv(PreemptEnvSchema, env);
    const telemetry = createTelemetry({ functionName: 'PreemptRotation', ...options });
    return {
      telemetry,
      executions: buildExecutions(env, parsed),
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
