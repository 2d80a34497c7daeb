import * as z from 'zod';
import { PlanInputSchema } from './rotation-payloads';
import { RefusedCandidateSchema } from './target-policy';
import { TargetKindSchema } from './targets';

/**
 * A dry run of the Plan step in the deployed PlanRotation function (`certflow plan --stack`): what
 * it would decide, computed by the half of the step that writes nothing (decideTargets). It is no
 * run: no run id, no lock, no ledger item, no event.
 */
export const PlanDryRunRequestSchema = z
  .object({
    /** As if an intermediate rotation were requested (`plan --intermediate`). */
    forceIntermediate: z.boolean().default(false),
    /** Only these services (names), as `rotate --service`. */
    services: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();
export type PlanDryRunRequest = z.infer<typeof PlanDryRunRequestSchema>;

/** `{dryRun: {...}}` and nothing else: an input that also carries a run is refused, never planned. */
export const PlanDryRunInputSchema = z.object({ dryRun: PlanDryRunRequestSchema }).strict();

function hasDryRun(event: unknown): boolean {
  return typeof event === 'object' && event !== null && Object.hasOwn(event, 'dryRun');
}

/**
 * PlanRotation's input: the Rotation's `{run}`, or a dry run. Any input that names `dryRun` is
 * parsed as a dry run only, so no mistake in one can reach the half of the step that writes; the
 * issues of the branch it took are reported, field by field.
 */
export const PlanRotationInputSchema = z.unknown().transform((event, ctx) => {
  const parsed = hasDryRun(event) ? PlanDryRunInputSchema.safeParse(event) : PlanInputSchema.safeParse(event);
  if (parsed.success) return parsed.data as z.infer<typeof PlanDryRunInputSchema> | z.infer<typeof PlanInputSchema>;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

const IssuerLineSchema = z.object({
  issuerId: z.string(),
  issuerName: z.string(),
  isDefault: z.boolean(),
  usage: z.array(z.string()),
  revoked: z.boolean(),
  serialNumber: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  remainingDays: z.number(),
});

/** One target's decision: its id, service and kind, and the renewal policy's reason (never its key or certificate). */
export const DryRunTargetSchema = z.object({ id: z.string(), service: z.string(), kind: TargetKindSchema, due: z.boolean(), reason: z.string(), detail: z.string() });
export type DryRunTarget = z.infer<typeof DryRunTargetSchema>;

/**
 * What a dry run answers, over the wire (JSON: dates are ISO strings): the issuers and whether the
 * intermediate is due, every target's decision, every candidate the target policy refused. The CLI
 * validates a function's answer with it before printing anything.
 */
export const PlanDryRunResultSchema = z.object({
  intermediateMount: z.string(),
  defaultIssuer: z.string().optional(),
  issuers: z.array(IssuerLineSchema),
  rotation: z.object({ due: z.boolean(), reason: z.string(), detail: z.string(), dueAt: z.string().optional() }),
  targets: z.array(DryRunTargetSchema),
  rejected: z.array(RefusedCandidateSchema),
});
export type PlanDryRunResult = z.infer<typeof PlanDryRunResultSchema>;
