import * as z from 'zod';
import { ClusterSpecListSchema } from './clusters';
import { RotationEnvNames } from './rotation-env';
import { TargetPolicySchema } from './target-policy';
import { StormControlSchema } from './storm-control';

const json = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** What the rotation functions need besides the unseal and PKI environments. */
export const RotationEnvSchema = z.object({
  [RotationEnvNames.LedgerTable]: z.string().min(1),
  [RotationEnvNames.Clusters]: json(ClusterSpecListSchema),
  [RotationEnvNames.TrustBundleConfigMap]: z.string().min(1),
  [RotationEnvNames.BatchSize]: z.coerce.number().int().min(1).max(500).default(25),
  [RotationEnvNames.TargetConcurrency]: z.coerce.number().int().min(1).max(64).default(8),
  [RotationEnvNames.StormControl]: json(StormControlSchema).default({ renewalJitter: 0 }),
  [RotationEnvNames.Namespace]: z.string().min(1),
  [RotationEnvNames.TargetPolicy]: json(TargetPolicySchema),
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
