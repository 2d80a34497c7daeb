import type { VaultSys } from '../ports/vault-sys';
import type { KeyWrapper } from '../ports/key-wrapper';
import type { ShareStore } from '../ports/share-store';
import type { ExpectedVault } from '../domain/unseal-decision';
import type { PauseSwitch } from '../ports/pause-switch';
import { DynamoDbPauseSwitch } from './aws/dynamodb-pause-switch';
import { EnvNames, type Env, type UnsealEnv } from '../contracts/env';
import { vaultNodeClients } from './vault/vault-node-clients';
import { KmsKeyWrapper } from './kms/kms-key-wrapper';
import { kmsClientFromEnv } from './kms/kms-client';
import { DynamoDbShareStore } from './aws/dynamodb-share-store';
import { dynamoDbClientFromEnv } from './aws/dynamodb-client';

/** The adapters the share-handling unseal code uses, built once per cold start. */
export interface UnsealAdapters {
  vaultFor(nodeUrl: string): VaultSys;
  keys: KeyWrapper;
  shares: ShareStore;
  /** The configured identity a node must show before it gets a share (from the stack's environment). */
  expected: ExpectedVault;
  /** The kill switch, when the function's environment names the ledger table. */
  pause?: PauseSwitch;
}

export function buildUnsealAdapters(unsealEnv: UnsealEnv, env: Env): UnsealAdapters {
  const ledgerTable = unsealEnv[EnvNames.LedgerTable];
  return {
    ...(ledgerTable ? { pause: new DynamoDbPauseSwitch(dynamoDbClientFromEnv(env), ledgerTable) } : {}),
    vaultFor: vaultNodeClients(unsealEnv),
    keys: new KmsKeyWrapper(kmsClientFromEnv(env), unsealEnv[EnvNames.UnsealKeyId]),
    shares: new DynamoDbShareStore(dynamoDbClientFromEnv(env), unsealEnv[EnvNames.ShareTable]),
    expected: {
      threshold: unsealEnv[EnvNames.VaultThreshold],
      shares: unsealEnv[EnvNames.VaultShares],
      ...(unsealEnv[EnvNames.VaultReportedClusterId] ? { reportedClusterId: unsealEnv[EnvNames.VaultReportedClusterId] } : {}),
    },
  };
}
