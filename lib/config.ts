import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { ConfigError } from '../functions/contracts/errors';
import { ClusterNameSchema } from '../functions/contracts/clusters';
import { VaultNodeSchema } from '../functions/contracts/env';
import { FunctionIds } from '../functions/contracts/functions';
import { TargetPolicySchema } from '../functions/contracts/target-policy';
import { configErrorMap, jsonErrorLine, lineLocator } from './config-diagnostics';

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

/**
 * Seconds of a duration, NaN when it is none: the cross-field checks below run even when a field
 * failed its own check (an unknown key elsewhere does not stop them), and must not throw.
 */
const seconds = (text: string): number => (DURATION.test(text) ? parseDuration(text) : Number.NaN);

const Duration = z
  .string()
  .regex(DURATION, 'a duration like 30d, 720h, 90m or 45s')
  // Guarded: zod runs the refinement even when the pattern failed, and parseDuration would throw.
  .refine((text) => !DURATION.test(text) || parseDuration(text) > 0, 'must be longer than zero');

const MountName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a Vault mount path without slashes');
const DnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a DNS-1123 label');
/** A Kubernetes object name (DNS-1123 subdomain): no slash, no `..`, so it cannot climb a path. */
const ObjectName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'a Kubernetes object name (DNS-1123 subdomain)');
/**
 * An auth mount path as Vault takes it in `auth/<mount>/login`: segments of letters, digits, `_`
 * and `-` joined by `/`. No dot at all, so `../../sys/raw` cannot reach another endpoint.
 */
const AuthMountPath = z.string().regex(/^[A-Za-z0-9_-]{1,64}(\/[A-Za-z0-9_-]{1,64}){0,3}$/, 'a Vault auth mount path: segments of letters, digits, "_" and "-" joined by "/" (no ".", no leading "/")');
/** A Vault role name as it sits in a URL path segment (`auth/aws/role/<name>`, `pki/issue/<name>`). */
const VaultRoleName = z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/, 'a Vault role name: letters, digits, "_", "-" and "." (no "/", not starting with ".")');
/** https only: a node or API reached over http would hand its token or the unseal shares to anyone on the path. */
const HttpsUrl = z.url({ protocol: /^https$/, error: 'an https:// URL (http is refused)' });
/**
 * A Secrets Manager secret by its full ARN, including the six-character suffix Secrets Manager
 * adds, so the IAM grant names exactly this secret (a partial ARN would need a wildcard).
 */
export const SecretArnSchema = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/,
    'a full Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)',
  );
/** A field that must never appear: refused with the reason rather than as an unknown key. */
const refused = (reason: string) => z.undefined({ error: reason }).optional();
const INLINE_CREDENTIAL = 'inline credentials are refused: store the value in Secrets Manager and give its ARN';

export const KeyAlgorithmSchema = z.enum(['ecdsa-p256', 'rsa-2048']);

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64 (as in certificate-authority-data)');
const AwsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as eu-west-1');

/**
 * One Kubernetes cluster: its name (targets refer to it) and how certflow reaches it, each form
 * strict and with no credential inline. The stack hands these to the rotation functions, which
 * parse them again with functions/contracts/clusters.ts ClusterSpecSchema at cold start; that
 * runtime schema still takes an inline token for the sandbox, which builds its own list.
 */
const KubernetesClusterSchema = z.discriminatedUnion('auth', [
  z.strictObject({
    auth: z.literal('eks'),
    name: ClusterNameSchema,
    endpoint: HttpsUrl,
    caData: base64,
    region: AwsRegion,
    /**
     * An EKS cluster of the deployment's account and region whose access entries the stack
     * creates: one per function role that talks to Kubernetes, as the user deploy/kubernetes/rbac.yaml
     * binds. @default no access entries (map the roles into the cluster yourself)
     */
    accessEntries: z.strictObject({ clusterName: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'an EKS cluster name'), username: z.string().regex(/^[a-z0-9:._-]{1,64}$/).default('certflow') }).optional(),
  }),
  z.strictObject({ auth: z.literal('kubeconfig-secret'), name: ClusterNameSchema, secretArn: SecretArnSchema }),
  z.strictObject({
    auth: z.literal('token'),
    name: ClusterNameSchema,
    server: HttpsUrl,
    // Absent: the stack creates the secret `certflow/<deployment>/clusters/<name>/token` for the
    // operator to fill (lib/constructs/run-time-parameters.ts); never the token itself.
    tokenSecretArn: SecretArnSchema.optional(),
    caData: base64.optional(),
    token: refused(`${INLINE_CREDENTIAL} (tokenSecretArn)`),
    skipTlsVerify: refused('skipTlsVerify is refused: give the cluster CA as caData'),
  }),
]);

/** Default schedules (EventBridge Scheduler expressions). */
const DEFAULT_SCHEDULES = {
  unseal: 'rate(1 minute)',
  renewalSweep: 'cron(0 3 * * ? *)',
  // Two hours after the sweep: a sweep that runs up to its two-hour timeout is over by then, so the
  // two runs do not meet at the lock (one would end AlreadyRunning).
  intermediateRotation: 'cron(0 5 * * ? *)',
  // After both rotation runs: the sweep sees what they renewed.
  expirySweep: 'cron(0 7 * * ? *)',
};
/** An EventBridge Scheduler expression: rate(...), cron(...) or at(...). */
const ScheduleExpression = z.string().regex(/^(rate|cron|at)\([^()]+\)$/, 'a schedule expression: rate(...), cron(...) or at(...)');

const VaultAuthSchema = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('aws-iam'),
    /**
     * One Vault auth role per group of functions (contracts/functions.ts VaultIdentityGroups), each
     * bound to exactly its group's IAM roles and granting its own shipped policy (deploy/vault/).
     * @default { rotation: 'certflow-rotation', compromise: 'certflow-compromise' }
     */
    roles: z.strictObject({ rotation: VaultRoleName, compromise: VaultRoleName }).default({ rotation: 'certflow-rotation', compromise: 'certflow-compromise' }),
    mount: AuthMountPath.default('aws'),
    /**
     * The mount's `iam_server_id_header_value`: sent, signed, as X-Vault-AWS-IAM-Server-ID by every
     * login, so a captured login request is refused by any other Vault. @default none (not for a regulated account)
     */
    iamServerIdHeader: z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, 'a host-like value (letters, digits, ".", ":" and "-"), usually the Vault address\'s host').optional(),
    role: refused('one Vault auth role per group of functions now: give roles.rotation and roles.compromise (see README, "The shipped Vault policies")'),
  }),
  z.strictObject({ method: z.literal('approle'), secretArn: SecretArnSchema, mount: AuthMountPath.default('approle'), roleId: refused(INLINE_CREDENTIAL), secretId: refused(INLINE_CREDENTIAL) }),
  z.strictObject({ method: z.literal('token'), secretArn: SecretArnSchema, token: refused(INLINE_CREDENTIAL) }),
]);

/** An IAM role of the deployment account, as a full ARN or `role/<name>` (no users, no account root). */
const RoleReference = z
  .string()
  .regex(/^(arn:aws[a-z-]*:iam::[0-9]{12}:)?role\/[\w+=,.@/-]{1,512}$/, 'an IAM role ARN, or role/<name> of the deployment account (not a user, not an account root)');

/** AWS resource ids as EC2 writes them. */
const ec2Id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `an EC2 id like ${prefix}-0123456789abcdef0`);
/**
 * Where the functions run. Either a VPC (subnets and security groups the operator owns, which
 * must reach every Vault node and cluster endpoint) or, said explicitly with the reason, none:
 * the NIST 800-53 and PCI DSS "Lambda inside a VPC" finding is acknowledged only then, with that
 * reason. No default, so a regulated deployment never leaves the VPC out by accident.
 */
const VpcSchema = z.strictObject({
  vpcId: ec2Id('vpc'),
  /** Private subnets, each with its availability zone (interface endpoints take one per zone). */
  subnets: z.array(z.strictObject({ id: ec2Id('subnet'), availabilityZone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/, 'an availability zone such as eu-west-1a') })).min(1),
  /** The functions' security groups: egress to the Vault nodes, the cluster endpoints and the VPC endpoints on 443. */
  securityGroupIds: z.array(ec2Id('sg')).min(1),
  /**
   * `create`: the stack creates the interface endpoints the functions call (lib/constructs/
   * network-placement.ts ENDPOINT_SERVICES), reachable from the security groups above on 443.
   * `existing`: the VPC already has them (a shared-services VPC), with private DNS.
   */
  endpoints: z.enum(['create', 'existing']).default('create'),
});
const NETWORK_REQUIRED = 'required: network.vpc names the VPC the functions run in ({ vpcId, subnets, securityGroupIds }), or is "none" with a reason';
const NetworkSchema = z
  .strictObject(
    {
      vpc: z.union([z.literal('none'), VpcSchema], { error: (issue) => (typeof issue.input === 'object' ? undefined : NETWORK_REQUIRED) }),
      /** Only with `vpc: "none"`: why the functions may run outside a VPC (the acknowledgement's reason). */
      reason: z.string().min(20, 'say why the functions may run outside a VPC (at least 20 characters): it becomes the acknowledgement of the cdk-nag finding').optional(),
    },
    { error: (issue) => (issue.input === undefined ? NETWORK_REQUIRED : undefined) },
  )
  .superRefine((network, ctx) => {
    if (network.vpc === 'none' && network.reason === undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'required with vpc "none": say why the functions may run outside a VPC' });
    if (network.vpc !== 'none' && network.reason !== undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'only with vpc "none" (a VPC needs no reason)' });
  });

/** Reserved concurrency per function: a default, and per-function values (function ids only). */
const ReservedConcurrency = z.number().int().min(1).max(1000);
const FunctionsSchema = z
  .strictObject({
    /**
     * Each function's reserved concurrency (Lambda's ReservedConcurrentExecutions): a runaway
     * caller cannot take the account's pool, and certflow cannot be starved by another workload.
     * It must cover policy.concurrency batches and one UnsealNode per Vault node at once.
     * @default 10
     */
    reservedConcurrency: ReservedConcurrency.default(10),
    /** A function's own value, by function id (functions/contracts/functions.ts). */
    reservedConcurrencyOf: z.strictObject(Object.fromEntries(FunctionIds.map((functionId) => [functionId, ReservedConcurrency.optional()])) as Record<(typeof FunctionIds)[number], z.ZodOptional<typeof ReservedConcurrency>>).default({}),
  })
  .default({ reservedConcurrency: 10, reservedConcurrencyOf: {} });

/** The retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/**
 * The CA that signs the Vault listeners' certificates, as PEM: pinned by every function and the
 * CLI (it replaces the public roots), so a node with a certificate from anywhere else is refused.
 * Node's own X.509 parser decides; it must be a CA certificate.
 */
const CaCertificatePem = z.string({ error: (issue) => (issue.input === undefined ? 'required: the PEM CA of the Vault listeners (certflow trusts no public root for Vault)' : undefined) }).superRefine((pem, ctx) => {
  let certificates: X509Certificate[];
  try {
    certificates = (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
  } catch {
    certificates = [];
  }
  if (certificates.length === 0) ctx.addIssue({ code: 'custom', message: 'a PEM CA certificate (-----BEGIN CERTIFICATE-----)' });
  else if (certificates.some((certificate) => !certificate.ca)) ctx.addIssue({ code: 'custom', message: 'every certificate must be a CA certificate (basicConstraints CA:TRUE), not a server certificate' });
});

/** One Vault node's own address (unseal talks to each node, never to the load balancer). */
const ConfigVaultNodeSchema = z.strictObject({ id: VaultNodeSchema.shape.id, url: HttpsUrl });

export const ConfigSchema = z
  .strictObject({
    name: DnsLabel,
    vault: z.strictObject({
      clusterId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
      address: HttpsUrl.describe('the load-balanced API address (never used for unseal)'),
      /**
       * The Vault listeners' CA (PEM), pinned in every function and the CLI instead of the public
       * roots. Required: there is no plain-http or public-roots path to Vault. A run-time value
       * (contracts/run-time-values.ts): this is the parameter's first value.
       */
      caCertificate: CaCertificatePem,
      /** Each node's own address; leave out when `discovery` finds them. */
      nodes: z.array(ConfigVaultNodeSchema).min(1).optional(),
      /**
       * The nodes from the Vault StatefulSet's pods instead (DESIGN.md Unseal step 1): the pods in
       * `namespace` matching `labelSelector` that `statefulSet` controls, each addressed at its pod
       * IP and its container port named `portName`. A pod that matches but fails any of these is
       * refused and logged, never contacted.
       */
      discovery: z
        .strictObject({
          cluster: ClusterNameSchema,
          namespace: DnsLabel,
          labelSelector: z.string().min(1).max(1000),
          statefulSet: DnsLabel,
          portName: z.string().min(1).max(15).default('https'),
          /** https only, as every Vault address: a pod reached over http would get the shares in the clear. */
          scheme: z.literal('https', { error: 'https (http is refused)' }).default('https'),
        })
        .optional(),
      seal: z.enum(['shamir', 'awskms']).default('shamir'),
      shares: z.number().int().min(1).max(255).default(5),
      /**
       * The `cluster_id` Vault reports once unsealed (sys/seal-status; set after vault-init). When
       * given, an unsealed node reporting another id is refused as not this Vault.
       */
      reportedClusterId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'the cluster_id Vault reports (letters, digits and dashes)').optional(),
      threshold: z.number().int().min(1).max(255).default(3),
      rootMount: MountName,
      intermediateMount: MountName,
      role: VaultRoleName,
      auth: VaultAuthSchema,
    }),
    kms: z.strictObject({
      unsealKeyAlias: z
        .string()
        .regex(/^alias\/[A-Za-z0-9/_-]+$/, 'a KMS alias like alias/certflow-unseal')
        // alias/aws/* are AWS managed keys: their policy cannot be scoped to certflow's roles.
        .refine((alias) => !alias.startsWith('alias/aws/'), 'alias/aws/... names an AWS managed key, whose key policy cannot be scoped: use a customer managed key'),
      /**
       * Roles that may decrypt the KMS-wrapped root token `certflow vault-init` writes (its own
       * encryption context, which the unseal functions are explicitly denied). Required: without
       * one, nobody could use the root token to configure Vault's auth.
       */
      operatorRoles: z.array(RoleReference).min(1),
      /**
       * Roles that administer the key (policy, rotation, disable, deletion) instead of the account
       * root. Break-glass: the account root keeps only kms:PutKeyPolicy, so the key can never be
       * locked out, and that is the one action to alert on. @default the account root (not for a regulated account)
       */
      adminRoles: z.array(RoleReference).min(1).optional(),
      /**
       * The role CloudFormation deploys the stack with: a key administrator besides adminRoles
       * (it writes the key policies, and KMS refuses a policy that locks its author out).
       * @default the CDK bootstrap's execution role (cdk-hnb659fds-cfn-exec-role-...)
       */
      cloudFormationExecutionRole: RoleReference.optional(),
    }),
    pki: z.strictObject({
      rootTtl: Duration,
      intermediateTtl: Duration,
      intermediateRotationPeriod: Duration,
      leafTtl: Duration,
      renewBefore: Duration,
      keyAlgorithm: KeyAlgorithmSchema.default('ecdsa-p256'),
      organization: z.string().min(1),
      /**
       * Issuers the intermediate mount may hold (the root's copy included); a rotation that would
       * add one more is refused with IssuerLimitReachedError. A compromise response is never refused.
       * @default 50
       */
      maxIssuersPerMount: z.number().int().min(3).max(1000).default(50),
      /**
       * How long a retired issuer is kept after its last leaf expired: a relying party may hold its
       * last CRL until that CRL's nextUpdate (Vault's CRL expiry, 72h by default). @default '72h'
       */
      retiredIssuerGrace: Duration.default('72h'),
      /** Vault's own tidy, which certflow keeps configured on both mounts (`config/auto-tidy`). Set `false` to leave it alone. @default every 12h, 72h safety buffer, expired issuers after 1 year */
      autoTidy: z
        .union([z.literal(false), z.strictObject({ interval: Duration.default('12h'), safetyBuffer: Duration.default('72h'), issuerSafetyBuffer: Duration.default('8760h') })])
        .default({ interval: '12h', safetyBuffer: '72h', issuerSafetyBuffer: '8760h' }),
    }),
    kubernetes: z.strictObject({
      /** certflow's own namespace (its verifier identity; Preflight reads its trust bundle there). */
      namespace: DnsLabel,
      trustBundleConfigMap: ObjectName.default('certflow-trust-bundle'),
      /**
       * Required, no default: the old default (the in-cluster address with no credential) could not
       * authenticate from a Lambda, and every cluster's credential must be declared by reference.
       */
      clusters: z.array(KubernetesClusterSchema).min(1),
      /** The declared target policy: the only things certflow may renew (functions/contracts/target-policy.ts). */
      targets: TargetPolicySchema,
    }),
    policy: z
      .strictObject({
        batchSize: z.number().int().min(1).max(500).default(25),
        concurrency: z.number().int().min(1).max(40).default(4),
        /** How many times a batch's rollout is looked at (5 s apart) before RolloutTimeoutError: 10 minutes. */
        maxRolloutChecks: z.number().int().min(1).max(10_000).default(120),
        /**
         * Targets of one batch renewed, checked and verified at once, inside each batch Lambda. A
         * batch Lambda mostly waits on the network (Vault, the EKS endpoint, handshakes), so 8
         * side by side; with `concurrency` batches at once that is at most 32 Vault issues in
         * flight, well within a Vault cluster's default rate limits. 1 is one after another.
         * @default 8
         */
        targetConcurrency: z.number().int().min(1).max(64).default(8),
        /**
         * The rollout budget: at most this many workloads restarting at once, per cluster and per
         * namespace, across the whole fan-out. Each of the `concurrency` batches gets an equal
         * share, so each bound must be at least `concurrency`. Absent: no bound (every renewed
         * workload of a batch restarts at once).
         */
        rolloutBudget: z.strictObject({ perCluster: z.number().int().min(1).max(10_000), perNamespace: z.number().int().min(1).max(10_000) }).optional(),
        /** Vault issuances started per second by the whole fan-out (shared by the batches as above). Absent: no bound. */
        issuanceBudget: z.strictObject({ perSecond: z.number().positive().max(10_000) }).optional(),
        /**
         * Spreads renewals over the window: a certificate's renewal time moves later by up to this
         * fraction of `pki.renewBefore`, by its serial, so certificates issued together are not all
         * renewed, and do not all expire, together. 0 renews exactly `renewBefore` before notAfter.
         * @default 0
         */
        renewalJitter: z.number().min(0).max(0.9).default(0),
      })
      .default({ batchSize: 25, concurrency: 4, maxRolloutChecks: 120, targetConcurrency: 8, renewalJitter: 0 }),
    schedules: z
      .strictObject({
        unseal: ScheduleExpression.default(DEFAULT_SCHEDULES.unseal),
        renewalSweep: ScheduleExpression.default(DEFAULT_SCHEDULES.renewalSweep),
        /** Starts a Rotation that checks the intermediate's cadence; the plan decides whether it is due. */
        intermediateRotation: ScheduleExpression.default(DEFAULT_SCHEDULES.intermediateRotation),
        /** Starts the expiry sweep (daily: the `Certificate Expiring` windows are a day wide). */
        expirySweep: ScheduleExpression.default(DEFAULT_SCHEDULES.expirySweep),
      })
      .default(DEFAULT_SCHEDULES),
    compromise: z
      .strictObject({
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
        /**
         * An `intermediate` report revokes the active intermediate and reissues the whole fleet, so
         * it waits for an operator's `certflow approve <run>` (or `certflow deny`) unless
         * `automatic` is set. An approval not given within `timeoutMinutes` ends the run failed
         * (alarmed) with nothing changed; the report can be sent again.
         */
        intermediateApproval: z
          .object({ automatic: z.boolean().default(false), timeoutMinutes: z.number().int().min(1).max(1440).default(30) })
          .strict()
          .default({ automatic: false, timeoutMinutes: 30 }),
      }),
    network: NetworkSchema,
    functions: FunctionsSchema,
    /** CloudWatch Logs retention of every function's and state machine's log group. */
    logs: z
      .strictObject({
        // PCI DSS 10.7 keeps audit trails for at least a year: the default.
        retentionDays: z
          .number()
          .refine((days) => LOG_RETENTION_DAYS.includes(days), `one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(', ')}`)
          .default(365),
      })
      .default({ retentionDays: 365 }),
    alarms: z
      .strictObject({
        sealedMinutes: z.number().int().min(1).max(60).default(3),
        expiryDays: z.number().int().min(1).default(7),
        /**
         * Days left at or under which a CA that still signs alarms (the expiry sweep), per kind: a CA
         * must be replaced long before its leaves' lifetime runs out.
         * @default { root: 365, intermediate: 180, mesh: 180 }
         */
        caExpiryDays: z
          .strictObject({ root: z.number().int().min(1).default(365), intermediate: z.number().int().min(1).default(180), mesh: z.number().int().min(1).default(180) })
          .default({ root: 365, intermediate: 180, mesh: 180 }),
      })
      .default({ sealedMinutes: 3, expiryDays: 7, caExpiryDays: { root: 365, intermediate: 180, mesh: 180 } }),
  })
  .superRefine((config, ctx) => {
    if (config.vault.threshold > config.vault.shares) {
      ctx.addIssue({ code: 'custom', path: ['vault', 'threshold'], message: 'must not exceed vault.shares' });
    }
    // Enough concurrency for the work certflow itself runs at once (policy.concurrency batches, one
    // UnsealNode per node), or the workflows would throttle themselves.
    const needed = Math.max(config.policy.concurrency, config.vault.nodes?.length ?? 1);
    if (config.functions.reservedConcurrency < needed) {
      ctx.addIssue({ code: 'custom', path: ['functions', 'reservedConcurrency'], message: `must be at least ${needed} (policy.concurrency and the number of Vault nodes)` });
    }
    for (const [functionId, value] of Object.entries(config.functions.reservedConcurrencyOf)) {
      if (value !== undefined && value < needed) ctx.addIssue({ code: 'custom', path: ['functions', 'reservedConcurrencyOf', functionId], message: `must be at least ${needed} (policy.concurrency and the number of Vault nodes)` });
    }
    if (!config.vault.nodes === !config.vault.discovery) {
      ctx.addIssue({ code: 'custom', path: ['vault', 'nodes'], message: 'give exactly one of vault.nodes and vault.discovery' });
    }
    if (config.vault.discovery && !config.kubernetes.clusters.some((cluster) => cluster.name === config.vault.discovery?.cluster)) {
      ctx.addIssue({ code: 'custom', path: ['vault', 'discovery', 'cluster'], message: `cluster ${config.vault.discovery.cluster} is not in kubernetes.clusters` });
    }
    const ids = (config.vault.nodes ?? []).map((node) => node.id);
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
    const budget = config.policy.rolloutBudget;
    for (const scope of ['perCluster', 'perNamespace'] as const) {
      if (budget && budget[scope] < config.policy.concurrency) {
        ctx.addIssue({
          code: 'custom',
          path: ['policy', 'rolloutBudget', scope],
          message: `is ${budget[scope]}, below policy.concurrency (${config.policy.concurrency}): each batch running at once needs at least one restart; lower policy.concurrency or raise the budget`,
        });
      }
    }
    // A leaf must never outlive its issuer (I6): the intermediate must outlast a full leaf plus the renewal window.
    const pki = config.pki;
    if (seconds(pki.renewBefore) >= seconds(pki.leafTtl)) {
      ctx.addIssue({ code: 'custom', path: ['pki', 'renewBefore'], message: 'must be shorter than pki.leafTtl' });
    }
    if (seconds(pki.intermediateTtl) >= seconds(pki.rootTtl)) {
      ctx.addIssue({ code: 'custom', path: ['pki', 'intermediateTtl'], message: 'must be shorter than pki.rootTtl' });
    }
    if (seconds(pki.intermediateRotationPeriod) + seconds(pki.leafTtl) > seconds(pki.intermediateTtl)) {
      ctx.addIssue({
        code: 'custom',
        path: ['pki', 'intermediateRotationPeriod'],
        message: 'plus pki.leafTtl must fit within pki.intermediateTtl',
      });
    }
  });

export type CertflowConfig = z.infer<typeof ConfigSchema>;

/**
 * Validates a parsed config; throws a ConfigError whose message names every bad field (and, given
 * the file's text, its line), with the likely key for a misspelled one.
 */
export function parseConfig(raw: unknown, source = 'config', text?: string): CertflowConfig {
  const result = ConfigSchema.safeParse(raw, { error: configErrorMap });
  if (result.success) return result.data;
  const lineOf = text === undefined ? () => undefined : lineLocator(text);
  const problems = result.error.issues.map((issue) => {
    const line = lineOf(issue.path);
    return `${issue.path.join('.') || '(root)'}: ${issue.message}${line === undefined ? '' : ` (line ${line})`}`;
  });
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
    throw new ConfigError(`${path} is not valid JSON: ${jsonErrorLine(text, cause)}`, { cause });
  }
  return parseConfig(raw, path, text);
}
