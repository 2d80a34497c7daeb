import type { KubernetesStore } from '../kubernetes/kubernetes-emulator';
import type { RouteModule } from '../vault/router';

/**
 * Every secret that exists at any moment of a sandbox's life, recorded as it appears, so a
 * secret scan run after a rotation looks for the keys and tokens that rotation made and replaced,
 * not only for those still present at the end (a run replaces every key it renews).
 * - private keys: every Secret data value that holds a PEM private key, on every write to the
 *   Kubernetes emulator (cert-manager's keys, renewed, backed-up and restored ones), and every
 *   `private_key` Vault answers (leaf issue, exported generation);
 * - Vault tokens: every `auth.client_token` Vault answers (logins, token creation);
 * - AppRole secret ids Vault answers;
 * - the Kubernetes cluster's bearer token, which the sandbox writes into the cluster's token secret.
 * The Vault root token and the unseal shares are added by the scan itself (secret-scan.ts).
 */
export type SecretKind = 'private-key' | 'vault-token' | 'approle-secret-id' | 'cluster-token';

export class SecretLedger {
  private readonly seen = new Map<string, SecretKind>();

  record(kind: SecretKind, value: string): void {
    if (value.length > 0) this.seen.set(value, kind);
  }

  /** What was recorded so far (the caller scans after the run, so "so far" is "the whole run"). */
  secrets(): Array<{ kind: SecretKind; value: string }> {
    return [...this.seen].map(([value, kind]) => ({ kind, value }));
  }

  /** Records every private key written into a Secret from now on; returns the unsubscribe function. */
  watchKubernetes(store: KubernetesStore): () => void {
    return store.onChange((change) => {
      if (change.type === 'DELETED') return;
      const data = ((change.object as { data?: Record<string, string> }).data ?? {}) as Record<string, string>;
      for (const value of Object.values(data)) {
        const text = Buffer.from(value, 'base64').toString('utf8');
        if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) this.record('private-key', text);
      }
    }, { resource: 'secrets' });
  }

  /** The same routes, recording the secrets in what they answer. */
  recordingVaultRoutes(module: RouteModule): RouteModule {
    return (cluster) =>
      module(cluster).map((route) => ({
        ...route,
        operations: Object.fromEntries(
          Object.entries(route.operations).map(([operation, handler]) => [
            operation,
            async (ctx: Parameters<NonNullable<typeof handler>>[0], request: Parameters<NonNullable<typeof handler>>[1]) => {
              const response = await handler!(ctx, request);
              this.recordVaultAnswer(response.json);
              return response;
            },
          ]),
        ),
      }));
  }

  private recordVaultAnswer(json: unknown): void {
    const body = (json ?? {}) as { data?: { private_key?: unknown; secret_id?: unknown }; auth?: { client_token?: unknown } };
    if (typeof body.data?.private_key === 'string') this.record('private-key', body.data.private_key);
    if (typeof body.data?.secret_id === 'string') this.record('approle-secret-id', body.data.secret_id);
    if (typeof body.auth?.client_token === 'string') this.record('vault-token', body.auth.client_token);
  }
}

/**
 * The strings a leak of one secret would contain: a token or id as is; a PEM key by each of its
 * base64 lines of full length (a log line or payload that carries the key carries those lines).
 */
export function needlesOf(secret: { kind: SecretKind; value: string }): string[] {
  if (secret.kind !== 'private-key') return [secret.value];
  return secret.value.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
}
