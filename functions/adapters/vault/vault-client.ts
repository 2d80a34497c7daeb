import NodeVault = require('node-vault');

/** How to reach one Vault address (a node's own URL for `sys/*`, the API address for PKI). */
export interface VaultClientOptions {
  endpoint: string;
  token?: string;
  /** PEM bundle of the CA that signed the Vault listener; system roots otherwise. */
  caPem?: string;
  timeoutMs?: number;
}

/**
 * Builds one node-vault client. One client has one endpoint (VAULT_API.md 7), so the unseal
 * functions build one per node. The token is always passed explicitly (or as an empty string) so
 * node-vault never falls back to a VAULT_TOKEN in the environment.
 */
export function createVaultClient(options: VaultClientOptions): NodeVault.client {
  return NodeVault({
    apiVersion: 'v1',
    endpoint: options.endpoint,
    token: options.token ?? '',
    requestOptions: {
      ...(options.caPem ? { ca: options.caPem } : {}),
      timeout: options.timeoutMs ?? 5000,
    },
  });
}
