import { ReportUnsealInputSchema, type ReportUnsealOutput } from '../contracts/unseal-payloads';
import { EnvNames, UnsealEnvSchema, type Env } from '../contracts/env';
import { reportUnseal } from '../steps/report-unseal';
import { createTelemetry } from '../adapters/aws/telemetry';
import { vaultNodeClients } from '../adapters/vault/vault-node-clients';
import { resolveRunTimeValues } from '../adapters/run-time-values';
import { logFailure, onceAsync, parseEnv, parseEvent, type HandlerOptions, type LambdaHandler } from './kit/handler-kit';

/** UnsealReport: the Map's results -> re-read every node, gauge VaultSealed, build the event. */
export function makeHandler(env: Env, options: HandlerOptions = {}): LambdaHandler<ReportUnsealOutput> {
  const runtime = onceAsync(async () => {
    const unsealEnv = parseEnv(UnsealEnvSchema, await resolveRunTimeValues(env));
    return {
      unsealEnv,
      vaultFor: vaultNodeClients(unsealEnv),
      telemetry: createTelemetry({ functionName: 'UnsealReport', ...options }),
    };
  });
  return async (event) => {
    const input = parseEvent(ReportUnsealInputSchema, event, 'UnsealReport input');
    const { unsealEnv, vaultFor, telemetry } = await runtime();
    const log = telemetry.forRun(input.runId);
    try {
      return await reportUnseal(
        { clusterId: unsealEnv[EnvNames.VaultClusterId], vaultFor, metrics: telemetry.metrics, log },
        input,
      );
    } catch (error) {
      logFailure(log, error);
    }
  };
}

export const handler = makeHandler(process.env);
