import { ExpiryEnvNames, ExpiryReportEnvSchema, ExpiryReportInputSchema, type ExpiryReportOutput } from '../contracts/expiry';
import { EnvNames, type Env } from '../contracts/env';
import { systemClock } from '../ports/clock';
import { createTelemetry } from '../adapters/aws/telemetry';
import { resolveRunTimeValues } from '../adapters/run-time-values';
import { reportExpiry } from '../steps/expiry-report';
import { logFailure, onceAsync, parseEnv, parseEvent, type HandlerOptions, type LambdaHandler } from './kit/handler-kit';

/** ExpiryReport: what the sweep saw -> gauges, `Certificate Expiring` events, alarm thresholds met. */
export function makeHandler(env: Env, options: HandlerOptions = {}): LambdaHandler<ExpiryReportOutput> {
  const runtime = onceAsync(async () => {
    const parsed = parseEnv(ExpiryReportEnvSchema, await resolveRunTimeValues(env));
    return {
      clusterId: parsed[EnvNames.VaultClusterId],
      thresholds: { leafDays: parsed[ExpiryEnvNames.LeafAlarmDays], caDays: parsed[ExpiryEnvNames.CaAlarmDays] },
      telemetry: createTelemetry({ functionName: 'ExpiryReport', ...options }),
    };
  });
  return async (event) => {
    const input = parseEvent(ExpiryReportInputSchema, event, 'ExpiryReport input');
    const built = await runtime();
    const log = built.telemetry.forRun(input.runId);
    try {
      return reportExpiry({ clusterId: built.clusterId, thresholds: built.thresholds, metrics: built.telemetry.metrics, clock: systemClock, log }, input);
    } catch (error) {
      logFailure(log, error);
    }
  };
}

export const handler = makeHandler(process.env);
