import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../../lib/config';
import { EnvNames, type Env } from '../../../functions/contracts/env';
import { SharesAlreadyExistError, VaultRequestError } from '../../../functions/contracts/errors';
import { initVaultWithEnv } from '../../../sandbox/compose/vault-bootstrap';
import { isKeyArn } from '../../../functions/adapters/kms/kms-key-wrapper';
import { rootTokenContext, type VaultInitResult } from '../../../functions/steps/vault-init';
import { readSandboxState } from '../sandbox-state';
import { runnerForRunningSandbox } from '../local-session';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';

export interface VaultInitOptions {
  configPath: string;
  local: boolean;
  nodeId?: string;
  /** The share table (a stack output) when running against AWS. */
  shareTable?: string;
  /** The unseal key's ARN (the UnsealKeyArn stack output) when running against AWS: never an alias. */
  unsealKeyArn?: string;
  outDir: string;
}

/**
 * `certflow vault-init`: the explicit bootstrap. Initializes one node, wraps every share with KMS
 * bound to {cluster, index}, stores them, and writes the root token only KMS-wrapped. Refuses when
 * shares already exist or the node is initialized. Never prints a share or a token.
 */
export async function vaultInit(options: VaultInitOptions, out: Output): Promise<number> {
  const config = loadConfig(options.configPath);
  let env: Env;
  if (options.local) {
    env = await runnerForRunningSandbox(readSandboxState({ configPath: options.configPath })).resolvedFunctionEnv('UnsealNode');
  } else {
    const shareTable = options.shareTable ?? process.env[EnvNames.ShareTable];
    if (!shareTable) {
      throw new CliError(`--share-table is required against AWS (the ShareTableName output of the certflow stack)`, ExitCodes.Usage);
    }
    // By key ARN, never the alias: whoever may redirect an alias could otherwise choose the key
    // that wraps the shares, and the wrapper checks every answer names exactly this key.
    const unsealKeyArn = options.unsealKeyArn ?? process.env[EnvNames.UnsealKeyId];
    if (!unsealKeyArn || !isKeyArn(unsealKeyArn)) {
      throw new CliError(`--unseal-key-arn is required against AWS: the key ARN (the UnsealKeyArn output of the certflow stack), not an alias`, ExitCodes.Usage);
    }
    env = {
      ...process.env,
      [EnvNames.VaultClusterId]: config.vault.clusterId,
      [EnvNames.VaultNodes]: JSON.stringify(config.vault.nodes),
      [EnvNames.VaultThreshold]: String(config.vault.threshold),
      // Pinned: the shares go only to a node whose certificate chains to the config's Vault CA.
      [EnvNames.VaultCaPem]: config.vault.caCertificate,
      [EnvNames.VaultShares]: String(config.vault.shares),
      [EnvNames.UnsealKeyId]: unsealKeyArn,
      [EnvNames.ShareTable]: shareTable,
    };
  }

  let result: VaultInitResult;
  try {
    out.progress('initializing Vault and wrapping the shares with KMS');
    result = await initVaultWithEnv(env, { ...(options.nodeId ? { nodeId: options.nodeId } : {}), shares: config.vault.shares, threshold: config.vault.threshold });
  } catch (error) {
    if (error instanceof SharesAlreadyExistError || (error instanceof VaultRequestError && /already initialized/.test(error.message))) {
      throw new CliError(`${error.message}. Nothing was changed.`, ExitCodes.Refused);
    }
    throw error;
  }

  mkdirSync(options.outDir, { recursive: true });
  const tokenPath = resolve(options.outDir, `${result.clusterId}-root-token.kms`);
  writeFileSync(tokenPath, `${Buffer.from(result.wrappedRootToken).toString('base64')}\n`, { mode: 0o600 });
  let unstoredPath: string | undefined;
  if (result.unstoredShares) {
    unstoredPath = resolve(options.outDir, `${result.clusterId}-unstored-shares.json`);
    const safe = result.unstoredShares.map((share) => ({ index: share.index, context: share.context, ciphertextBase64: Buffer.from(share.ciphertext).toString('base64') }));
    writeFileSync(unstoredPath, `${JSON.stringify(safe, null, 2)}\n`, { mode: 0o600 });
  }
  const context = rootTokenContext(result.clusterId);

  out.result({ clusterId: result.clusterId, node: result.nodeUrl, sealType: result.sealType, sharesStored: result.sharesStored, threshold: result.threshold, wrappedRootTokenFile: tokenPath, unstoredSharesFile: unstoredPath });
  out.line(`Vault ${result.nodeUrl} initialized (${result.sealType} seal).`);
  out.line(`${result.sharesStored} ${result.sealType === 'shamir' ? 'unseal' : 'recovery'} shares wrapped with KMS and stored; threshold ${result.threshold}. No share was printed or written in the clear.`);
  if (unstoredPath) {
    out.line(`WARNING: storing the shares failed. Their KMS ciphertexts (safe to keep, useless without KMS) are in ${unstoredPath}: store them before anything else.`);
  }
  out.line();
  out.line('The root token:');
  out.line(`  It is written only KMS-wrapped to ${tokenPath} (encryption context ${JSON.stringify(context)}).`);
  out.line('  Use it once to configure auth for certflow (AWS IAM for the Lambdas) and your admin policies, then revoke it:');
  out.command(`    aws kms decrypt --ciphertext-blob fileb://<(base64 -d ${tokenPath}) --encryption-context ${Object.entries(context).map(([k, v]) => `${k}=${v}`).join(',')} --query Plaintext --output text | base64 -d`);
  out.line('    vault token revoke -self');
  out.line('  When you need root again, generate one with `vault operator generate-root` and a quorum of shares.');
  return unstoredPath ? ExitCodes.WorkflowFailed : ExitCodes.Ok;
}
