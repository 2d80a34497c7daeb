import type { LocalCloud } from './local-cloud';
import { readyVault, type ReadyVault } from './ready-vault';
import type { KubernetesSeed } from './kubernetes-seed';

/**
 * The seed topology ready for a rotation, reached the real way: vault-init with KMS-wrapped
 * shares, every node sealed and unsealed by the Unseal state machine, the operator's PKI set-up,
 * then the namespace with its five services and their first certificates, endpoints serving them.
 */
export interface ReadyFleet extends ReadyVault {
  seed: KubernetesSeed;
}

export async function readyFleet(cloud: LocalCloud, options: { sealFirst?: boolean } = {}): Promise<ReadyFleet> {
  const vault = await readyVault(cloud, options);
  const seed = await cloud.sandbox.seedKubernetes({ rootToken: vault.pki.rootToken, rootCertificate: vault.pki.rootCertificate });
  return { ...vault, seed };
}
