import * as z from 'zod';

/**
 * The `Compromise Reported` event (DESIGN.md Compromise response; issue 6). Reason codes are
 * RFC 5280 section 5.3.1's CRLReason names. Validated in the response's first step: an invalid
 * event produces `Compromise Rejected` and changes nothing.
 */
export const CompromiseDetailTypes = {
  Reported: 'Compromise Reported',
  Rejected: 'Compromise Rejected',
  Contained: 'Compromise Contained',
  ResponseFailed: 'Compromise Response Failed',
  /** An intermediate report waits for `certflow approve`/`deny`: the blast radius, and the task token the callback needs. */
  ApprovalRequested: 'Compromise Approval Requested',
} as const;

/** The source reporters put on their events (the bus policy and the rule accept only it). */
export const CompromiseSource = 'certflow.security';

export const RevocationReasons = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
] as const;
export const RevocationReasonSchema = z.enum(RevocationReasons);

/**
 * A serial as reporters copy it: colon or hyphen separated, or bare hex as OpenSSL prints it, with
 * or without a leading zero byte; at most 20 octets (RFC 5280 4.1.2.2). The domain's
 * canonicalSerial compares them by value; the contract only bounds the text.
 */
const Serial = z
  .string()
  .max(64)
  .regex(/^(?:[0-9a-f]{1,2}(?::[0-9a-f]{1,2})*|[0-9a-f]{1,2}(?:-[0-9a-f]{1,2})*|[0-9a-f]+)$/i, 'a certificate serial in colon, hyphen or bare hex');
/**
 * Free text a person wrote (who reports, the ticket): it reaches events, logs and terminals, so
 * it is bounded and printable: no control or format characters (ANSI escapes, bidi overrides,
 * newlines that forge log lines), no leading or trailing space.
 */
export const PrintableText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{C}\p{Zl}\p{Zp}]+$/u, 'printable text only (no control, format or line-separator characters)')
    .refine((text) => text.trim() === text, 'no leading or trailing whitespace');
const ServiceName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a service name (DNS-1123 label)');

export const CompromiseScopeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('services'), services: z.array(ServiceName).min(1).max(1000) }).strict(),
  z.object({ kind: z.literal('serials'), serials: z.array(Serial).min(1).max(1000) }).strict(),
  z.object({ kind: z.literal('intermediate'), issuerId: z.string().regex(/^[0-9a-f-]{36}$/, 'a Vault issuer id (UUID)') }).strict(),
]);
export type CompromiseScope = z.infer<typeof CompromiseScopeSchema>;

export const CompromiseReportSchema = z
  .object({
    scope: CompromiseScopeSchema,
    reason: RevocationReasonSchema,
    reportedBy: PrintableText(256),
    ticket: PrintableText(128).optional(),
  })
  .strict();
export type CompromiseReport = z.infer<typeof CompromiseReportSchema>;

/** The EventBridge envelope as a rule delivers it to the state machine's input. */
export const CompromiseEventSchema = z.object({
  source: z.literal(CompromiseSource),
  'detail-type': z.literal(CompromiseDetailTypes.Reported),
  detail: CompromiseReportSchema,
});
