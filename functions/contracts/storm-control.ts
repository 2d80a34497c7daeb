import * as z from 'zod';

/**
 * Storm control for one batch Lambda (issue 16; istio-csr #217, cert-manager #7572): how many
 * workloads of a batch may be restarting at once per cluster and per namespace, how many Vault
 * issuances it may ask for per second, and how far into `renewBefore` a renewal may be spread.
 * The stack divides the operator's fleet-wide budgets (config `policy.rolloutBudget`,
 * `policy.issuanceBudget`) by `policy.concurrency`, the number of batches the Map runs at once,
 * so the batches together never exceed them without sharing any state.
 */
export const StormControlSchema = z.strictObject({
  /** Workloads of one batch restarting at once in one cluster; absent: no bound. */
  restartsPerCluster: z.number().int().min(1).optional(),
  /** Workloads of one batch restarting at once in one namespace; absent: no bound. */
  restartsPerNamespace: z.number().int().min(1).optional(),
  /** Vault issuances (leaf issue, mesh CA signing, cert-manager renewal) one batch starts per second; absent: no bound. */
  issuancesPerSecond: z.number().positive().optional(),
  /** Up to this fraction of `renewBefore`, a certificate's renewal time moves later, by its serial. @default 0 */
  renewalJitter: z.number().min(0).max(0.9).default(0),
});
export type StormControl = z.infer<typeof StormControlSchema>;
