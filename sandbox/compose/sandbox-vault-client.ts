import type NodeVault = require('node-vault');
import { vaultClientFor } from '../vault/vault-client-for';
import type { Sandbox } from './sandbox';

/**
 * node-vault on one of the sandbox's Vault nodes over HTTPS, trusting the sandbox's Vault CA
 * only: how the sandbox's tools and tests talk to its Vault as an operator's `vault` CLI would
 * with VAULT_CACERT. @param options.nodeId @default the first node
 */
export function sandboxVaultClient(sandbox: Pick<Sandbox, 'vault' | 'vaultCaCertificate'>, options: { token?: string; nodeId?: string } = {}): NodeVault.client {
  const url = options.nodeId ? sandbox.vault.node(options.nodeId).url : sandbox.vault.nodes[0]!.url;
  return vaultClientFor({ url, caCertificate: sandbox.vaultCaCertificate, ...(options.token === undefined ? {} : { token: options.token }) });
}
