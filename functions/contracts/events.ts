import * as z from 'zod';
import { NodeOutcomeSchema } from './unseal-payloads';

/** Every certflow event has this source on the certflow bus. */
export const EventSource = 'certflow';

export const DetailTypes = {
  VaultUnsealed: 'Vault Unsealed',
  VaultUnsealFailed: 'Vault Unseal Failed',
} as const;

/** Detail of `Vault Unsealed` and `Vault Unseal Failed`: per-node outcomes, never key material. */
export const UnsealEventDetailSchema = z.object({
  runId: z.string(),
  trigger: z.string(),
  clusterId: z.string(),
  nodes: z.array(
    z.object({
      nodeId: z.string(),
      outcome: NodeOutcomeSchema,
      sealed: z.boolean().optional(),
      error: z.string().optional(),
      message: z.string().optional(),
    }),
  ),
});
export type UnsealEventDetail = z.infer<typeof UnsealEventDetailSchema>;
