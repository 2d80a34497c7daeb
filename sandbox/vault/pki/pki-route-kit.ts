import type { RouteDefinition, VaultRequest } from '../router';
import type { MountRegistry } from './pki-mount-registry';
import type { PkiMount } from './pki-mount-state';

/** What every PKI route file needs: the cluster's mount table. */
export interface PkiRouteEnv {
  readonly mounts: MountRegistry;
}

/**
 * Claims `:mount/...` patterns only for PKI mounts, so other modules can own other `:mount`
 * paths (router.ts `when`). Every PKI route needs a token unless it says `auth: 'none'`.
 */
export function forPkiMounts(env: PkiRouteEnv, routes: readonly Omit<RouteDefinition, 'when'>[]): RouteDefinition[] {
  return routes.map((route) => ({ ...route, when: (params) => env.mounts.isPki(params.mount) }));
}

export function mountOf(env: PkiRouteEnv, request: VaultRequest): PkiMount {
  return env.mounts.pki(request.params.mount);
}

export type OutputFormat = 'pem' | 'der' | 'pem_bundle';

/** getFormat: `pem` (default), `der` or `pem_bundle`; undefined for anything else. */
export function outputFormat(value: string): OutputFormat | undefined {
  const format = value === '' ? 'pem' : value;
  return format === 'pem' || format === 'der' || format === 'pem_bundle' ? format : undefined;
}
