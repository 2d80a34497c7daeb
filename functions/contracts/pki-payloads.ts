import * as z from 'zod';
import { RunIdSchema } from './unseal-payloads';

/** Payloads of the PKI steps: issuer ids, names, serials and dates only (I2). */
const IssuerId = z.string().min(1).max(128);

export const PrepareIntermediateInputSchema = z.object({
  runId: RunIdSchema,
  /** A compromise response is never refused by the issuer bound (pki.maxIssuersPerMount): containment comes first. @default 'rotation' */
  purpose: z.enum(['rotation', 'compromise']).default('rotation'),
});
export type PrepareIntermediateInput = z.infer<typeof PrepareIntermediateInputSchema>;

export const PreparedIntermediateSchema = z.object({
  runId: RunIdSchema,
  issuerId: IssuerId,
  issuerName: z.string(),
  keyId: z.string(),
  serialNumber: z.string(),
  notAfter: z.string(),
  /** True when an earlier attempt of this run had already made the issuer. */
  reused: z.boolean(),
});
export type PreparedIntermediate = z.infer<typeof PreparedIntermediateSchema>;

export const ActivateIssuerInputSchema = z.object({
  runId: RunIdSchema,
  issuerId: IssuerId,
  /** The default recorded by preflight: activation refuses if someone moved it since. */
  expectedPreviousDefault: IssuerId,
});
export type ActivateIssuerInput = z.infer<typeof ActivateIssuerInputSchema>;

export const ActivateIssuerOutputSchema = z.object({ runId: RunIdSchema, activeIssuerId: IssuerId, previousDefault: IssuerId, changed: z.boolean() });
export type ActivateIssuerOutput = z.infer<typeof ActivateIssuerOutputSchema>;

export const RetireIssuerInputSchema = z.object({ runId: RunIdSchema, issuerId: IssuerId });
export type RetireIssuerInput = z.infer<typeof RetireIssuerInputSchema>;

export const RestoreIssuerInputSchema = z.object({
  runId: RunIdSchema,
  previousDefault: IssuerId,
  /** The run's new issuer, if one was made: it stops issuing. */
  newIssuerId: IssuerId.optional(),
});
export type RestoreIssuerInput = z.infer<typeof RestoreIssuerInputSchema>;

export const IssuerStateOutputSchema = z.object({ runId: RunIdSchema, issuerId: IssuerId, usage: z.array(z.string()), isDefault: z.boolean() });
export type IssuerStateOutput = z.infer<typeof IssuerStateOutputSchema>;

export const RestoreIssuerOutputSchema = z.object({ runId: RunIdSchema, defaultIssuer: IssuerId, newIssuerUsage: z.array(z.string()).optional() });
export type RestoreIssuerOutput = z.infer<typeof RestoreIssuerOutputSchema>;
