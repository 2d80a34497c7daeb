import { EnvNames, UnsealEnvSchema, type Env } from '../../functions/contracts/env';
import { vaultNodesSource } from '../../functions/adapters/vault-node-discovery';
import { NodeNotFoundError } from '../../functions/contracts/errors';
import { buildUnsealAdapters } from '../../functions/adapters/unseal-wiring';
import { initializeVault, type VaultInitResult } from '../../functions/steps/vault-init';
import { parseEnv } from '../../functions/handlers/kit/handler-kit';
import type { Log } from '../../functions/ports/log';
import type { LocalRunner } from '../runner/local-runner';
import { SANDBOX_CREDENTIALS } from './sandbox-constants';

/** A quiet log for bootstrap steps run outside a Lambda (the CLI prints its own lines). */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * `certflow vault-init`: the real step with the real adapters, configured from an unseal
 * function's environment (share table, KMS key, cluster id, node addresses). On the sandbox that
 * environment is UnsealNode's own template environment, so the shares land exactly where the
 * deployed function looks for them; against AWS the CLI builds the same variables.
 */
export async function initVaultWithEnv(
  env: Env,
  options: { nodeId?: string; shares: number; threshold: number; log?: Log },
): Promise<VaultInitResult> {
  const unsealEnv = parseEnv(UnsealEnvSchema, env);
  const adapters = buildUnsealAdapters(unsealEnv, asOperator(env));
  const nodes = await vaultNodesSource(unsealEnv, env)();
  const node = options.nodeId ? nodes.find((candidate) => candidate.id === options.nodeId) : nodes[0];
  if (!node) throw new NodeNotFoundError(`no Vault node ${options.nodeId ?? ''}; configured: ${nodes.map((n) => n.id).join(', ')}`);
  return initializeVault(
    { vault: adapters.vaultFor(node.url), keys: adapters.keys, shares: adapters.shares, clusterId: unsealEnv[EnvNames.VaultClusterId], log: options.log ?? silentLog },
    { shares: options.shares, threshold: options.threshold },
  );
}

/**
 * vault-init is the operator's act (the key policy lets the account encrypt shares; no function
 * may). A function's environment (it names CERTFLOW_FUNCTION: the sandbox lends UnsealNode's) gives
 * its configuration, never its identity: the call signs as the sandbox's operator. Against AWS the
 * CLI builds the environment itself, with no function name, and its own credentials stay.
 */
function asOperator(env: Env): Env {
  if (env[EnvNames.Function] === undefined) return env;
  return { ...env, AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey, AWS_SESSION_TOKEN: undefined };
}

/** vault-init on a sandbox, with UnsealNode's template environment and the config's share counts. */
export async function initSandboxVault(
  cloud: { runner: LocalRunner; sandbox: { config: { vault: { shares: number; threshold: number } } } },
  options: { nodeId?: string; log?: Log } = {},
): Promise<VaultInitResult> {
  // The node addresses are a run-time value: read as UnsealNode reads them, from its parameter.
  return initVaultWithEnv(await cloud.runner.resolvedFunctionEnv('UnsealNode'), {
    ...options,
    shares: cloud.sandbox.config.vault.shares,
    threshold: cloud.sandbox.config.vault.threshold,
  });
}
