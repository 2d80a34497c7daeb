import type { VaultSys } from '../../ports/vault-sys';
import { EnvNames, type UnsealEnv } from '../../contracts/env';
import { createVaultClient } from './vault-client';
import { NodeVaultSys } from './node-vault-sys';

/**
 * One node-vault client per node address, built on first use and cached for the cold start:
 * unseal and seal-status go to each node's own address, never through a load balancer (P7).
 */
export function vaultNodeClients(unsealEnv: UnsealEnv): (nodeUrl: string) => VaultSys {
  const clients = new Map<string, VaultSys>();
  const caPem = unsealEnv[EnvNames.VaultCaPem];
  const timeoutMs = unsealEnv[EnvNames.VaultTimeoutMs];
  return (nodeUrl) => {
    let sys = clients.get(nodeUrl);
    if (!sys) {
      sys = new NodeVaultSys(createVaultClient({ endpoint: nodeUrl, caPem, timeoutMs }), nodeUrl);
      clients.set(nodeUrl, sys);
    }
    return sys;
  };
}
