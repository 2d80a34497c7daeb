import { shareContext } from '../domain/share-selection';
import { SharesAlreadyExistError, VaultRequestError } from '../contracts/errors';
import type { VaultSys } from '../ports/vault-sys';
import type { KeyWrapper } from '../ports/key-wrapper';
import type { ShareStore, WrappedShare } from '../ports/share-store';
import type { Log } from '../ports/log';

export interface VaultInitDeps {
  vault: VaultSys;
  keys: KeyWrapper;
  shares: ShareStore;
  clusterId: string;
  log: Log;
}

export interface VaultInitRequest {
  shares: number;
  threshold: number;
}

export interface VaultInitResult {
  clusterId: string;
  nodeUrl: string;
  sealType: string;
  sharesStored: number;
  threshold: number;
  /** The root token wrapped with KMS (context {vault-cluster, purpose: root-token}); safe to write to disk. */
  wrappedRootToken: Uint8Array;
  /** Set only when storing the wrapped shares failed after Vault was initialized (see below). */
  unstoredShares?: WrappedShare[];
  /** The root token itself, for the sandbox only: callers outside the sandbox must drop it. */
  rootTokenForSandbox: string;
}

/** What the pre-init probe encrypts: no secret, only proof that the key answers as itself. */
const KEY_PROBE = 'certflow vault-init key probe';

export const rootTokenContext = (clusterId: string) => ({ 'vault-cluster': clusterId, purpose: 'root-token' });

/**
 * `certflow vault-init` (DESIGN.md Unseal; VAULT_API.md 2.3, 3.1): initialize one node, wrap each
 * share with KMS bound to {cluster, index}, and store them. Refuses before touching Vault when
 * shares already exist (never overwrite) or the node is already initialized. Shamir nodes get
 * unseal shares; awskms nodes get recovery shares (the family rule of 2.3).
 */
export async function initializeVault(deps: VaultInitDeps, request: VaultInitRequest): Promise<VaultInitResult> {
  const existing = await deps.shares.list(deps.clusterId);
  if (existing.length > 0) {
    throw new SharesAlreadyExistError(`shares for cluster ${deps.clusterId} already exist; vault-init never overwrites them`, {
      details: { clusterId: deps.clusterId, stored: existing.length },
    });
  }
  const status = await deps.vault.sealStatus();
  if (status.initialized) {
    throw new VaultRequestError(`${deps.vault.nodeUrl} is already initialized; nothing was changed`, { details: { address: deps.vault.nodeUrl } });
  }
  const recovery = status.recoverySeal || status.type !== 'shamir';
  // Prove the key before Vault is initialized (issue 13 item 2): the wrapper checks that KMS
  // answers for exactly the key asked for (KmsKeyMismatchError otherwise), and a refusal here
  // leaves Vault uninitialized instead of holding shares nobody can store.
  await deps.keys.wrap(Buffer.from(KEY_PROBE, 'utf8'), shareContext(deps.clusterId, 0));
  const init = await deps.vault.initialize({ shares: request.shares, threshold: request.threshold, recovery });
  deps.log.info('vault initialized', { nodeUrl: deps.vault.nodeUrl, sealType: status.type, shares: request.shares, threshold: request.threshold });

  const wrapped: WrappedShare[] = [];
  for (const [index, share] of init.shares.entries()) {
    const context = shareContext(deps.clusterId, index);
    const ciphertext = await deps.keys.wrap(Buffer.from(share, 'utf8'), context);
    wrapped.push({ clusterId: deps.clusterId, index, ciphertext, context });
  }
  const wrappedRootToken = await deps.keys.wrap(Buffer.from(init.rootToken, 'utf8'), rootTokenContext(deps.clusterId));
  const result = {
    clusterId: deps.clusterId,
    nodeUrl: deps.vault.nodeUrl,
    sealType: status.type,
    sharesStored: wrapped.length,
    threshold: request.threshold,
    wrappedRootToken,
    rootTokenForSandbox: init.rootToken,
  };
  try {
    await deps.shares.putAllIfAbsent(wrapped);
  } catch (error) {
    // Vault is initialized now and these are its only shares: hand the (KMS-wrapped, so safe)
    // ciphertexts back so the caller can save them instead of losing the cluster.
    deps.log.error('storing the wrapped shares failed after init', { errorName: (error as Error).name });
    return { ...result, sharesStored: 0, unstoredShares: wrapped };
  }
  return result;
}
