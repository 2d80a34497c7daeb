import { EnvNames, type Env, type UnsealEnv, type VaultNode } from '../contracts/env';
import { InvalidInputError } from '../contracts/errors';
import { vaultNodesFromPods } from '../domain/vault-pod-nodes';
import type { Log } from '../ports/log';
import type { Cluster } from '../ports/cluster';
import { ClusterSpecListSchema, type ClusterSpec } from '../contracts/clusters';
import { RotationEnvNames } from '../contracts/rotation-env';

/** The discovery cluster's spec, from the same Clusters variable the rotation functions read. */
function clusterSpecOf(env: Env, name: string): ClusterSpec {
  const parsed = ClusterSpecListSchema.safeParse(JSON.parse(env[RotationEnvNames.Clusters] ?? '[]'));
  const spec = parsed.success ? parsed.data.find((entry) => entry.name === name) : undefined;
  if (!spec) throw new InvalidInputError(`vault.discovery names cluster ${name}, which ${RotationEnvNames.Clusters} does not hold`);
  return spec;
}

/**
 * The Vault nodes a function may contact: the configured ones, or (config vault.discovery) the
 * pods of the Vault StatefulSet read now, so a pod rescheduled to another IP is found at once.
 * Refused pods are logged with their reason (to the run's log when the caller gives it) and never
 * contacted.
 */
export function vaultNodesSource(unsealEnv: UnsealEnv, env: Env, log?: () => Log): (runLog?: Log) => Promise<VaultNode[]> {
  const configured = unsealEnv[EnvNames.VaultNodes];
  const discovery = unsealEnv[EnvNames.VaultDiscovery];
  if (!discovery) {
    if (!configured) throw new InvalidInputError(`neither ${EnvNames.VaultNodes} nor ${EnvNames.VaultDiscovery} is set`);
    return async () => [...configured];
  }
  // Loaded only with discovery: the Kubernetes client is the large part of the bundle, and the
  // Unseal functions of a deployment with configured nodes never need it.
  let cluster: Promise<Cluster> | undefined;
  return async (runLog) => {
    cluster ??= import('./kubernetes/kube-auth').then(({ clusterFromSpec }) => clusterFromSpec(clusterSpecOf(env, discovery.cluster), { env }));
    const pods = await (await cluster).listPods(discovery.namespace, discovery.labelSelector);
    const { nodes, refused } = vaultNodesFromPods(pods, discovery);
    if (refused.length) (runLog ?? log?.())?.warn('pods matching the Vault selector refused as nodes', { refused });
    return nodes;
  };
}
