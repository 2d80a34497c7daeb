import { ExpiryIssuersInputSchema, type ExpiryIssuersOutput } from '../contracts/expiry';
import { PkiEnvSchema, type Env } from '../contracts/env';
import { systemClock } from '../ports/clock';
import { createTelemetry } from '../adapters/aws/telemetry';
import { buildPkiAdapters } from '../adapters/pki-wiring';
import { resolveRunTimeValues } from '../adapters/run-time-values';
import { sweepIssuers } from '../steps/expiry-issuers';
import { logFailure, onceAsync, parseEnv, parseEvent, reportX509Parses, type HandlerOptions, type LambdaHandler } from './kit/handler-kit';

/** ExpiryIssuers: every issuer of the root and intermediate mounts, with its validity. */
export function makeHandler(env: Env, options: HandlerOptions = {}): LambdaHandler<ExpiryIssuersOutput> {
  const runtime = onceAsync(async () => {
    const resolved = await resolveRunTimeValues(env);
    const telemetry = createTelemetry({ functionName: 'ExpiryIssuers', ...options });
    return { telemetry, pki: buildPkiAdapters(parseEnv(PkiEnvSchema, resolved), resolved, systemClock, telemetry.logger) };
  });
  return async (event) => {
    const input = parseEvent(ExpiryIssuersInputSchema, event, 'ExpiryIssuers input');
    const built = await runtime();
    const log = built.telemetry.forRun(input.runId);
    try {
      const { settings } = built.pki;
      return { issuers: await sweepIssuers(built.pki.pki, { root: settings.rootMount, intermediate: settings.intermediateMount }, log) };
    } catch (error) {
      logFailure(log, error);
    } finally {
      reportX509Parses(built.telemetry.metrics, 'ExpiryIssuers');
    }
  };
}

export const handler = makeHandler(process.env);
