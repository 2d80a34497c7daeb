import { ExpiryTargetsInputSchema, type ExpiryTargetsOutput } from '../contracts/expiry';
import { PkiEnvNames, type Env } from '../contracts/env';
import { InvalidInputError } from '../contracts/errors';
import { RotationEnvNames } from '../contracts/rotation-env';
import { ExpiryTargetsEnvSchema } from '../contracts/rotation-env-schema';
import { systemClock } from '../ports/clock';
import { createTelemetry } from '../adapters/aws/telemetry';
import { clusterFromSpec } from '../adapters/kubernetes/kube-auth';
import { NodeTlsProbe } from '../adapters/tls/node-tls-probe';
import { resolveRunTimeValues } from '../adapters/run-time-values';
import { discoverTargets } from '../steps/discover-targets';
import { sweepTargets } from '../steps/expiry-targets';
import { logFailure, onceAsync, parseEnv, parseEvent, reportX509Parses, type HandlerOptions, type LambdaHandler } from './kit/handler-kit';

/** ExpiryTargets: the declared targets (and admitted mesh CAs) -> what each stores and serves. */
export function makeHandler(env: Env, options: HandlerOptions = {}): LambdaHandler<ExpiryTargetsOutput> {
  const runtime = onceAsync(async () => {
    const resolved = await resolveRunTimeValues(env);
    const parsed = parseEnv(ExpiryTargetsEnvSchema, resolved);
    const clusters = parsed[RotationEnvNames.Clusters].map((spec) => clusterFromSpec(spec, { env: resolved, clock: systemClock }));
    const byName = new Map(clusters.map((cluster) => [cluster.name, cluster]));
    return {
      clusters,
      cluster(name: string) {
        const cluster = byName.get(name);
        if (!cluster) throw new InvalidInputError(`target names cluster ${name}, which is not configured`);
        return cluster;
      },
      policy: parsed[RotationEnvNames.TargetPolicy],
      targetConcurrency: parsed[RotationEnvNames.TargetConcurrency],
      keyAlgorithm: resolved[PkiEnvNames.KeyAlgorithm] === 'rsa-2048' ? ('rsa-2048' as const) : ('ecdsa-p256' as const),
      probe: new NodeTlsProbe(),
      telemetry: createTelemetry({ functionName: 'ExpiryTargets', ...options }),
    };
  });
  return async (event) => {
    const input = parseEvent(ExpiryTargetsInputSchema, event, 'ExpiryTargets input');
    const built = await runtime();
    const log = built.telemetry.forRun(input.runId);
    try {
      // The same targets a rotation would act on: declared services, and mesh CAs the policy admits.
      const { targets } = await discoverTargets(built.clusters, built.policy, built.keyAlgorithm, log);
      return { targets: await sweepTargets({ cluster: built.cluster, probe: built.probe, log, targetConcurrency: built.targetConcurrency }, targets) };
    } catch (error) {
      logFailure(log, error);
    } finally {
      reportX509Parses(built.telemetry.metrics, 'ExpiryTargets');
    }
  };
}

export const handler = makeHandler(process.env);
