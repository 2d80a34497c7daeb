import { EnvNames, UnsealEnvSchema } from '../../functions/contracts/env';
import { buildUnsealAdapters } from '../../functions/adapters/unseal-wiring';
import { initializeVault, type VaultInitResult } from '../../functions/steps/vault-init';
import { parseEnv } from '../../functions/handlers/kit/handler-kit';
import type { Log } from '../../functions/ports/log';
import type { LocalRunner } from '../runner/local-runner';

/** A quiet log for bootstrap steps run outside a Lambda (the CLI prints its own lines). */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * `certflow vault-init` on the sandbox: the real step with the real adapters, configured from the
 * UnsealNode function's own template environment (share table, KMS key, cluster id), so the
 * shares land exactly where the deployed function will look for them.
 */
export async function initSandboxVault(
  cloud: { runner: LocalRunner; sandbox: { config: { vault: { shares: number; threshold: number } } } },
  options: { nodeId?: string; log?: Log } = {},
): Promise<VaultInitResult> {
  const env = cloud.runner.functionEnv('UnsealNode');
  const unsealEnv = parseEnv(UnsealEnvSchema, env);
  const adapters = buildUnsealAdapters(unsealEnv, env);
  const node = options.nodeId
    ? unsealEnv[EnvNames.VaultNodes].find((candidate) => candidate.id === options.nodeId)
    : unsealEnv[EnvNames.VaultNodes][0];
  if (!node) throw new Error(`no Vault node ${options.nodeId ?? ''} in the sandbox`);
  return initializeVault(
    { vault: adapters.vaultFor(node.url), keys: adapters.keys, shares: adapters.shares, clusterId: unsealEnv[EnvNames.VaultClusterId], log: options.log ?? silentLog },
    { shares: cloud.sandbox.config.vault.shares, threshold: cloud.sandbox.config.vault.threshold },
  );
}
