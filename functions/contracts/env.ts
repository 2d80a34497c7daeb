import * as z from 'zod';
import { jsonText } from './json-text';
import { ClusterNameSchema } from './clusters';

/**
 * Environment variable names shared by the constructs in lib/ (which set them) and the handlers
 * (which read them through the schemas below, once per cold start). Defined once, here.
 */
export const EnvNames = {
  /** Which registry entry a Lambda is; the local runner maps tasks to handlers by it. */
  Function: 'CERTFLOW_FUNCTION',
  /** Vault cluster id: binds each KMS-wrapped share to its cluster (encryption context). */
  VaultClusterId: 'CERTFLOW_VAULT_CLUSTER_ID',
  /** JSON array of {id, url}: each Vault node's own address, never the load balancer. */
  VaultNodes: 'CERTFLOW_VAULT_NODES',
  /** Where to find the Vault nodes instead (config vault.discovery), JSON; with it, VaultNodes is not set. */
  VaultDiscovery: 'CERTFLOW_VAULT_DISCOVERY',
  /** PEM bundle that signs the Vault listeners' certificates: required, trusted instead of the public roots. */
  VaultCaPem: 'CERTFLOW_VAULT_CA_PEM',
  /** The configured unseal threshold: never more shares are decrypted or sent, and a node reporting another `t` is refused. */
  VaultThreshold: 'CERTFLOW_VAULT_THRESHOLD',
  /** The configured share count: a node reporting another `n` is refused. */
  VaultShares: 'CERTFLOW_VAULT_SHARES',
  /** The `cluster_id` Vault reports once unsealed (optional): an unsealed node reporting another is refused. */
  VaultReportedClusterId: 'CERTFLOW_VAULT_REPORTED_CLUSTER_ID',
  /** Per-request timeout to one Vault node, in milliseconds. */
  VaultTimeoutMs: 'CERTFLOW_VAULT_TIMEOUT_MS',
  /** Unseal-share KMS key (id, ARN or alias). */
  UnsealKeyId: 'CERTFLOW_UNSEAL_KEY_ID',
  /** DynamoDB table holding the KMS-wrapped shares. */
  ShareTable: 'CERTFLOW_SHARE_TABLE',
  /** DynamoDB table for the rotation lock and the ledger. */
  LedgerTable: 'CERTFLOW_LEDGER_TABLE',
  /** The certflow EventBridge bus name. */
  EventBus: 'CERTFLOW_EVENT_BUS',
  /** CloudWatch namespace of the metrics certflow publishes (Embedded Metric Format). */
  MetricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Powertools service name (the `service` key on every log line). */
  ServiceName: 'POWERTOOLS_SERVICE_NAME',
  LogLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;

/** https only: a node reached over http would get the unseal shares and tokens in the clear. */
const VaultUrl = z.url({ protocol: /^https$/, error: 'an https:// URL (http is refused)' });
/** The pinned CA of the Vault listeners (lib/config.ts vault.caCertificate): a PEM certificate. */
const VaultCaPem = z.string().regex(/-----BEGIN CERTIFICATE-----/, 'a PEM CA certificate');

export const VaultNodeSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'node id: lower-case letters, digits and dashes'),
  url: VaultUrl,
});
export type VaultNode = z.infer<typeof VaultNodeSchema>;

/**
 * Vault nodes from the Vault StatefulSet's pods (config vault.discovery): the cluster (as the
 * rotation functions reach it), the namespace, the label selector, the StatefulSet that must own
 * each pod, and the named container port each node listens on.
 */
export const VaultDiscoverySchema = z.strictObject({
  /** A cluster of the Clusters variable (RotationEnvNames.Clusters), which the function also gets. */
  cluster: ClusterNameSchema,
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/),
  labelSelector: z.string().min(1).max(1000),
  statefulSet: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/),
  portName: z.string().min(1).max(15).default('https'),
  scheme: z.literal('https').default('https'),
});
export type VaultDiscovery = z.infer<typeof VaultDiscoverySchema>;

/** What the unseal functions need from their environment. */
export const UnsealEnvSchema = z.object({
  [EnvNames.VaultClusterId]: z.string().min(1),
  /** Absent when the nodes are discovered (VaultDiscovery); one of the two is always set (lib/config.ts). */
  [EnvNames.VaultNodes]: jsonText(z.array(VaultNodeSchema).min(1)).optional(),
  [EnvNames.VaultDiscovery]: jsonText(VaultDiscoverySchema).optional(),
  [EnvNames.VaultCaPem]: VaultCaPem,
  [EnvNames.VaultTimeoutMs]: z.coerce.number().int().positive().default(5000),
  // Required: without them a node's self-reported `t` would decide how many shares leave KMS.
  [EnvNames.VaultThreshold]: z.coerce.number().int().min(1).max(255),
  [EnvNames.VaultShares]: z.coerce.number().int().min(1).max(255),
  [EnvNames.VaultReportedClusterId]: z.string().min(1).optional(),
  /** The ledger table, where the kill switch is (contracts/pause.ts); UnsealNode and Preflight read it. */
  [EnvNames.LedgerTable]: z.string().min(1).optional(),
  [EnvNames.UnsealKeyId]: z.string().min(1),
  [EnvNames.ShareTable]: z.string().min(1),
});
export type UnsealEnv = z.infer<typeof UnsealEnvSchema>;

/** A plain map of environment variables (process.env, or what the local runner builds). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * How a function logs in to Vault (VAULT_API.md 6): with AWS IAM, `role` is its group's Vault
 * auth role (contracts/functions.ts VaultIdentityGroups) and `serverIdHeader` the value the
 * mount's iam_server_id_header_value expects (signed, so a captured login cannot be replayed
 * against another Vault). `none`: the function has no Vault identity and never logs in.
 */
export const VaultAuthSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('aws-iam'), role: z.string().min(1), mount: z.string().default('aws'), stsRegion: z.string().default('us-east-1'), serverIdHeader: z.string().min(1).optional() }),
  z.object({ method: z.literal('none') }),
  z.object({ method: z.literal('approle'), secretArn: z.string().min(1), mount: z.string().default('approle') }),
  z.object({ method: z.literal('token'), secretArn: z.string().min(1) }),
]);
export type VaultAuth = z.infer<typeof VaultAuthSchema>;

export const PkiEnvNames = {
  VaultAddress: 'CERTFLOW_VAULT_ADDRESS',
  VaultAuth: 'CERTFLOW_VAULT_AUTH',
  RootMount: 'CERTFLOW_PKI_ROOT_MOUNT',
  IntermediateMount: 'CERTFLOW_PKI_INTERMEDIATE_MOUNT',
  Role: 'CERTFLOW_PKI_ROLE',
  KeyAlgorithm: 'CERTFLOW_PKI_KEY_ALGORITHM',
  Organization: 'CERTFLOW_PKI_ORGANIZATION',
  IntermediateTtlSeconds: 'CERTFLOW_PKI_INTERMEDIATE_TTL_SECONDS',
  RotationPeriodSeconds: 'CERTFLOW_PKI_ROTATION_PERIOD_SECONDS',
  LeafTtlSeconds: 'CERTFLOW_PKI_LEAF_TTL_SECONDS',
  RenewBeforeSeconds: 'CERTFLOW_PKI_RENEW_BEFORE_SECONDS',
  /** Issuers the intermediate mount may hold before a rotation refuses to add one (config pki.maxIssuersPerMount). */
  MaxIssuersPerMount: 'CERTFLOW_PKI_MAX_ISSUERS_PER_MOUNT',
  /** How long after its last leaf expired a retired issuer is kept (config pki.retiredIssuerGrace), in seconds. */
  RetiredIssuerGraceSeconds: 'CERTFLOW_PKI_RETIRED_ISSUER_GRACE_SECONDS',
  /** Vault's own tidy schedule, JSON (config pki.autoTidy). */
  AutoTidy: 'CERTFLOW_PKI_AUTO_TIDY',
} as const;

/**
 * Vault's scheduled tidy (`config/auto-tidy`, VAULT_API.md 4.14): expired certificates, expired
 * revoked entries and their issuer associations, and expired issuers (never the default; keys kept).
 */
export const AutoTidySchema = z.strictObject({
  intervalSeconds: z.number().int().positive(),
  safetyBufferSeconds: z.number().int().positive(),
  issuerSafetyBufferSeconds: z.number().int().positive(),
});
export type AutoTidy = z.infer<typeof AutoTidySchema>;


/** What the PKI functions need from their environment. */
export const PkiEnvSchema = z.object({
  [PkiEnvNames.VaultAddress]: VaultUrl,
  [EnvNames.VaultCaPem]: VaultCaPem,
  [EnvNames.VaultTimeoutMs]: z.coerce.number().int().positive().default(10000),
  [PkiEnvNames.VaultAuth]: jsonText(VaultAuthSchema),
  [PkiEnvNames.RootMount]: z.string().min(1),
  [PkiEnvNames.IntermediateMount]: z.string().min(1),
  [PkiEnvNames.Role]: z.string().min(1),
  [PkiEnvNames.KeyAlgorithm]: z.enum(['ecdsa-p256', 'rsa-2048']).default('ecdsa-p256'),
  [PkiEnvNames.Organization]: z.string().min(1),
  [PkiEnvNames.IntermediateTtlSeconds]: z.coerce.number().int().positive(),
  [PkiEnvNames.RotationPeriodSeconds]: z.coerce.number().int().positive(),
  [PkiEnvNames.LeafTtlSeconds]: z.coerce.number().int().positive(),
  [PkiEnvNames.RenewBeforeSeconds]: z.coerce.number().int().positive(),
  [PkiEnvNames.MaxIssuersPerMount]: z.coerce.number().int().min(2).default(50),
  [PkiEnvNames.RetiredIssuerGraceSeconds]: z.coerce.number().int().min(0).default(72 * 3600),
  [PkiEnvNames.AutoTidy]: jsonText(AutoTidySchema).optional(),
});
export type PkiEnv = z.infer<typeof PkiEnvSchema>;

/** The PKI settings the steps work with, read from PkiEnv once per cold start. */
export interface PkiSettings {
  rootMount: string;
  intermediateMount: string;
  role: string;
  keyType: 'ec' | 'rsa';
  keyBits: number;
  organization: string;
  intermediateTtlSeconds: number;
  rotationPeriodSeconds: number;
  leafTtlSeconds: number;
  renewBeforeSeconds: number;
  /** @default 50 */
  maxIssuersPerMount?: number;
  /** @default 72 hours */
  retiredIssuerGraceSeconds?: number;
  /** Vault's auto-tidy as certflow keeps it configured on both mounts; absent: left as it is. */
  autoTidy?: AutoTidy;
}

export function pkiSettingsFrom(env: PkiEnv): PkiSettings {
  const rsa = env[PkiEnvNames.KeyAlgorithm] === 'rsa-2048';
  return {
    rootMount: env[PkiEnvNames.RootMount],
    intermediateMount: env[PkiEnvNames.IntermediateMount],
    role: env[PkiEnvNames.Role],
    keyType: rsa ? 'rsa' : 'ec',
    keyBits: rsa ? 2048 : 256,
    organization: env[PkiEnvNames.Organization],
    intermediateTtlSeconds: env[PkiEnvNames.IntermediateTtlSeconds],
    rotationPeriodSeconds: env[PkiEnvNames.RotationPeriodSeconds],
    leafTtlSeconds: env[PkiEnvNames.LeafTtlSeconds],
    renewBeforeSeconds: env[PkiEnvNames.RenewBeforeSeconds],
    maxIssuersPerMount: env[PkiEnvNames.MaxIssuersPerMount],
    retiredIssuerGraceSeconds: env[PkiEnvNames.RetiredIssuerGraceSeconds],
    ...(env[PkiEnvNames.AutoTidy] ? { autoTidy: env[PkiEnvNames.AutoTidy] } : {}),
  };
}
