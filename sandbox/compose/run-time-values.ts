import { EnvNames, PkiEnvNames } from '../../functions/contracts/env';
import { RotationEnvNames } from '../../functions/contracts/rotation-env';
import { runTimeParameterName, type RunTimeValueName } from '../../functions/contracts/run-time-values';
import type { SecretsManagerEmulatorHandle } from '../secrets-manager/secrets-manager-emulator';
import type { SsmEmulatorHandle } from '../ssm/ssm-emulator';

/** What only the running sandbox knows: its nodes' and servers' loopback addresses and CAs, its cluster's token. */
export interface SandboxRunTimeValues {
  /** Absent when the config discovers its nodes (vault.discovery): the template then declares no nodes parameter. */
  vaultNodes?: ReadonlyArray<{ id: string; url: string }>;
  /** The sandbox has no load balancer: one node's address stands in for the cluster's. */
  vaultAddress: string;
  /** The CA (PEM) of the nodes' HTTPS listeners, made at the sandbox's start: pinned as a deployment pins its Vault's CA. */
  vaultCaCertificate: string;
  /** The declared policy with each service's endpoint where its sandbox server listens. */
  targetPolicy: unknown;
  maxRolloutChecks: number;
  /** The one Kubernetes API emulator every declared cluster is served by. */
  cluster: { server: string; token: string; caData: string };
}

/**
 * Fills in the run-time values the template declares (functions/contracts/run-time-values.ts), as
 * an operator would after `cdk deploy`: each SSM parameter gets the sandbox's value, and each
 * cluster's token secret the emulator's token. The functions' environments stay exactly the
 * template's; they read these at cold start. A parameter the template does not declare is left
 * alone, so a template without one makes its function fail visibly rather than run on a guess.
 */
export function fillRunTimeValues(
  services: { ssm: SsmEmulatorHandle; secretsManager: SecretsManagerEmulatorHandle },
  deploymentName: string,
  declaredSecretArns: readonly string[],
  values: SandboxRunTimeValues,
): void {
  const write = (variable: RunTimeValueName, value: (current: string) => string) => {
    const name = runTimeParameterName(deploymentName, variable);
    const current = services.ssm.parameterValue(name);
    if (current !== undefined) services.ssm.putParameter(name, value(current));
  };
  const vaultNodes = values.vaultNodes;
  if (vaultNodes) write(EnvNames.VaultNodes, () => JSON.stringify(vaultNodes));
  else if (services.ssm.parameterValue(runTimeParameterName(deploymentName, EnvNames.VaultNodes)) !== undefined) {
    // A discovery config with a template of configured nodes: the functions would dial the
    // template's nodes, not the pods, so the two disagree and nothing runs.
    throw new Error(`the template declares ${EnvNames.VaultNodes} but the config discovers its Vault nodes: synthesize the template from this config`);
  }
  write(PkiEnvNames.VaultAddress, () => values.vaultAddress);
  write(EnvNames.VaultCaPem, () => values.vaultCaCertificate);
  write(RotationEnvNames.TargetPolicy, () => JSON.stringify(values.targetPolicy));
  write(RotationEnvNames.MaxRolloutChecks, () => String(values.maxRolloutChecks));
  write(RotationEnvNames.Clusters, (current) => {
    const clusters = JSON.parse(current) as Array<Record<string, unknown>>;
    return JSON.stringify(
      clusters.map((cluster) => {
        // Only a token cluster whose token secret the stack declares can be pointed at the emulator
        // without putting a credential anywhere but in that secret.
        const secretArn = cluster.tokenSecretArn;
        if (cluster.auth !== 'token' || typeof secretArn !== 'string' || !declaredSecretArns.includes(secretArn)) {
          throw new Error(`the sandbox serves only token clusters whose token secret the stack declares; cluster ${String(cluster.name)} is not one`);
        }
        services.secretsManager.putSecretValue(secretArn, values.cluster.token);
        return { auth: 'token', name: cluster.name, server: values.cluster.server, tokenSecretArn: secretArn, caData: values.cluster.caData };
      }),
    );
  });
}
