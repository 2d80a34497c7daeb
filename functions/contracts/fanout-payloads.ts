import * as z from 'zod';
import { RunIdSchema } from './unseal-payloads';
import { TargetSchema } from './targets';

/** Payloads of the Kubernetes steps: target names, serials, revisions and verdicts only (I2). */
const BatchBase = {
  runId: RunIdSchema,
  /** When the run asked for restarts: the restartedAt annotation value, so a retry restarts nothing twice. */
  requestedAt: z.iso.datetime(),
  targets: z.array(TargetSchema).min(1).max(500),
};

export const RenewBatchInputSchema = z.object(BatchBase);
export type RenewBatchInput = z.infer<typeof RenewBatchInputSchema>;

export const RenewedTargetSchema = z.object({
  id: z.string(),
  service: z.string(),
  kind: z.string(),
  state: z.enum(['Renewed', 'RenewalRequested', 'AlreadyRenewed']),
  oldSerial: z.string().optional(),
  newSerial: z.string().optional(),
  previousRevision: z.number().int().optional(),
  backupSecret: z.string().optional(),
  restarted: z.array(z.string()),
});
export type RenewedTarget = z.infer<typeof RenewedTargetSchema>;

export const RenewBatchOutputSchema = z.object({ runId: RunIdSchema, renewed: z.array(RenewedTargetSchema) });
export type RenewBatchOutput = z.infer<typeof RenewBatchOutputSchema>;

export const CheckBatchInputSchema = z.object({ ...BatchBase, renewed: z.array(RenewedTargetSchema).optional() });
export type CheckBatchInput = z.infer<typeof CheckBatchInputSchema>;

export const CheckBatchOutputSchema = z.object({
  runId: RunIdSchema,
  done: z.boolean(),
  pending: z.array(z.object({ id: z.string(), waitingFor: z.string() })),
  /** The restart wave this look started under a rollout budget (`cluster/namespace/workload`). */
  restartedNow: z.array(z.string()).optional(),
});
export type CheckBatchOutput = z.infer<typeof CheckBatchOutputSchema>;

export const VerifyBatchInputSchema = z.object({ runId: RunIdSchema, targets: BatchBase.targets });
export type VerifyBatchInput = z.infer<typeof VerifyBatchInputSchema>;

export const TargetVerdictSchema = z.object({
  id: z.string(),
  service: z.string(),
  valid: z.boolean(),
  /** One of the trust checker's reasons, or NoApplicationData / EndpointUnreachable / SecretMissing. */
  reason: z.string(),
  detail: z.string(),
  servedSerial: z.string().optional(),
  secretSerial: z.string().optional(),
  handshake: z.boolean(),
  /**
   * false when the handshake ran without certflow's client certificate (a rollback whose verifier
   * identity could not be issued): the served chain was verified, application data was not exchanged.
   */
  clientAuth: z.boolean().optional(),
});
export type TargetVerdict = z.infer<typeof TargetVerdictSchema>;

export const VerifyBatchOutputSchema = z.object({ runId: RunIdSchema, allValid: z.boolean(), verdicts: z.array(TargetVerdictSchema) });
export type VerifyBatchOutput = z.infer<typeof VerifyBatchOutputSchema>;

export const RestoreBatchInputSchema = z.object(BatchBase);
export type RestoreBatchInput = z.infer<typeof RestoreBatchInputSchema>;

export const RestoreBatchOutputSchema = z.object({
  runId: RunIdSchema,
  restored: z.array(z.object({ id: z.string(), restored: z.boolean(), detail: z.string(), restarted: z.array(z.string()) })),
});
export type RestoreBatchOutput = z.infer<typeof RestoreBatchOutputSchema>;

export const PublishTrustInputSchema = z.object({
  runId: RunIdSchema,
  /** Where the bundle goes: `<cluster>/<namespace>` for each namespace with targets. */
  namespaces: z.array(z.object({ cluster: z.string(), namespace: z.string() })).min(1),
  /** The issuers consumers must trust: the root, plus both intermediates during an overlap. */
  mode: z.enum(['publish', 'restore']).default('publish'),
});
export type PublishTrustInput = z.infer<typeof PublishTrustInputSchema>;
