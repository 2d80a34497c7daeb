import type { VaultSys } from '../ports/vault-sys';
import type { KeyWrapper } from '../ports/key-wrapper';
import type { ShareStore } from '../ports/share-store';
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
}

export function buildUnsealAdapters(unsealEnv: UnsealEnv, env: Env): UnsealAdapters {
  return {
    vaultFor: vaultNodeClients(unsealEnv),
    keys: new KmsKeyWrapper(kmsClientFromEnv(env), unsealEnv[EnvNames.UnsealKeyId]),
    shares: new DynamoDbShareStore(dynamoDbClientFromEnv(env), unsealEnv[EnvNames.ShareTable]),
  };
}
