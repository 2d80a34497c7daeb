import type { JsonObject } from '../envelope';
import { envelope, noContent, VaultApiError } from '../envelope';
import type { RouteDefinition, VaultRequest } from '../router';
import type { MountEntry } from './pki-mount-registry';
import type { PkiRouteEnv } from './pki-route-kit';
import { duration, has, str } from './pki-values';

/**
 * `sys/mounts` for secrets engines: enable (`POST sys/mounts/:path {type, config}`, root token),
 * list, disable, and `sys/mounts/:path/tune`. A `pki` mount gets the PKI routes; other types
 * are only recorded. TTLs take seconds or duration strings (`87600h`), as Vault's API does.
 */

function configOf(body: JsonObject): { defaultLeaseTtlSeconds: number; maxLeaseTtlSeconds: number } {
  const raw = body.config;
  const config = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as JsonObject) : {};
  return { defaultLeaseTtlSeconds: duration(config, 'default_lease_ttl'), maxLeaseTtlSeconds: duration(config, 'max_lease_ttl') };
}

function describe(entry: MountEntry): Record<string, unknown> {
  return {
    type: entry.type,
    description: entry.description,
    accessor: entry.accessor,
    uuid: entry.uuid,
    config: {
      default_lease_ttl: entry.pki?.config.defaultLeaseTtlSeconds ?? 0,
      max_lease_ttl: entry.pki?.config.maxLeaseTtlSeconds ?? 0,
      force_no_cache: false,
    },
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    options: null,
  };
}

function enable(env: PkiRouteEnv, request: VaultRequest) {
  const type = str(request.body, 'type');
  if (type === '') throw new VaultApiError(400, 'backend type must be specified as a string');
  env.mounts.enable(request.params.path ?? '', type, configOf(request.body), str(request.body, 'description'));
  return noContent();
}

function tune(env: PkiRouteEnv, request: VaultRequest) {
  const entry = env.mounts.get(request.params.path ?? '');
  if (!entry) throw new VaultApiError(400, `cannot fetch sysview for path "${request.params.path ?? ''}/"`);
  if (entry.pki) {
    if (has(request.body, 'default_lease_ttl')) entry.pki.config.defaultLeaseTtlSeconds = duration(request.body, 'default_lease_ttl');
    if (has(request.body, 'max_lease_ttl')) entry.pki.config.maxLeaseTtlSeconds = duration(request.body, 'max_lease_ttl');
  }
  return noContent();
}

export function mountRoutes(env: PkiRouteEnv): RouteDefinition[] {
  return [
    {
      pattern: 'sys/mounts',
      auth: 'root',
      operations: {
        read: () => envelope(Object.fromEntries(env.mounts.list().map((entry) => [`${entry.path}/`, describe(entry)]))),
      },
    },
    {
      pattern: 'sys/mounts/:path',
      auth: 'root',
      operations: {
        update: (_, request) => enable(env, request),
        read: (_, request) => {
          const entry = env.mounts.get(request.params.path ?? '');
          if (!entry) throw new VaultApiError(400, `No secret engine mount at ${request.params.path ?? ''}/`);
          return envelope(describe(entry));
        },
        delete: (_, request) => {
          env.mounts.disable(request.params.path ?? '');
          return noContent();
        },
      },
    },
    {
      pattern: 'sys/mounts/:path/tune',
      auth: 'root',
      operations: {
        read: (_, request) => {
          const entry = env.mounts.get(request.params.path ?? '');
          if (!entry) throw new VaultApiError(400, `cannot fetch sysview for path "${request.params.path ?? ''}/"`);
          return envelope({
            default_lease_ttl: entry.pki?.config.defaultLeaseTtlSeconds ?? 0,
            max_lease_ttl: entry.pki?.config.maxLeaseTtlSeconds ?? 0,
            force_no_cache: false,
            description: entry.description,
          });
        },
        update: (_, request) => tune(env, request),
      },
    },
  ];
}
