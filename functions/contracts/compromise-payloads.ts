import * as z from 'zod';
import { CompromiseDetailTypes, CompromiseReportSchema, RevocationReasonSchema } from './compromise';
import { RunIdSchema } from './unseal-payloads';

/**
 * Payloads of the compromise response's steps (DESIGN.md Compromise response; issue 6). Like the
 * rotation's, they carry identifiers only: run ids, service names, serials, issuer ids, reasons.
 * Targets live in the ledger under (runId, batchId `c0001`...), where the batch steps of the
 * rotation (RenewBatch, CheckBatch, VerifyBatch) load them, so a response reuses those tasks.
 */

/** A serial as Vault writes it once normalised (compromise-plan.ts `normaliseSerial`). */
const SerialSchema = z.string().regex(/^([0-9a-f]{2}:)*[0-9a-f]{2}$/, 'a certificate serial in lower-case colon hex');
const IssuerIdSchema = z.string().regex(/^[0-9a-f-]{36}$/, 'a Vault issuer id (UUID)');

/** What CompromiseValidate returns for any event, valid or not (a bad event is data, not an error). */
export const CompromiseValidateOutputSchema = z.object({
  valid: z.boolean(),
  reason: z.string().optional(),
  report: CompromiseReportSchema.optional(),
  /** The envelope's `time`, when it carried one: where the response's timings start. */
  reportedAt: z.string().optional(),
  /** `Compromise Rejected` for an invalid event (the state machine emits it), absent otherwise. */
  detailType: z.literal(CompromiseDetailTypes.Rejected).optional(),
  rejectedDetail: z.object({ reason: z.string(), reportedBy: z.string().optional(), receivedAt: z.string() }).optional(),
});
export type CompromiseValidateOutput = z.infer<typeof CompromiseValidateOutputSchema>;

/** CompromisePlan's input: `{runId: $$.Execution.Name, report: $.validated.report}`. */
export const CompromisePlanInputSchema = z.object({ runId: RunIdSchema, report: CompromiseReportSchema });
export type CompromisePlanInput = z.infer<typeof CompromisePlanInputSchema>;

/** `$.plan` of a compromise response: the blast radius, by name and serial. */
export const CompromisePlanSchema = z.object({
  runId: RunIdSchema,
  scope: z.enum(['services', 'serials', 'intermediate']),
  /** One key per scope however it was spelled (compromise-serials.ts scopeKey); '' when rejected. The lock carries it. */
  scopeKey: z.string(),
  /** False when the scope names anything certflow does not manage: the response ends Rejected, touching nothing. */
  accepted: z.boolean(),
  /** Why the scope was rejected; '' when accepted (a ResultSelector cannot copy an absent field). */
  rejectedReason: z.string(),
  affected: z.object({
    /** Services whose targets are reissued. */
    services: z.array(z.string()),
    /** Target ids (`<cluster>/<namespace>/<name>`) in the batches. */
    targetIds: z.array(z.string()),
    /** Leaf serials to revoke on the intermediate mount once the targets are reissued. */
    serialsToRevoke: z.array(SerialSchema),
    /** Intermediate scope: the compromised issuer and its certificate's serial (revoked on the root mount). */
    issuerId: IssuerIdSchema.optional(),
    issuerSerial: SerialSchema.optional(),
  }),
  /** Batches of affected targets in the ledger, for the rotation's batch tasks. */
  batchIds: z.array(z.string()),
});
export type CompromisePlan = z.infer<typeof CompromisePlanSchema>;

/** CompromiseRevoke's input: `{runId, serials: $.plan.affected.serialsToRevoke, issuerId?, rootSerial?}`. */
export const CompromiseRevokeInputSchema = z.object({
  runId: RunIdSchema,
  serials: z.array(z.string().regex(/^([0-9a-f]{2}[:-])*[0-9a-f]{2}$/i, 'a certificate serial in colon (or hyphen) hex')).max(10_000),
  issuerId: IssuerIdSchema.optional(),
  /** The compromised intermediate's serial on the root mount; read from the issuer when absent. */
  rootSerial: z.string().regex(/^([0-9a-f]{2}[:-])*[0-9a-f]{2}$/i, 'a certificate serial in colon (or hyphen) hex').optional(),
});
export type CompromiseRevokeInput = z.infer<typeof CompromiseRevokeInputSchema>;

export const CompromiseRevokeOutputSchema = z.object({
  runId: RunIdSchema,
  /** Serials now revoked (leaves on the intermediate mount; the intermediate's on the root mount). */
  revoked: z.array(SerialSchema),
  /** Serials Vault refused to add to a CRL because they had expired (its warning, VAULT_API.md 4.12). */
  expired: z.array(z.object({ serial: SerialSchema, warning: z.string() })),
  /** Issuer id -> the revoked serials its CRL lists, read back after `crl/rotate`. */
  onCrl: z.record(z.string(), z.array(SerialSchema)),
  issuerRevoked: z.boolean(),
  rootSerialRevoked: z.boolean(),
  /** Each namespace bundle republished without revoked issuers, and verified against (issue 12). */
  bundles: z.array(z.object({ cluster: z.string(), namespace: z.string(), certificates: z.number(), changed: z.boolean() })).default([]),
  /** Backup Secrets (`<cluster>/<namespace>/<name>`) deleted because they held a compromised key. */
  backupsDestroyed: z.array(z.string()),
});
export type CompromiseRevokeOutput = z.infer<typeof CompromiseRevokeOutputSchema>;

/** CompromiseReport's input: the report, when it was made, and the new issuer when one took over. */
export const CompromiseReportInputSchema = z.object({
  runId: RunIdSchema,
  report: CompromiseReportSchema,
  reportedAt: z.iso.datetime({ offset: true }).optional(),
  newIssuerId: IssuerIdSchema.optional(),
});
export type CompromiseReportInput = z.infer<typeof CompromiseReportInputSchema>;

/** Detail of `Compromise Contained` (never key material: names, serials, issuer ids, times). */
export const CompromiseContainedDetailSchema = z.object({
  runId: z.string(),
  reportedBy: z.string(),
  ticket: z.string().optional(),
  reason: RevocationReasonSchema,
  scope: z.enum(['services', 'serials', 'intermediate']),
  blastRadius: z.object({
    services: z.array(z.string()),
    serialsRevoked: z.array(z.string()),
    issuerIds: z.object({ revoked: z.string().optional(), new: z.string().optional() }),
    /** Backups deleted because they held a compromised key (a rollback could have restored it). */
    backupsDestroyed: z.array(z.string()),
  }),
  timings: z.object({ reportedAt: z.string().optional(), containedAt: z.string(), seconds: z.number() }),
});
export type CompromiseContainedDetail = z.infer<typeof CompromiseContainedDetailSchema>;

/** Ledger entries of a compromise response (one record each, under the response's run id). */
export const CompromiseLedgerEntries = { Plan: 'compromise#plan', Revoke: 'compromise#revoke', Contained: 'compromise#contained' } as const;
