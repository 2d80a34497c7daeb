import * as z from 'zod';

/**
 * The kill switch (issue 13 item 5): `certflow pause|resume unseal|rotation|all`. One ledger-table
 * item per workflow (`pk = kill-switch`, `sk = unseal | rotation | all`), written by the operator's
 * CLI and read by the first step that acts: UnsealNode before any share leaves KMS, Preflight
 * before a rotation touches anything. A deliberate incident seal then stays sealed.
 */
export const PausableWorkflows = ['unseal', 'rotation'] as const;
export const PauseTargetSchema = z.enum(['unseal', 'rotation', 'all']);
export type PauseTarget = z.infer<typeof PauseTargetSchema>;
export type PausableWorkflow = (typeof PausableWorkflows)[number];

export const PauseKey = { pk: 'kill-switch' } as const;

/** What a pause item holds: who paused, when and why (identifiers and text, no secret). */
export const PauseRecordSchema = z.object({
  pausedBy: z.string().min(1).max(2048),
  pausedAt: z.string().min(1).max(64),
  reason: z.string().max(500).optional(),
});
export type PauseRecord = z.infer<typeof PauseRecordSchema>;
