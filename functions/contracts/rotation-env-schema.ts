import * as z from 'zod';
import { jsonText } from './json-text';
import { ClusterSpecListSchema } from './clusters';
import { RotationEnvNames } from './rotation-env';
import { TargetPolicySchema } from './target-policy';
import { StormControlSchema } from './storm-control';

/** What the rotation functions need besides the unseal and PKI environments. */
export const RotationEnvSchema = z.object({
  [RotationEnvNames.LedgerTable]: z.string().min(1),
  [RotationEnvNames.Clusters]: jsonText(ClusterSpecListSchema),
  [RotationEnvNames.TrustBundleConfigMap]: z.string().min(1),
  [RotationEnvNames.BatchSize]: z.coerce.number().int().min(1).max(500).default(25),
  [RotationEnvNames.TargetConcurrency]: z.coerce.number().int().min(1).max(64).default(8),
  [RotationEnvNames.StormControl]: jsonText(StormControlSchema).default({ renewalJitter: 0 }),
  [RotationEnvNames.Namespace]: z.string().min(1),
  [RotationEnvNames.TargetPolicy]: jsonText(TargetPolicySchema),
  /** How many times the wait loop looks at a batch before RolloutTimeoutError (5 s apart in AWS: 10 minutes). */
  [RotationEnvNames.MaxRolloutChecks]: z.coerce.number().int().min(1).max(10_000).default(120),
});
export type RotationEnv = z.infer<typeof RotationEnvSchema>;

/** What ExpiryTargets reads: the clusters and the declared targets, nothing that writes. */
export const ExpiryTargetsEnvSchema = RotationEnvSchema.pick({
  [RotationEnvNames.Clusters]: true,
  [RotationEnvNames.TargetPolicy]: true,
  [RotationEnvNames.TargetConcurrency]: true,
});
