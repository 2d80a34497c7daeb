import type { JsonObject } from '../envelope';
import { envelope, noContent, PERMISSION_DENIED_MESSAGE, VaultApiError } from '../envelope';
import { bool, duration, has, int, list, str } from '../pki/pki-values';
import type { ClusterContext, RouteDefinition, VaultRequest } from '../router';
import type { AuthTokens } from './auth-tokens';

/**
 * The token method (VAULT_API.md 6.3): `lookup-self` (403 for an invalid or expired token),
 * `renew-self` (an increment, capped; 400 `lease is not renewable` / `lease expired`),
 * `create` (root only here; policies, ttl, renewable, explicit_max_ttl, meta), `revoke-self`.
 */

function metaOf(body: JsonObject): Record<string, string> {
  const raw = body.meta;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, String(value)]));
}

export function tokenRoutes(cluster: ClusterContext, tokens: AuthTokens): RouteDefinition[] {
  const now = (): Date => cluster.storage.now();

  function lookupSelf(request: VaultRequest) {
    const entry = request.token;
    if (!entry) throw new VaultApiError(403, PERMISSION_DENIED_MESSAGE);
    const record = tokens.describe(entry);
    const expires = record.creationTtl > 0;
    const ttl = expires ? Math.max(0, Math.floor((record.expiresAt.getTime() - now().getTime()) / 1000)) : 0;
    return envelope({
      accessor: record.accessor,
      creation_time: Math.floor(record.issueTime.getTime() / 1000),
      creation_ttl: record.creationTtl,
      display_name: record.displayName,
      entity_id: '',
      expire_time: expires ? record.expiresAt.toISOString() : null,
      explicit_max_ttl: record.explicitMaxTtl,
      id: record.id,
      issue_time: record.issueTime.toISOString(),
      meta: Object.keys(record.meta).length > 0 ? record.meta : null,
      num_uses: record.numUses,
      orphan: record.orphan,
      path: record.path,
      policies: record.policies,
      renewable: record.renewable && expires,
      ttl,
      type: 'service',
    });
  }

  function renewSelf(request: VaultRequest) {
    // An expired token this module issued: the lease check answers before the permission check.
    if (tokens.isExpired(request.clientToken)) throw new VaultApiError(400, 'lease expired');
    const entry = cluster.storage.tokens.lookup(request.clientToken);
    if (!entry) throw new VaultApiError(403, PERMISSION_DENIED_MESSAGE);
    const record = tokens.describe(entry);
    // A token with no TTL (the root token) has no lease to renew.
    if (!record.renewable || record.creationTtl === 0) throw new VaultApiError(400, 'lease is not renewable');
    const { record: renewed, ttl, warnings } = tokens.renew(entry, duration(request.body, 'increment'));
    return envelope(null, { auth: tokens.authBlock(renewed, ttl), warnings });
  }

  function create(request: VaultRequest) {
    const body = request.body;
    const parent = request.token;
    // No policies: the child inherits the parent's (root makes root tokens, as in Vault).
    const policies = has(body, 'policies') ? list(body, 'policies') : [...(parent?.policies ?? [])];
    if (has(body, 'num_uses') && int(body, 'num_uses') < 0) throw new VaultApiError(400, 'number of uses cannot be negative');
    const displayName = str(body, 'display_name');
    const record = tokens.issue({
      policies,
      ttl: duration(body, 'ttl'),
      explicitMaxTtl: duration(body, 'explicit_max_ttl'),
      renewable: has(body, 'renewable') ? bool(body, 'renewable') : true,
      displayName: displayName === '' ? 'token' : `token-${displayName}`,
      meta: metaOf(body),
      path: 'auth/token/create',
      orphan: bool(body, 'no_parent'),
      numUses: int(body, 'num_uses'),
      noDefaultPolicy: bool(body, 'no_default_policy'),
    });
    return envelope(null, { auth: tokens.authBlock(record) });
  }

  return [
    { pattern: 'auth/token/lookup-self', auth: 'token', operations: { read: (_, request) => lookupSelf(request), update: (_, request) => lookupSelf(request) } },
    { pattern: 'auth/token/renew-self', auth: 'none', operations: { update: (_, request) => renewSelf(request) } },
    { pattern: 'auth/token/create', auth: 'root', operations: { update: (_, request) => create(request) } },
    {
      pattern: 'auth/token/revoke-self',
      auth: 'token',
      operations: {
        update: (_, request) => {
          if (request.clientToken) tokens.revoke(request.clientToken);
          return noContent();
        },
      },
    },
  ];
}
