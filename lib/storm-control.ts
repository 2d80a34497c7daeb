import type { StormControl } from '../functions/contracts/storm-control';
import type { CertflowConfig } from './config';

/**
 * The share of the fleet-wide storm budgets each batch Lambda gets: the fan-out runs at most
 * `policy.concurrency` batches at once, so a share of budget / concurrency per batch keeps the
 * sum within the budget with no state shared between the Lambdas (config refuses a rollout
 * budget below the concurrency, which would leave a batch no restart at all).
 */
export function stormControlOf(policy: CertflowConfig['policy']): StormControl {
  const share = (total: number) => Math.max(1, Math.floor(total / policy.concurrency));
  return {
    ...(policy.rolloutBudget ? { restartsPerCluster: share(policy.rolloutBudget.perCluster), restartsPerNamespace: share(policy.rolloutBudget.perNamespace) } : {}),
    ...(policy.issuanceBudget ? { issuancesPerSecond: policy.issuanceBudget.perSecond / policy.concurrency } : {}),
    renewalJitter: policy.renewalJitter,
  };
}
