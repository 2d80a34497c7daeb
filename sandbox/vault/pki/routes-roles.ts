import { noContent, VaultApiError } from '../envelope';
import type { RouteDefinition, VaultRequest } from '../router';
import { applyRoleRequest, defaultRole, roleResponseData } from './pki-role';
import { pkiEnvelope } from './pki-responses';
import { forPkiMounts, mountOf, type PkiRouteEnv } from './pki-route-kit';

/**
 * Roles (VAULT_API.md 4.15): POST replaces the whole role (omitted fields back to their defaults,
 * P5), PATCH merges into the stored one (404 when there is none), GET reads (404 when unknown),
 * DELETE always succeeds, LIST is a 404 when empty.
 */

function writeRole(env: PkiRouteEnv, request: VaultRequest, merge: boolean) {
  const mount = mountOf(env, request);
  const name = request.params.name ?? '';
  const existing = mount.roles.get(name);
  if (merge && !existing) throw new VaultApiError(404);
  const role = applyRoleRequest(merge && existing ? existing : defaultRole(), request.body);
  mount.roles.set(name, role);
  return pkiEnvelope(roleResponseData(role));
}

export function roleRoutes(env: PkiRouteEnv): RouteDefinition[] {
  return forPkiMounts(env, [
    {
      pattern: ':mount/roles',
      operations: {
        list: (_, request) => {
          const names = [...mountOf(env, request).roles.keys()].sort();
          if (names.length === 0) throw new VaultApiError(404);
          return pkiEnvelope({ keys: names });
        },
      },
    },
    {
      pattern: ':mount/roles/:name',
      operations: {
        read: (_, request) => {
          const role = mountOf(env, request).roles.get(request.params.name ?? '');
          if (!role) throw new VaultApiError(404);
          return pkiEnvelope(roleResponseData(role));
        },
        update: (_, request) => writeRole(env, request, false),
        patch: (_, request) => writeRole(env, request, true),
        delete: (_, request) => {
          mountOf(env, request).roles.delete(request.params.name ?? '');
          return noContent();
        },
      },
    },
  ]);
}
