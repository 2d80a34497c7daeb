/**
 * The rollout budget (issue 16; istio-csr #217: restarting 30+ Deployments at once took a
 * cluster down): which waiting workload restarts may start now so that no more than the budget
 * are restarting at once in one cluster and in one namespace. Pure: the caller reads which
 * workloads are restarting (restarted by this run, rollout not complete) and which wait.
 *
 * The unit is the workload, not the target: a service with more workloads than the budget still
 * renews, one wave at a time, and the bound holds without an exception. Waiting workloads are
 * admitted in the order given (the batch's order), so every wave is the next in line and none
 * waits for ever while later ones start.
 */
export interface WorkloadRef {
  cluster: string;
  namespace: string;
  workload: string;
}

export interface RolloutBudget {
  /** @default no bound */
  perCluster?: number;
  /** @default no bound */
  perNamespace?: number;
}

export interface RestartAdmission {
  admitted: WorkloadRef[];
  /** Waiting for a slot, with the bound that holds them back. */
  deferred: Array<WorkloadRef & { heldBy: 'cluster' | 'namespace' }>;
}

export function admitRestarts(waiting: readonly WorkloadRef[], restarting: readonly WorkloadRef[], budget: RolloutBudget): RestartAdmission {
  const inCluster = new Map<string, number>();
  const inNamespace = new Map<string, number>();
  const count = (ref: WorkloadRef) => {
    inCluster.set(ref.cluster, (inCluster.get(ref.cluster) ?? 0) + 1);
    inNamespace.set(`${ref.cluster}/${ref.namespace}`, (inNamespace.get(`${ref.cluster}/${ref.namespace}`) ?? 0) + 1);
  };
  restarting.forEach(count);
  const admitted: WorkloadRef[] = [];
  const deferred: RestartAdmission['deferred'] = [];
  for (const ref of waiting) {
    if (budget.perCluster !== undefined && (inCluster.get(ref.cluster) ?? 0) >= budget.perCluster) deferred.push({ ...ref, heldBy: 'cluster' });
    else if (budget.perNamespace !== undefined && (inNamespace.get(`${ref.cluster}/${ref.namespace}`) ?? 0) >= budget.perNamespace) deferred.push({ ...ref, heldBy: 'namespace' });
    else {
      admitted.push(ref);
      count(ref);
    }
  }
  return { admitted, deferred };
}
