import { memoizeIdentityProvider } from '@smithy/core';
import type { Clock } from '../ports/clock';

/** What a load returns: the value and when it stops being usable (never, when absent). */
export interface Expiring<T> {
  value: T;
  expiresAt?: Date;
}

export interface ExpiringCache<T> {
  /** The cached value, or a fresh load when there is none or it has expired. */
  get(): Promise<T>;
  /** Forget the value (a 403 showed it is no longer good): the next get() loads again. */
  invalidate(): void;
}

/**
 * The one cache for credentials that expire (Vault tokens, EKS tokens, kubeconfigs read from
 * Secrets Manager), over @smithy/core's memoizeIdentityProvider, the SDK's own credential cache:
 * concurrent callers share one in-flight load, a failed load is not kept (the next call tries
 * again), and a value is reloaded once the injected clock reaches its `expiresAt`. Loaders set
 * `expiresAt` from the time the load began, so a slow load never stretches a lifetime.
 */
export function expiringCache<T>(load: () => Promise<Expiring<T>>, clock: Clock): ExpiringCache<T> {
  type Identity = { value: T; expiration?: Date };
  const provider = memoizeIdentityProvider<Identity>(
    async () => {
      const loaded = await load();
      return { value: loaded.value, ...(loaded.expiresAt !== undefined && { expiration: loaded.expiresAt }) };
    },
    (identity) => identity.expiration !== undefined && identity.expiration.getTime() <= clock.now().getTime(),
    (identity) => identity.expiration !== undefined,
  )!;
  let forceRefresh = false;
  return {
    async get() {
      const options = forceRefresh ? { forceRefresh: true } : undefined;
      forceRefresh = false;
      return (await provider(options)).value;
    },
    invalidate() {
      forceRefresh = true;
    },
  };
}
