import type { VaultSys } from '../ports/vault-sys';
import type { KeyWrapper } from '../ports/key-wrapper';
import type { ShareStore } from '../ports/share-store';
import type { UnsealEnv } from '../contracts/env';
import { EnvNames, type Env } from '../contracts/env';
import { createVaultClient } from './vault/vault-client';
import { NodeVaultSys } from './vault/node-vault-sys';
import { KmsKeyWrapper } from './kms/kms-key-wrapper';
import { kmsClientFromEnv } from './kms/kms-client';
import { DynamoDbShareStore } from './aws/dynamodb-share-store';
import { dynamoDbClientFromEnv } from './aws/dynamodb-client';

/** The adapters the unseal functions use, built once per cold start from the parsed environment. */
export interface UnsealAdapters {
  /** One node-vault client per node address, cached: unseal never goes through a load balancer (P7). */
  vaultFor(nodeUrl: string): VaultSys;
  keys: KeyWrapper;
  shares: ShareStore;
}

export function buildUnsealAdapters(unsealEnv: UnsealEnv, env: Env): UnsealAdapters {
  const clients = new Map<string, VaultSys>();
  const caPem = unsealEnv[EnvNames.VaultCaPem];
  const timeoutMs = unsealEnv[EnvNames.VaultTimeoutMs];
  return {
    vaultFor(nodeUrl) {
      let sys = clients.get(nodeUrl);
      if (!sys) {
        sys = new NodeVaultSys(createVaultClient({ endpoint: nodeUrl, ...(caPem ? { caPem } : {}), timeoutMs }), nodeUrl);
        clients.set(nodeUrl, sys);
      }
      return sys;
    },
    keys: new KmsKeyWrapper(kmsClientFromEnv(env), unsealEnv[EnvNames.UnsealKeyId]),
    shares: new DynamoDbShareStore(dynamoDbClientFromEnv(env), unsealEnv[EnvNames.ShareTable]),
  };
}
