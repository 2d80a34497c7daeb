import { DetailTypes } from '../contracts/events';
import { ErrorNames } from '../contracts/errors';
import { Metrics } from '../contracts/functions';
import type { ReportUnsealInput, ReportUnsealOutput, UnsealNodeResult } from '../contracts/unseal-payloads';
import type { UnsealEventDetail } from '../contracts/events';
import type { VaultSys } from '../ports/vault-sys';
import type { MetricsSink } from '../ports/metrics-sink';
import type { Log } from '../ports/log';

export interface ReportUnsealDeps {
  clusterId: string;
  vaultFor(nodeUrl: string): VaultSys;
  metrics: MetricsSink;
  log: Log;
}

/** Lambda puts `{errorType, errorMessage}` in a Catch's Cause; our messages are safe to carry. */
function causeMessage(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause.slice(0, 500);
  } catch {
    return cause.slice(0, 500);
  }
}

/**
 * Verifies the run (DESIGN.md Unseal step 3): re-reads every node rather than trusting the Map's
 * results, publishes a VaultSealed gauge per node and the count of sealed nodes (the alarm's
 * metric), and builds the `Vault Unsealed` / `Vault Unseal Failed` event.
 */
export async function reportUnseal(deps: ReportUnsealDeps, input: ReportUnsealInput): Promise<ReportUnsealOutput> {
  const nodes: UnsealNodeResult[] = input.results.map((result) =>
    'failure' in result
      ? {
          nodeId: result.node.id,
          url: result.node.url,
          outcome: 'Failed',
          resetStaleProgress: false,
          sharesSubmitted: 0,
          error: result.failure.Error,
          ...(causeMessage(result.failure.Cause) ? { message: causeMessage(result.failure.Cause) } : {}),
        }
      : result,
  );

  let sealedCount = 0;
  for (const node of nodes) {
    const now = await deps
      .vaultFor(node.url)
      .sealStatus()
      .catch((error: Error) => {
        deps.log.warn('could not re-read node status', { nodeId: node.nodeId, error: error.name });
        return undefined;
      });
    // An unreachable node counts as sealed: the alarm must not go quiet because a node vanished.
    const sealed = now ? now.sealed || !now.initialized : true;
    node.sealed = sealed;
    if (sealed) sealedCount += 1;
    deps.metrics.gauge(Metrics.VaultSealed, sealed ? 1 : 0, { [Metrics.ClusterDimension]: deps.clusterId, [Metrics.NodeDimension]: node.nodeId });
  }
  deps.metrics.gauge(Metrics.VaultSealedNodes, sealedCount, { [Metrics.ClusterDimension]: deps.clusterId });
  // Published on every run (0 when none): a node that is not the configured Vault pages at once.
  const impostors = nodes.filter((node) => node.error === ErrorNames.VaultIdentityMismatch).length;
  deps.metrics.gauge(Metrics.VaultImpostorNodes, impostors, { [Metrics.ClusterDimension]: deps.clusterId });
  if (impostors > 0) deps.log.error('nodes refused as not the configured Vault', { impostors });
  // 1 while the kill switch holds a sealed node sealed: the sealed alarm then has its reason.
  const paused = nodes.filter((node) => node.outcome === 'Paused').length;
  deps.metrics.gauge(Metrics.UnsealPausedNodes, paused, { [Metrics.ClusterDimension]: deps.clusterId });
  deps.metrics.flush();

  const allUnsealed = nodes.length > 0 && sealedCount === 0;
  const detail: UnsealEventDetail = {
    runId: input.runId,
    trigger: input.trigger,
    clusterId: deps.clusterId,
    nodes: nodes.map((node) => ({
      nodeId: node.nodeId,
      outcome: node.outcome,
      ...(node.sealed === undefined ? {} : { sealed: node.sealed }),
      ...(node.error ? { error: node.error } : {}),
      ...(node.message ? { message: node.message } : {}),
    })),
  };
  deps.log.info('unseal run verified', { allUnsealed, sealedCount, nodes: nodes.length });
  return {
    runId: input.runId,
    allUnsealed,
    detailType: allUnsealed ? DetailTypes.VaultUnsealed : DetailTypes.VaultUnsealFailed,
    detail,
    nodes,
  };
}
