import * as z from 'zod';
import { VaultNodeSchema } from './env';

/**
 * Payloads of the Unseal state machine. They carry node ids, URLs, states and reasons only:
 * never a share, a token or KMS plaintext (invariant I2).
 */

export const RunIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,80}$/, 'run id: 1-80 of A-Z a-z 0-9 _ . : -');

/** What a caller may put in an Unseal execution's input (the schedule sends {trigger: 'schedule'}). */
export const UnsealRequestSchema = z
  .object({
    trigger: z.enum(['schedule', 'cli', 'rotation', 'sandbox']).default('schedule'),
    /** Limit the run to these node ids (on demand); every configured node otherwise. */
    nodeIds: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

/**
 * Input of the first task: the state machine passes `{runId: $$.Execution.Name, request: $}`, so
 * the execution name is the run id on every log line and event.
 */
export const DiscoverNodesInputSchema = z.object({
  runId: RunIdSchema,
  request: UnsealRequestSchema.default({ trigger: 'schedule' }),
});
export type DiscoverNodesInput = z.infer<typeof DiscoverNodesInputSchema>;

export const DiscoverNodesOutputSchema = z.object({
  runId: RunIdSchema,
  trigger: z.string(),
  nodes: z.array(VaultNodeSchema),
});
export type DiscoverNodesOutput = z.infer<typeof DiscoverNodesOutputSchema>;

export const UnsealNodeInputSchema = z.object({
  runId: RunIdSchema,
  node: VaultNodeSchema,
});
export type UnsealNodeInput = z.infer<typeof UnsealNodeInputSchema>;

/** The reasons a node ends a run in the state it does; they flow unchanged into events. */
export const NodeOutcomes = [
  'AlreadyUnsealed',
  'Unsealed',
  'AutoUnsealSealed',
  'Uninitialized',
  /** The kill switch holds unseal: the node was left as it was (sealed or not), no share decrypted. */
  'Paused',
  'Failed',
] as const;
export const NodeOutcomeSchema = z.enum(NodeOutcomes);
export type NodeOutcome = z.infer<typeof NodeOutcomeSchema>;

export const UnsealNodeResultSchema = z.object({
  nodeId: z.string(),
  url: z.string(),
  outcome: NodeOutcomeSchema,
  sealType: z.string().optional(),
  sealed: z.boolean().optional(),
  /** True when stale progress from another attempt was reset first. */
  resetStaleProgress: z.boolean().default(false),
  sharesSubmitted: z.number().int().nonnegative().default(0),
  /** The error class name when outcome is Failed (from a Catch), else absent. */
  error: z.string().optional(),
  message: z.string().optional(),
});
export type UnsealNodeResult = z.infer<typeof UnsealNodeResultSchema>;

/** What a Catch inside the Map hands to the report: Step Functions' {Error, Cause}. */
export const CaughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

export const ReportUnsealInputSchema = z.object({
  runId: RunIdSchema,
  trigger: z.string(),
  results: z.array(
    z.union([
      UnsealNodeResultSchema,
      z.object({ node: VaultNodeSchema, failure: CaughtErrorSchema }),
    ]),
  ),
});
export type ReportUnsealInput = z.infer<typeof ReportUnsealInputSchema>;

export const ReportUnsealOutputSchema = z.object({
  runId: RunIdSchema,
  allUnsealed: z.boolean(),
  /** Detail-type of the event the state machine emits next. */
  detailType: z.enum(['Vault Unsealed', 'Vault Unseal Failed']),
  detail: z.record(z.string(), z.unknown()),
  nodes: z.array(UnsealNodeResultSchema),
});
export type ReportUnsealOutput = z.infer<typeof ReportUnsealOutputSchema>;
