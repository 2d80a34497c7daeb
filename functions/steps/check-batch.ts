import type { CheckBatchInput, CheckBatchOutput } from '../contracts/fanout-payloads';
import { restartWorkloads } from './renew-batch';
import type { FanoutDeps } from './fanout-deps';
import { mapBounded } from './bounded-map';

/**
 * CheckBatch: one look at a batch's progress, for the state machine's bounded wait loop
 * (DESIGN.md steps 7-8). A cert-manager target is done when its Certificate is Ready with a newer
 * revision and no longer Issuing; its workloads are then restarted (once: the restart time is the
 * run's). Every target is done when each of its workloads has rolled out.
 */
export async function checkBatch(deps: FanoutDeps, input: CheckBatchInput): Promise<CheckBatchOutput> {
  const waits = await mapBounded(input.targets, deps.targetConcurrency ?? 1, async (target): Promise<CheckBatchOutput['pending'][number] | undefined> => {
    const cluster = deps.cluster(target.cluster);
    if (target.kind === 'cert-manager') {
      const previous = input.renewed?.find((entry) => entry.id === target.id)?.previousRevision ?? 0;
      const certificate = await cluster.readCertificate(target.namespace, target.certificateName ?? target.secretName);
      if (!certificate || certificate.issuing || !certificate.ready || certificate.revision <= previous) {
        return { id: target.id, waitingFor: `cert-manager to issue revision ${previous + 1} of ${target.certificateName ?? target.secretName}` };
      }
      await restartWorkloads(deps, target, input.requestedAt);
    }
    for (const workload of target.workloads) {
      const status = await cluster.rolloutStatus(target.namespace, workload);
      if (!status.complete) {
        return { id: target.id, waitingFor: `rollout of ${target.namespace}/${workload} (generation ${status.generation}, observed ${status.observedGeneration}, ${status.readyReplicas}/${status.replicas} ready)` };
      }
    }
    return undefined;
  });
  const pending = waits.filter((wait): wait is CheckBatchOutput['pending'][number] => wait !== undefined);
  return { runId: input.runId, done: pending.length === 0, pending };
}
