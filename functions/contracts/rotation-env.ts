import { EnvNames } from './env';

/**
 * Environment variable names of the rotation functions (FunctionRegistry capability 'rotation'),
 * on top of the unseal environment (UnsealEnvSchema: Preflight may unseal) and the PKI
 * environment (PkiEnvSchema). lib/certflow-stack.ts sets them; the handlers read them once per
 * cold start. Values are names and addresses only: no token or key ever travels here.
 */
export const RotationEnvNames = {
  /** DynamoDB table of the rotation lock, the ledger of runs and each run's batches. */
  LedgerTable: EnvNames.LedgerTable,
  /** The certflow EventBridge bus name. */
  EventBus: EnvNames.EventBus,
  /** JSON array of the deployment's Kubernetes clusters (contracts/clusters.ts ClusterSpec). */
  Clusters: 'CERTFLOW_CLUSTERS',
  /** Name of the ConfigMap that carries each namespace's trust bundle. */
  TrustBundleConfigMap: 'CERTFLOW_TRUST_BUNDLE_CONFIGMAP',
  /** Targets of one batch handled at once (config.policy.targetConcurrency), as a decimal string. */
  TargetConcurrency: 'CERTFLOW_TARGET_CONCURRENCY',
  /** One batch's share of the storm budgets (contracts/storm-control.ts), as JSON. */
  StormControl: 'CERTFLOW_STORM_CONTROL',
  /** Targets per batch (config.policy.batchSize), as a decimal string. */
  BatchSize: 'CERTFLOW_BATCH_SIZE',
  /** certflow's own namespace (config.kubernetes.namespace): its trust bundle is read at preflight. */
  Namespace: 'CERTFLOW_NAMESPACE',
  /** JSON of the declared target policy (contracts/target-policy.ts): the only targets a step may act on. */
  TargetPolicy: 'CERTFLOW_TARGET_POLICY',
  /** How many times the wait loop looks at a batch before RolloutTimeoutError (config.policy.maxRolloutChecks). */
  MaxRolloutChecks: 'CERTFLOW_MAX_ROLLOUT_CHECKS',
} as const;
