import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { ConfigError } from '../functions/contracts/errors';
import { ClusterNameSchema } from '../functions/contracts/clusters';
import { VaultNodeSchema } from '../functions/contracts/env';
import { TargetPolicySchema } from '../functions/contracts/target-policy';

/**
 * The deployment config: one zod-validated file per deployment, chosen with
 * `cdk deploy -c config=...`. A bad file stops synth and the CLI with a message naming the field.
 */

/** Durations as Vault writes them: 30d, 720h, 90m, 45s (a plain number is seconds). */
const DURATION = /^(\d+)(s|m|h|d|y)?$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400, y: 365 * 86400 } as const;

export function parseDuration(text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new ConfigError(`"${text}" is not a duration like 30d, 720h or 90m`);
  const unit = (match[2] ?? 's') as keyof typeof UNIT_SECONDS;
  return Number(match[1]) * UNIT_SECONDS[unit];
}

const Duration = z
  .string()
  .regex(DURATION, 'a duration like 30d, 720h, 90m or 45s')
  .refine((text) => parseDuration(text) > 0, 'must be longer than zero');

const MountName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a Vault mount path without slashes');
const DnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a DNS-1123 label');

export const KeyAlgorithmSchema = z.enum(['ecdsa-p256', 'rsa-2048']);

/**
 * One Kubernetes cluster: its name (targets refer to it) and how certflow reaches it. Only the
 * name and the auth form are checked here; the rest of each form (functions/contracts/clusters.ts
 * ClusterSpecSchema) passes through to the rotation functions, which validate it at cold start.
 */
const KubernetesClusterSchema = z.looseObject({
  name: ClusterNameSchema,
  auth: z.enum(['eks', 'kubeconfig-secret', 'token']),
});

/** The cluster certflow runs beside when the config names none: the in-cluster API address. */
const DEFAULT_CLUSTERS = [{ name: 'primary', auth: 'token' as const, server: 'https://kubernetes.default.svc' }];

/** Default schedules (EventBridge Scheduler expressions). */
const DEFAULT_SCHEDULES = {
  unseal: 'rate(1 minute)',
  renewalSweep: 'cron(0 3 * * ? *)',
  // Two hours after the sweep: a sweep that runs up to its two-hour timeout is over by then, so the
  // two runs do not meet at the lock (one would end AlreadyRunning).
  intermediateRotation: 'cron(0 5 * * ? *)',
};

const VaultAuthSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('aws-iam'), role: z.string().min(1), mount: z.string().default('aws') }),
  z.object({ method: z.literal('approle'), secretArn: z.string().min(1), mount: z.string().default('approle') }),
  z.object({ method: z.literal('token'), secretArn: z.string().min(1) }),
]);

export const ConfigSchema = z
  .object({
    name: DnsLabel,
    vault: z.object({
      clusterId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
      address: z.url().describe('the load-balanced API address (never used for unseal)'),
      nodes: z.array(VaultNodeSchema).min(1),
      seal: z.enum(['shamir', 'awskms']).default('shamir'),
      shares: z.number().int().min(1).max(255).default(5),
      threshold: z.number().int().min(1).max(255).default(3),
      rootMount: MountName,
      intermediateMount: MountName,
      role: z.string().min(1),
      auth: VaultAuthSchema,
    }),
    kms: z.object({
      unsealKeyAlias: z.string().regex(/^alias\/[A-Za-z0-9/_-]+$/, 'a KMS alias like alias/certflow-unseal'),
    }),
    pki: z.object({
      rootTtl: Duration,
      intermediateTtl: Duration,
      intermediateRotationPeriod: Duration,
      leafTtl: Duration,
      renewBefore: Duration,
      keyAlgorithm: KeyAlgorithmSchema.default('ecdsa-p256'),
      organization: z.string().min(1),
    }),
    kubernetes: z.object({
      /** certflow's own namespace (its verifier identity; Preflight reads its trust bundle there). */
      namespace: DnsLabel,
      trustBundleConfigMap: z.string().min(1).default('certflow-trust-bundle'),
      clusters: z.array(KubernetesClusterSchema).min(1).default(DEFAULT_CLUSTERS),
      /** The declared target policy: the only things certflow may renew (functions/contracts/target-policy.ts). */
      targets: TargetPolicySchema,
    })
      // Strict: a config still carrying the old `kubernetes.services` list must fail, naming it, rather than deploy with it ignored.
      .strict(),
    policy: z
      .object({
        batchSize: z.number().int().min(1).max(500).default(25),
        concurrency: z.number().int().min(1).max(40).default(4),
        /**
         * Targets of one batch renewed, checked and verified at once, inside each batch Lambda. A
         * batch Lambda mostly waits on the network (Vault, the EKS endpoint, handshakes), so 8
         * side by side; with `concurrency` batches at once that is at most 32 Vault issues in
         * flight, well within a Vault cluster's default rate limits. 1 is one after another.
         * @default 8
         */
        targetConcurrency: z.number().int().min(1).max(64).default(8),
      })
      .default({ batchSize: 25, concurrency: 4, targetConcurrency: 8 }),
    schedules: z
      .object({
        unseal: z.string().default(DEFAULT_SCHEDULES.unseal),
        renewalSweep: z.string().default(DEFAULT_SCHEDULES.renewalSweep),
        /** Starts a Rotation that checks the intermediate's cadence; the plan decides whether it is due. */
        intermediateRotation: z.string().default(DEFAULT_SCHEDULES.intermediateRotation),
      })
      .default(DEFAULT_SCHEDULES),
    compromise: z
      .object({
        /**
         * The IAM roles or users that may report a compromise (put `certflow.security` events on the
         * bus): full ARNs, or `role/<name>` / `user/<name>` in the deployment account. Every other
         * principal is denied explicitly. No default and no account roots: a root principal of the
         * deployment account would let every identity policy in it report.
         */
        reporterPrincipals: z
          .array(
            z
              .string()
              .regex(/^(arn:aws[a-z-]*:iam::[0-9]{12}:)?(role|user)\/[\w+=,.@/-]{1,512}$/, 'an IAM role or user ARN, or role/<name> or user/<name> of the deployment account (not an account root)'),
          )
          .min(1),
      })
      .strict(),
    alarms: z
      .object({ sealedMinutes: z.number().int().min(1).max(60).default(3), expiryDays: z.number().int().min(1).default(7) })
      .default({ sealedMinutes: 3, expiryDays: 7 }),
  })
  .superRefine((config, ctx) => {
    if (config.vault.threshold > config.vault.shares) {
      ctx.addIssue({ code: 'custom', path: ['vault', 'threshold'], message: 'must not exceed vault.shares' });
    }
    const ids = config.vault.nodes.map((node) => node.id);
    if (new Set(ids).size !== ids.length) {
      ctx.addIssue({ code: 'custom', path: ['vault', 'nodes'], message: 'node ids must be unique' });
    }
    if (config.vault.rootMount === config.vault.intermediateMount) {
      ctx.addIssue({ code: 'custom', path: ['vault', 'intermediateMount'], message: 'must differ from vault.rootMount' });
    }
    const clusterNames = config.kubernetes.clusters.map((cluster) => cluster.name);
    if (new Set(clusterNames).size !== clusterNames.length) {
      ctx.addIssue({ code: 'custom', path: ['kubernetes', 'clusters'], message: 'cluster names must be unique (targets refer to clusters by name)' });
    }
    config.kubernetes.targets.clusters.forEach((declared, index) => {
      if (!clusterNames.includes(declared.cluster)) {
        ctx.addIssue({ code: 'custom', path: ['kubernetes', 'targets', 'clusters', index, 'cluster'], message: `cluster ${declared.cluster} is not in kubernetes.clusters` });
      }
    });
    // A leaf must never outlive its issuer (I6): the intermediate must outlast a full leaf plus the renewal window.
    const pki = config.pki;
    if (parseDuration(pki.renewBefore) >= parseDuration(pki.leafTtl)) {
      ctx.addIssue({ code: 'custom', path: ['pki', 'renewBefore'], message: 'must be shorter than pki.leafTtl' });
    }
    if (parseDuration(pki.intermediateTtl) >= parseDuration(pki.rootTtl)) {
      ctx.addIssue({ code: 'custom', path: ['pki', 'intermediateTtl'], message: 'must be shorter than pki.rootTtl' });
    }
    if (parseDuration(pki.intermediateRotationPeriod) + parseDuration(pki.leafTtl) > parseDuration(pki.intermediateTtl)) {
      ctx.addIssue({
        code: 'custom',
        path: ['pki', 'intermediateRotationPeriod'],
        message: 'plus pki.leafTtl must fit within pki.intermediateTtl',
      });
    }
  });

export type CertflowConfig = z.infer<typeof ConfigSchema>;

/** Validates a parsed config; throws a ConfigError whose message names every bad field. */
export function parseConfig(raw: unknown, source = 'config'): CertflowConfig {
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new ConfigError(`${source} is invalid:\n  - ${problems.join('\n  - ')}`);
}

/** Reads and validates a config file. */
export function loadConfig(path: string): CertflowConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${path}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${path} is not valid JSON`, { cause });
  }
  return parseConfig(raw, path);
}
