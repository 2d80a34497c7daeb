import NodeVault = require('node-vault');

/**
 * node-vault for the sandbox's own code (the PKI set-up, the seed, cert-manager, the CLI's
 * sandbox commands) talking to a Vault node: with `caCertificate` it trusts that CA and nothing
 * else, as certflow's functions do (functions/adapters/vault/vault-client.ts), so the sandbox's
 * HTTPS nodes are reached exactly as a pinned production Vault is.
 */
export interface VaultClientTarget {
  /** A node's address, e.g. `https://127.0.0.1:8200`. */
  readonly url: string;
  /** Never logged. */
  readonly token?: string;
  /** PEM of the CA that signed the node's listener certificate (the sandbox's: Sandbox.vaultCaCertificate). */
  readonly caCertificate?: string;
}

export function vaultClientFor(target: VaultClientTarget): NodeVault.client {
  const client = NodeVault({ apiVersion: 'v1', endpoint: target.url, ...(target.caCertificate ? { requestOptions: { ca: target.caCertificate } } : {}) });
  // node-vault falls back to VAULT_TOKEN for an empty token: an operator's real token must not reach the sandbox.
  client.token = target.token ?? '';
  return client;
}
