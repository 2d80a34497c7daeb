import { EnvNames, PkiEnvSchema, UnsealEnvSchema, type Env } from '../contracts/env';
import { RotationEnvSchema } from '../contracts/rotation-env-schema';
import { RotationEnvNames } from '../contracts/rotation-env';
import type { Clock } from '../ports/clock';
import type { Log } from '../ports/log';
import type { MetricsSink } from '../ports/metrics-sink';
import type { RotationRuntime } from '../steps/rotation-deps';
import { parseEnvironment } from './parse-environment';
import { buildUnsealAdapters } from './unseal-wiring';
import { vaultNodesSource } from './vault-node-discovery';
import { buildFanoutAdapters } from './fanout-wiring';
import { DynamoDbLedger } from './aws/dynamodb-ledger';
import { dynamoDbClientFromEnv } from './aws/dynamodb-client';

export type { RotationRuntime };

export function buildRotationRuntime(env: Env, clock: Clock, log: Log, metrics: MetricsSink): RotationRuntime {
  const unsealEnv = parseEnvironment(UnsealEnvSchema, env);
  const pkiEnv = parseEnvironment(PkiEnvSchema, env);
  const rotationEnv = parseEnvironment(RotationEnvSchema, env);
  return {
    clusterId: unsealEnv[EnvNames.VaultClusterId],
    unseal: buildUnsealAdapters(unsealEnv, env),
    vaultNodes: vaultNodesSource(unsealEnv, env, () => log),
    fanout: {
      ...buildFanoutAdapters({
        pkiEnv,
        clusters: rotationEnv[RotationEnvNames.Clusters],
        trustBundleConfigMap: rotationEnv[RotationEnvNames.TrustBundleConfigMap],
        env,
        clock,
        log,
        metrics,
        clusterId: unsealEnv[EnvNames.VaultClusterId],
      }),
      targetConcurrency: rotationEnv[RotationEnvNames.TargetConcurrency],
      storm: rotationEnv[RotationEnvNames.StormControl],
    },
    ledger: new DynamoDbLedger(dynamoDbClientFromEnv(env), rotationEnv[RotationEnvNames.LedgerTable]),
    batchSize: rotationEnv[RotationEnvNames.BatchSize],
    namespace: rotationEnv[RotationEnvNames.Namespace],
    policy: rotationEnv[RotationEnvNames.TargetPolicy],
    maxRolloutChecks: rotationEnv[RotationEnvNames.MaxRolloutChecks],
  };
}
