import type { CheckBatchInput, CheckBatchOutput } from '../contracts/fanout-payloads';
import type { Target } from '../contracts/targets';
import { admitRestarts, type WorkloadRef } from '../domain/rollout-budget';
import type { RolloutStatus } from '../ports/cluster';
import { restartWorkloads } from './renew-batch';
import type { FanoutDeps } from './fanout-deps';
import { mapBounded } from './bounded-map';

/**
 * CheckBatch: one look at a batch's progress, for the state machine's bounded wait loop
 * (DESIGN.md steps 7-8). A cert-manager target is done when its Certificate is Ready with a newer
 * revision and no longer Issuing; its workloads are then restarted (once: the restart time is the
 * run's). Every target is done when each of its workloads has rolled out.
 *
 * With a rollout budget (config policy.rolloutBudget, this batch's share) the restarts start
 * here, in waves: each look counts the batch's workloads this run restarted whose rollout is not
 * complete, and starts the next waiting ones only while the cluster and the namespace stay within
 * the budget (domain/rollout-budget.ts). Each wave is in the output (`restartedNow`).
 */
export async function checkBatch(deps: FanoutDeps, input: CheckBatchInput): Promise<CheckBatchOutput> {
  const budget = { perCluster: deps.storm?.restartsPerCluster, perNamespace: deps.storm?.restartsPerNamespace };
  if (budget.perCluster !== undefined || budget.perNamespace !== undefined) return checkWithinBudget(deps, input, budget);
  const waits = await mapBounded(input.targets, deps.targetConcurrency ?? 1, async (target): Promise<CheckBatchOutput['pending'][number] | undefined> => {
    const cluster = deps.cluster(target.cluster);
    if (target.kind === 'cert-manager') {
      const waiting = await waitingForCertManager(deps, input, target);
      if (waiting) return waiting;
      await restartWorkloads(deps, target, input.requestedAt);
    }
    for (const workload of target.workloads) {
      const status = await cluster.rolloutStatus(target.namespace, workload);
      if (!status.complete) return { id: target.id, waitingFor: rolloutWait(target, workload, status) };
    }
    return undefined;
  });
  const pending = waits.filter((wait): wait is CheckBatchOutput['pending'][number] => wait !== undefined);
  return { runId: input.runId, done: pending.length === 0, pending };
}

async function waitingForCertManager(deps: FanoutDeps, input: CheckBatchInput, target: Target): Promise<CheckBatchOutput['pending'][number] | undefined> {
  const previous = input.renewed?.find((entry) => entry.id === target.id)?.previousRevision ?? 0;
  const certificate = await deps.cluster(target.cluster).readCertificate(target.namespace, target.certificateName ?? target.secretName);
  if (!certificate || certificate.issuing || !certificate.ready || certificate.revision <= previous) {
    return { id: target.id, waitingFor: `cert-manager to issue revision ${previous + 1} of ${target.certificateName ?? target.secretName}` };
  }
  return undefined;
}

function rolloutWait(target: Target, workload: string, status: RolloutStatus): string {
  return `rollout of ${target.namespace}/${workload} (generation ${status.generation}, observed ${status.observedGeneration}, ${status.readyReplicas}/${status.replicas} ready)`;
}

interface WorkloadLook {
  ref: WorkloadRef;
  status: RolloutStatus;
  /** Restarted by this run: its template carries the run's restart time. */
  restarted: boolean;
}

const keyOf = (ref: WorkloadRef) => `${ref.cluster}/${ref.namespace}/${ref.workload}`;

async function checkWithinBudget(deps: FanoutDeps, input: CheckBatchInput, budget: { perCluster?: number; perNamespace?: number }): Promise<CheckBatchOutput> {
  const at = Date.parse(input.requestedAt);
  const looks = await mapBounded(input.targets, deps.targetConcurrency ?? 1, async (target) => {
    // A cert-manager target's workloads wait for its new certificate before they may restart.
    const waiting = target.kind === 'cert-manager' ? await waitingForCertManager(deps, input, target) : undefined;
    const workloads: WorkloadLook[] = [];
    for (const workload of waiting ? [] : target.workloads) {
      const status = await deps.cluster(target.cluster).rolloutStatus(target.namespace, workload);
      workloads.push({ ref: { cluster: target.cluster, namespace: target.namespace, workload }, status, restarted: status.restartedAt !== undefined && Date.parse(status.restartedAt) === at });
    }
    return { target, waiting, workloads };
  });

  const all = new Map<string, WorkloadLook>();
  for (const look of looks) for (const workload of look.workloads) all.set(keyOf(workload.ref), workload);
  const restarting = [...all.values()].filter((look) => look.restarted && !look.status.complete).map((look) => look.ref);
  const waitingRefs = [...all.values()].filter((look) => !look.restarted).map((look) => look.ref);
  const admission = admitRestarts(waitingRefs, restarting, budget);
  await mapBounded(admission.admitted, deps.targetConcurrency ?? 1, (ref) => deps.cluster(ref.cluster).restartDeployment(ref.namespace, ref.workload, new Date(input.requestedAt)));
  const admitted = new Set(admission.admitted.map(keyOf));
  const deferred = new Map(admission.deferred.map((ref) => [keyOf(ref), ref.heldBy]));
  if (admission.admitted.length) deps.log.info('restart wave started', { workloads: admission.admitted.map(keyOf), restarting: restarting.length, deferred: admission.deferred.length });

  const pending: CheckBatchOutput['pending'] = [];
  for (const look of looks) {
    if (look.waiting) {
      pending.push(look.waiting);
      continue;
    }
    for (const workload of look.workloads) {
      const key = keyOf(workload.ref);
      const heldBy = deferred.get(key);
      if (heldBy) {
        const bound = heldBy === 'cluster' ? `${budget.perCluster} restarting in cluster ${workload.ref.cluster}` : `${budget.perNamespace} restarting in namespace ${workload.ref.namespace}`;
        pending.push({ id: look.target.id, waitingFor: `a restart slot for ${workload.ref.namespace}/${workload.ref.workload} (rollout budget: ${bound})` });
        break;
      }
      if (admitted.has(key) || !workload.status.complete) {
        pending.push({ id: look.target.id, waitingFor: admitted.has(key) ? `rollout of ${workload.ref.namespace}/${workload.ref.workload} (restarted in this wave)` : rolloutWait(look.target, workload.ref.workload, workload.status) });
        break;
      }
    }
  }
  return { runId: input.runId, done: pending.length === 0, pending, ...(admission.admitted.length ? { restartedNow: admission.admitted.map(keyOf) } : {}) };
}
