import * as z from 'zod';
import { EnvNames, type Env } from '../contracts/env';
import { createTelemetry } from '../adapters/aws/telemetry';
import { dynamoDbClientFromEnv } from '../adapters/aws/dynamodb-client';
import { DynamoDbRotationLock } from '../adapters/aws/dynamodb-rotation-lock';
import { logFailure, once, parseEnv, parseEvent, type HandlerOptions, type LambdaHandler } from './kit/handler-kit';

/** The Step Functions status-change event (EventBridge), as much of it as this function reads. */
const StatusChangeSchema = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({ executionArn: z.string().min(1), name: z.string().min(1), status: z.enum(['ABORTED', 'TIMED_OUT', 'FAILED', 'SUCCEEDED', 'RUNNING']) }),
});
const EnvSchema = z.object({ [EnvNames.LedgerTable]: z.string().min(1) });

/**
 * ReleaseStaleLock: an aborted or timed-out execution never reaches its ReleaseLock state, so a
 * rule on the status-change event calls this. It deletes the lock only if that execution holds it,
 * and the scope claims of a compromise report that was waiting for approval (PendingScopeClaim).
 */
export function makeHandler(env: Env, options: HandlerOptions = {}): LambdaHandler<{ released: boolean; executionArn: string }> {
  const runtime = once(() => {
    const parsed = parseEnv(EnvSchema, env);
    return { telemetry: createTelemetry({ functionName: 'ReleaseStaleLock', ...options }), lock: new DynamoDbRotationLock(dynamoDbClientFromEnv(env), parsed[EnvNames.LedgerTable]) };
  });
  return async (event) => {
    const input = parseEvent(StatusChangeSchema, event, 'ReleaseStaleLock event');
    const { telemetry, lock } = runtime();
    const log = telemetry.forRun(input.detail.name);
    try {
      if (input.detail.status !== 'ABORTED' && input.detail.status !== 'TIMED_OUT') return { released: false, executionArn: input.detail.executionArn };
      const released = await lock.releaseIfOwnedBy(input.detail.executionArn);
      log.info(released ? 'stale rotation lock released' : 'the execution did not hold the lock', { status: input.detail.status });
      // A compromise report aborted while it waited for approval still claims its scope.
      const claims = await lock.releasePendingClaimsOf(input.detail.executionArn);
      if (claims.length > 0) log.info('stale pending scope claims released', { scopes: claims.length });
      return { released, executionArn: input.detail.executionArn };
    } catch (error) {
      logFailure(log, error);
    }
  };
}

export const handler = makeHandler(process.env);
