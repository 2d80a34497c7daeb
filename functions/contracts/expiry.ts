import * as z from 'zod';
import { jsonText } from './json-text';
import { TargetKindSchema } from './targets';
import { EnvNames } from './env';

/**
 * The expiry sweep's contract (DESIGN.md "Expiry sweep"): environment names, the payloads that
 * travel between its three functions, the `Certificate Expiring` event. Certificates travel as
 * serials and dates only, never as bodies or keys (I2).
 */
export const ExpiryEnvNames = {
  /** Days to expiry at or under which the leaf alarm fires (config alarms.expiryDays). */
  LeafAlarmDays: 'CERTFLOW_EXPIRY_LEAF_ALARM_DAYS',
  /** JSON {root, intermediate, mesh}: days at or under which each CA alarm fires (config alarms.caExpiryDays). */
  CaAlarmDays: 'CERTFLOW_EXPIRY_CA_ALARM_DAYS',
} as const;

/** The days before expiry at which `Certificate Expiring` is emitted, once each (the whitepaper's list). */
export const EXPIRY_EVENT_DAYS = [30, 14, 7, 1] as const;

/**
 * How far apart two scheduled sweeps are, in days: an event threshold counts as crossed when the
 * days left lie in (threshold - window, threshold], so a daily sweep emits each event once.
 */
export const EXPIRY_EVENT_WINDOW_DAYS = 1;

export const ExpiryDetailTypes = { CertificateExpiring: 'Certificate Expiring' } as const;

const Iso = z.iso.datetime();

/** One certificate as the sweep saw it: no body, only what says when it ends. */
export const CertificateSeenSchema = z.strictObject({ serial: z.string().min(1), notBefore: Iso, notAfter: Iso });
export type CertificateSeen = z.infer<typeof CertificateSeenSchema>;

/** Why a target is (un)healthy; only `Healthy` and `NotServed` are healthy. */
export const TargetHealthSchema = z.enum(['Healthy', 'NotServed', 'SecretMissing', 'SecretMalformed', 'EndpointUnreachable', 'StaleServedCertificate']);
export type TargetHealth = z.infer<typeof TargetHealthSchema>;

export const TargetSeenSchema = z.strictObject({
  id: z.string().min(1),
  service: z.string().min(1),
  kind: TargetKindSchema,
  health: TargetHealthSchema,
  detail: z.string(),
  stored: CertificateSeenSchema.optional(),
  served: CertificateSeenSchema.optional(),
});
export type TargetSeen = z.infer<typeof TargetSeenSchema>;

export const IssuerRoleSchema = z.enum(['root', 'intermediate', 'mesh']);
export type IssuerRole = z.infer<typeof IssuerRoleSchema>;

export const IssuerSeenSchema = z.strictObject({
  mount: z.string().min(1),
  issuerId: z.string().min(1),
  issuerName: z.string(),
  role: IssuerRoleSchema,
  isDefault: z.boolean(),
  /** Usage includes `issuing-certificates` and the issuer has its key: it can still sign leaves. */
  issuing: z.boolean(),
  revoked: z.boolean(),
  certificate: CertificateSeenSchema,
});
export type IssuerSeen = z.infer<typeof IssuerSeenSchema>;

export const ExpiryTargetsInputSchema = z.strictObject({ runId: z.string().min(1) });
export const ExpiryTargetsOutputSchema = z.strictObject({ targets: z.array(TargetSeenSchema) });
export type ExpiryTargetsOutput = z.infer<typeof ExpiryTargetsOutputSchema>;

export const ExpiryIssuersInputSchema = z.strictObject({ runId: z.string().min(1) });
export const ExpiryIssuersOutputSchema = z.strictObject({ issuers: z.array(IssuerSeenSchema) });
export type ExpiryIssuersOutput = z.infer<typeof ExpiryIssuersOutputSchema>;

export const ExpiryReportInputSchema = z.strictObject({
  runId: z.string().min(1),
  trigger: z.string().min(1),
  targets: z.array(TargetSeenSchema),
  issuers: z.array(IssuerSeenSchema),
});
export type ExpiryReportInput = z.infer<typeof ExpiryReportInputSchema>;

/** Detail of `Certificate Expiring`: which certificate, how long it has, which threshold it crossed. */
export const CertificateExpiringDetailSchema = z.strictObject({
  runId: z.string(),
  subject: z.enum(['target', 'issuer']),
  /** Target id (`cluster/namespace/name`) or `mount/issuerId`. */
  id: z.string(),
  service: z.string().optional(),
  role: z.enum(['leaf', 'root', 'intermediate', 'mesh']),
  /** `stored` (the Secret), `served` (the endpoint's handshake) or `vault` (an issuer). */
  copy: z.enum(['stored', 'served', 'vault']),
  serial: z.string(),
  notAfter: Iso,
  daysLeft: z.number(),
  thresholdDays: z.number().int(),
});
export type CertificateExpiringDetail = z.infer<typeof CertificateExpiringDetailSchema>;

/** An alarm threshold a certificate is at or under (what the CloudWatch alarms will see). */
export const ExpiryBreachSchema = z.strictObject({
  alarm: z.enum(['LeafExpiring', 'RootExpiring', 'IntermediateExpiring', 'MeshCaExpiring', 'TargetsUnhealthy']),
  id: z.string(),
  detail: z.string(),
});
export type ExpiryBreach = z.infer<typeof ExpiryBreachSchema>;

export const ExpiryReportOutputSchema = z.strictObject({
  runId: z.string(),
  trigger: z.string(),
  events: z.array(z.strictObject({ detailType: z.literal(ExpiryDetailTypes.CertificateExpiring), detail: CertificateExpiringDetailSchema })),
  breaches: z.array(ExpiryBreachSchema),
  certificates: z.array(
    z.strictObject({ id: z.string(), role: CertificateExpiringDetailSchema.shape.role, copy: CertificateExpiringDetailSchema.shape.copy, serial: z.string(), notAfter: Iso, daysLeft: z.number() }),
  ),
  unhealthy: z.array(z.strictObject({ id: z.string(), health: TargetHealthSchema, detail: z.string() })),
  /** The fewest days left per role among the certificates the alarms watch (the Soonest* gauges). */
  soonest: z.strictObject({ leaf: z.number().optional(), root: z.number().optional(), intermediate: z.number().optional(), mesh: z.number().optional() }),
});
export type ExpiryReportOutput = z.infer<typeof ExpiryReportOutputSchema>;

/** What ExpiryReport reads: the thresholds and the cluster id that dimensions its gauges. */
export const ExpiryReportEnvSchema = z.object({
  [EnvNames.VaultClusterId]: z.string().min(1),
  [ExpiryEnvNames.LeafAlarmDays]: z.coerce.number().int().min(1),
  [ExpiryEnvNames.CaAlarmDays]: jsonText(z.strictObject({ root: z.number().int().min(1), intermediate: z.number().int().min(1), mesh: z.number().int().min(1) })),
});
