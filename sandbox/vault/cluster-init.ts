import { randomBytes, randomUUID } from 'node:crypto';
import type { AutoUnsealProvider } from './auto-unseal';
import { ROOT_KEY_BYTES, sealBlob } from './barrier-crypto';
import type { ClusterStorage, InitRecord, SealType, ShareConfig } from './cluster-storage';
import { VaultApiError } from './envelope';
import { split } from './shamir';

/**
 * `sys/init` for the whole cluster (VAULT_API.md 2.3): validate the parameters exactly as Vault's
 * http/sys_init.go and core.Initialize do, make a random root key, keep only ciphertext in storage,
 * and hand the shares (Shamir) or recovery shares (awskms) to the caller once.
 */

export interface InitParameters {
  secretShares: number;
  secretThreshold: number;
  pgpKeys: readonly string[];
  recoveryShares: number;
  recoveryThreshold: number;
  recoveryPgpKeys: readonly string[];
}

/** The bare `sys/init` response body. Secret: the caller must not log it. */
export interface InitResponseBody {
  keys: string[];
  keys_base64: string[];
  recovery_keys?: string[];
  recovery_keys_base64?: string[];
  root_token: string;
}

/** Which parameters of the wrong family were sent, in Vault's order (validateInitParameters). */
function wrongFamilyError(sealType: SealType, params: InitParameters): VaultApiError | undefined {
  const barrierFlags = [
    params.secretShares !== 0 ? 'secret_shares' : undefined,
    params.secretThreshold !== 0 ? 'secret_threshold' : undefined,
    params.pgpKeys.length !== 0 ? 'pgp_keys' : undefined,
  ].filter((flag): flag is string => flag !== undefined);
  const recoveryFlags = [
    params.recoveryShares !== 0 ? 'recovery_shares' : undefined,
    params.recoveryThreshold !== 0 ? 'recovery_threshold' : undefined,
    params.recoveryPgpKeys.length !== 0 ? 'recovery_pgp_keys' : undefined,
  ].filter((flag): flag is string => flag !== undefined);
  const wrong = sealType === 'awskms' ? barrierFlags : recoveryFlags;
  if (wrong.length === 0) return undefined;
  return new VaultApiError(400, `parameters ${wrong.join(',')} not applicable to seal type ${sealType}`);
}

/** SealConfig.Validate of vault/seal.go, message for message. */
function shareConfigProblem(shares: number, threshold: number, pgpKeys: number): string | undefined {
  if (shares < 1) return 'shares must be at least one';
  if (threshold < 1) return 'threshold must be at least one';
  if (shares > 1 && threshold === 1) return 'threshold must be greater than one for multiple shares';
  if (shares > 255) return 'shares must be less than 256';
  if (threshold > 255) return 'threshold must be less than 256';
  if (threshold > shares) return 'threshold cannot be larger than shares';
  if (pgpKeys > 0) return 'PGP-encrypted shares are not supported by the emulator';
  return undefined;
}

/** Shares of a key: the key itself for one share (as Vault does), Shamir otherwise. */
function shareKey(key: Buffer, config: ShareConfig): Buffer[] {
  return config.shares === 1 ? [Buffer.from(key)] : split(key, config.shares, config.threshold);
}

function encodeShares(shares: readonly Buffer[]): { hex: string[]; base64: string[] } {
  return { hex: shares.map((s) => s.toString('hex')), base64: shares.map((s) => s.toString('base64')) };
}

export async function initializeCluster(
  storage: ClusterStorage,
  sealType: SealType,
  params: InitParameters,
  autoUnseal: AutoUnsealProvider,
): Promise<InitResponseBody> {
  const familyError = wrongFamilyError(sealType, params);
  if (familyError) throw familyError;

  let shareConfig: ShareConfig;
  if (sealType === 'awskms') {
    if (params.recoveryShares < 1) {
      throw new VaultApiError(400, 'recovery configuration must specify a positive number of shares');
    }
    const problem = shareConfigProblem(params.recoveryShares, params.recoveryThreshold, params.recoveryPgpKeys.length);
    if (problem) throw new VaultApiError(400, `invalid recovery configuration: ${problem}`);
    shareConfig = { shares: params.recoveryShares, threshold: params.recoveryThreshold };
  } else {
    const problem = shareConfigProblem(params.secretShares, params.secretThreshold, params.pgpKeys.length);
    if (problem) throw new VaultApiError(400, `invalid seal configuration: ${problem}`);
    shareConfig = { shares: params.secretShares, threshold: params.secretThreshold };
  }

  // Validation comes first in Vault's core.Initialize, then the already-initialized check.
  if (storage.init) throw new VaultApiError(400, 'Vault is already initialized');

  const rootKey = randomBytes(ROOT_KEY_BYTES);
  const keyring = Buffer.from(
    JSON.stringify({ term: 1, key: randomBytes(ROOT_KEY_BYTES).toString('base64'), installTime: storage.now().toISOString() }),
  );
  const keyringBlob = sealBlob(rootKey, keyring);
  keyring.fill(0);

  let body: InitResponseBody;
  let record: Omit<InitRecord, 'rootToken' | 'clusterName' | 'clusterId' | 'initializedAt'>;
  try {
    if (sealType === 'awskms') {
      let wrappedRootKey: Buffer;
      try {
        wrappedRootKey = await autoUnseal.wrap(Buffer.from(rootKey));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new VaultApiError(400, `failed to store keys: failed to encrypt keys for storage: ${reason}`);
      }
      // A concurrent init may have won while KMS answered.
      if (storage.init) throw new VaultApiError(400, 'Vault is already initialized');
      const recoveryKey = randomBytes(ROOT_KEY_BYTES);
      const recovery = encodeShares(shareKey(recoveryKey, shareConfig));
      record = { sealType, shareConfig, keyringBlob, wrappedRootKey, recoveryKeyBlob: sealBlob(rootKey, recoveryKey) };
      recoveryKey.fill(0);
      body = { keys: [], keys_base64: [], recovery_keys: recovery.hex, recovery_keys_base64: recovery.base64, root_token: '' };
    } else {
      const unseal = encodeShares(shareKey(rootKey, shareConfig));
      record = { sealType, shareConfig, keyringBlob };
      body = { keys: unseal.hex, keys_base64: unseal.base64, root_token: '' };
    }
  } finally {
    rootKey.fill(0);
  }

  const rootToken = storage.tokens.create({ policies: ['root'], displayName: 'root' }).id;
  storage.init = {
    ...record,
    rootToken,
    clusterName: `vault-cluster-${randomBytes(4).toString('hex')}`,
    clusterId: randomUUID(),
    initializedAt: storage.now(),
  };
  storage.raftIndex += 1;
  body.root_token = rootToken;
  return body;
}
