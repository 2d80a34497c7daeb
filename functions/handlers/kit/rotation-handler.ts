import type * as z from 'zod';
import type { Env } from '../../contracts/env';
import { systemClock } from '../../ports/clock';
import type { Log } from '../../ports/log';
import { createTelemetry } from '../../adapters/aws/telemetry';
import { buildRotationRuntime } from '../../adapters/rotation-wiring';
import { resolveRunTimeValues } from '../../adapters/run-time-values';
import type { RotationRuntime } from '../../steps/rotation-deps';
import { logFailure, once, onceAsync, reportX509Parses, parseEvent, type HandlerOptions, type LambdaHandler } from './handler-kit';

/**
 * The shape every rotation task handler shares: parse the event at the edge, build the runtime
 * (Vault, KMS, DynamoDB, clusters) once per cold start, log with the run id, rethrow typed errors.
 */
export function rotationHandler<S extends z.ZodType, TOut>(
  functionName: string,
  schema: S,
  runIdOf: (input: z.infer<S>) => string,
  step: (runtime: RotationRuntime, input: z.infer<S>, log: Log) => Promise<TOut>,
) {
  return (env: Env, options: HandlerOptions = {}): LambdaHandler<TOut> => {
    const runtime = onceAsync(async () => {
      const telemetry = createTelemetry({ functionName, ...options });
      return { telemetry, runtime: buildRotationRuntime(await resolveRunTimeValues(env), systemClock, telemetry.logger, telemetry.metrics) };
    });
    return async (event) => {
      const input = parseEvent(schema, event, `${functionName} input`);
      const built = await runtime();
      const log = built.telemetry.forRun(runIdOf(input));
      try {
        return await step(built.runtime, input, log);
      } catch (error) {
        logFailure(log, error);
      } finally {
        reportX509Parses(built.telemetry.metrics, functionName);
      }
    };
  };
}
