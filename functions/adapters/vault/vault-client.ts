import NodeVault = require('node-vault');
import { InsecureVaultEndpointError } from '../../contracts/errors';

/** How to reach one Vault address (a node's own URL for `sys/*`, the API address for PKI). */
export interface VaultClientOptions {
  /** An https:// address; anything else is refused. */
  endpoint: string;
  token?: string;
  /** PEM bundle of the CA that signed the Vault listener: trusted instead of the public roots. Required. */
  caPem: string;
  timeoutMs?: number;
  /** How long a kept connection may sit idle before the client closes it. @default VAULT_IDLE_SOCKET_MS */
  idleSocketMs?: number;
}

/**
 * Connections are kept for reuse between calls; `keepAliveMsecs` is the delay before TCP keep-alive
 * probes on them, not an idle timeout.
 *
 * The client closes a connection that sat idle for {@link VAULT_IDLE_SOCKET_MS} itself (the agent's
 * `timeout`: Node destroys a free socket when it fires), under the shortest idle timeout on the
 * path: Vault's listener (`http_idle_timeout`, 5 minutes) and a load balancer in front of it (an
 * ALB's default is 60 s). Left to the server, a Lambda frozen between invocations past that
 * timeout would write its next call to a connection the server had already dropped and get
 * ECONNRESET. Node runs expired timers before it polls for I/O, so after a thaw the idle
 * connection should be closed before the invocation's first call (not tried in a Lambda).
 */
export const VAULT_IDLE_SOCKET_MS = 30_000;
const agentOptions = (idleSocketMs: number) => ({ keepAlive: true, keepAliveMsecs: 30_000, timeout: idleSocketMs });

/**
 * Builds one node-vault client. One client has one endpoint (VAULT_API.md 7), so the unseal
 * functions build one per node.
 *
 * Only https:// with the pinned CA (issue 13 item 1): an http:// endpoint would send tokens and
 * unseal shares in the clear, and without a CA node-vault would trust whatever the public roots
 * trust. Both are refused before a client exists, so no code path reaches Vault otherwise.
 *
 * node-vault reads `config.token || process.env.VAULT_TOKEN` (and the same for VAULT_PREFIX and
 * VAULT_NAMESPACE), so an empty token in the config is not enough: the CLI, run by an operator
 * with VAULT_TOKEN exported, would send that token to every configured node URL. The fields are
 * therefore set again after construction, from the options only.
 */
export function createVaultClient(options: VaultClientOptions): NodeVault.client {
  let protocol: string | undefined;
  try {
    protocol = new URL(options.endpoint).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'https:') {
    throw new InsecureVaultEndpointError(`refusing Vault address ${JSON.stringify(options.endpoint)}: only https:// is allowed (set https node URLs and vault.address in the config)`, { details: { endpoint: options.endpoint } });
  }
  if (typeof options.caPem !== 'string' || !options.caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InsecureVaultEndpointError(`refusing to reach Vault at ${options.endpoint} without its pinned CA: set vault.caCertificate in the config (the public roots are never trusted for Vault)`, { details: { endpoint: options.endpoint } });
  }
  const client = NodeVault({
    apiVersion: 'v1',
    endpoint: options.endpoint,
    requestOptions: {
      ca: options.caPem,
      // node-vault builds one https.Agent per client from these (its index.js), but a new
      // https.Agent does not keep connections alive unless told: every call would be a new TLS
      // handshake with Vault. One object per client, so node-vault sees no per-call override.
      agentOptions: agentOptions(options.idleSocketMs ?? VAULT_IDLE_SOCKET_MS),
      timeout: options.timeoutMs ?? 5000,
    },
  });
  // node-vault sends X-Vault-Token only for a non-empty string token.
  client.token = options.token ?? '';
  const untyped = client as unknown as { pathPrefix: string; namespace: string | undefined };
  untyped.pathPrefix = '';
  untyped.namespace = undefined;
  return client;
}
