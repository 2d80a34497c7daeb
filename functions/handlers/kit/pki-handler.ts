import type * as z from 'zod';
import { PkiEnvSchema, type Env } from '../../contracts/env';
import { systemClock } from '../../ports/clock';
import { createTelemetry } from '../../adapters/aws/telemetry';
import { buildPkiAdapters } from '../../adapters/pki-wiring';
import { resolveRunTimeValues } from '../../adapters/run-time-values';
import type { PkiStepDeps } from '../../steps/prepare-intermediate';
import { logFailure, once, onceAsync, reportX509Parses, parseEnv, parseEvent, type HandlerOptions, type LambdaHandler } from './handler-kit';

/**
 * The shape every PKI step handler shares: parse the event at the edge, build the Vault client
 * and its login once per cold start, give the step a run-scoped logger, rethrow typed errors.
 */
export function pkiHandler<S extends z.ZodType<{ runId: string }>, TOut>(
  functionName: string,
  schema: S,
  step: (deps: PkiStepDeps, input: z.infer<S>) => Promise<TOut>,
) {
  return (env: Env, options: HandlerOptions = {}): LambdaHandler<TOut> => {
    const runtime = onceAsync(async () => {
      const resolved = await resolveRunTimeValues(env);
      const pkiEnv = parseEnv(PkiEnvSchema, resolved);
      const telemetry = createTelemetry({ functionName, ...options });
      return { telemetry, adapters: buildPkiAdapters(pkiEnv, resolved, systemClock, telemetry.logger) };
    });
    return async (event) => {
      const input = parseEvent(schema, event, `${functionName} input`);
      const { telemetry, adapters } = await runtime();
      const log = telemetry.forRun(input.runId);
      try {
        return await step({ pki: adapters.pki, settings: adapters.settings, clock: systemClock, log }, input);
      } catch (error) {
        logFailure(log, error);
      } finally {
        reportX509Parses(telemetry.metrics, functionName);
      }
    };
  };
}
