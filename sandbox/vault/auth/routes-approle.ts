import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../envelope';
import { envelope, noContent, VaultApiError } from '../envelope';
import { bool, duration, has, int, list, str } from '../pki/pki-values';
import type { ClusterContext, RouteDefinition, VaultRequest } from '../router';
import type { AuthTokens } from './auth-tokens';

/**
 * AppRole (VAULT_API.md 6.2) at `auth/<mount>/`: roles (root token), their role-id, secret ids,
 * and login. Wrong or used-up credentials are 400 `invalid role or secret ID` (400, not 403).
 */

interface SecretId {
  readonly accessor: string;
  readonly createdAt: Date;
  readonly ttl: number;
  usesLeft: number;
  readonly metadata: Record<string, string>;
}

interface AppRole {
  roleId: string;
  bindSecretId: boolean;
  secretIdNumUses: number;
  secretIdTtl: number;
  tokenPolicies: string[];
  tokenTtl: number;
  tokenMaxTtl: number;
  tokenNumUses: number;
  readonly secretIds: Map<string, SecretId>;
}

const INVALID = 'invalid role or secret ID';

function applyRole(role: AppRole, body: JsonObject): AppRole {
  if (has(body, 'role_id')) role.roleId = str(body, 'role_id');
  if (has(body, 'bind_secret_id')) role.bindSecretId = bool(body, 'bind_secret_id');
  if (has(body, 'secret_id_num_uses')) role.secretIdNumUses = int(body, 'secret_id_num_uses');
  if (has(body, 'secret_id_ttl')) role.secretIdTtl = duration(body, 'secret_id_ttl');
  if (has(body, 'token_policies')) role.tokenPolicies = list(body, 'token_policies');
  else if (has(body, 'policies')) role.tokenPolicies = list(body, 'policies');
  if (has(body, 'token_ttl')) role.tokenTtl = duration(body, 'token_ttl');
  if (has(body, 'token_max_ttl')) role.tokenMaxTtl = duration(body, 'token_max_ttl');
  if (has(body, 'token_num_uses')) role.tokenNumUses = int(body, 'token_num_uses');
  if (role.secretIdNumUses < 0) throw new VaultApiError(400, 'secret_id_num_uses cannot be negative');
  if (!role.bindSecretId) throw new VaultApiError(400, 'at least one constraint should be enabled on the role');
  if (role.tokenMaxTtl > 0 && role.tokenTtl > role.tokenMaxTtl) throw new VaultApiError(400, 'token_ttl should not be greater than token_max_ttl');
  return role;
}

function roleData(role: AppRole): Record<string, unknown> {
  return {
    bind_secret_id: role.bindSecretId,
    local_secret_ids: false,
    secret_id_bound_cidrs: null,
    secret_id_num_uses: role.secretIdNumUses,
    secret_id_ttl: role.secretIdTtl,
    token_bound_cidrs: [],
    token_explicit_max_ttl: 0,
    token_max_ttl: role.tokenMaxTtl,
    token_no_default_policy: false,
    token_num_uses: role.tokenNumUses,
    token_period: 0,
    token_policies: role.tokenPolicies,
    policies: role.tokenPolicies,
    token_ttl: role.tokenTtl,
    token_type: 'default',
  };
}

export function approleRoutes(cluster: ClusterContext, tokens: AuthTokens, mount = 'approle'): RouteDefinition[] {
  const roles = new Map<string, AppRole>();
  const now = (): Date => cluster.storage.now();
  const roleOf = (request: VaultRequest): AppRole | undefined => roles.get((request.params.name ?? '').toLowerCase());

  function writeRole(request: VaultRequest) {
    const name = (request.params.name ?? '').toLowerCase();
    const existing = roles.get(name);
    const role = applyRole(
      existing
        ? { ...existing }
        : {
            roleId: randomUUID(),
            bindSecretId: true,
            secretIdNumUses: 0,
            secretIdTtl: 0,
            tokenPolicies: [],
            tokenTtl: 0,
            tokenMaxTtl: 0,
            tokenNumUses: 0,
            secretIds: new Map(),
          },
      request.body,
    );
    const clash = [...roles.entries()].find(([other, candidate]) => other !== name && candidate.roleId === role.roleId);
    if (clash) throw new VaultApiError(400, 'role_id already in use');
    roles.set(name, role);
    return noContent();
  }

  function newSecretId(request: VaultRequest) {
    const role = roleOf(request);
    if (!role) throw new VaultApiError(404, `role "${request.params.name ?? ''}" does not exist`);
    const body = request.body;
    let uses = role.secretIdNumUses;
    if (has(body, 'num_uses')) {
      uses = int(body, 'num_uses');
      if (uses < 0) throw new VaultApiError(400, 'num_uses cannot be negative');
      if (role.secretIdNumUses > 0 && (uses === 0 || uses > role.secretIdNumUses)) {
        throw new VaultApiError(400, "num_uses cannot be higher than the role's secret_id_num_uses");
      }
    }
    let ttl = role.secretIdTtl;
    if (has(body, 'ttl')) {
      ttl = duration(body, 'ttl');
      if (role.secretIdTtl > 0 && (ttl === 0 || ttl > role.secretIdTtl)) throw new VaultApiError(400, "ttl cannot be longer than the role's secret_id_ttl");
    }
    const secretId = str(body, 'secret_id') || randomUUID();
    const metadataRaw = body.metadata;
    const metadata: Record<string, string> = {};
    if (typeof metadataRaw === 'string' && metadataRaw !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(metadataRaw);
      } catch (err) {
        throw new VaultApiError(400, `failed to parse metadata: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [key, value] of Object.entries(parsed)) metadata[key] = String(value);
      }
    }
    const entry: SecretId = { accessor: randomUUID(), createdAt: now(), ttl, usesLeft: uses, metadata };
    role.secretIds.set(secretId, entry);
    return envelope({ secret_id: secretId, secret_id_accessor: entry.accessor, secret_id_ttl: ttl, secret_id_num_uses: uses });
  }

  function login(request: VaultRequest) {
    const roleId = str(request.body, 'role_id').trim();
    if (roleId === '') throw new VaultApiError(400, 'missing role_id');
    const found = [...roles.entries()].find(([, role]) => role.roleId === roleId);
    if (!found) throw new VaultApiError(400, INVALID);
    const [name, role] = found;
    const secretIdText = str(request.body, 'secret_id').trim();
    if (role.bindSecretId) {
      if (secretIdText === '') throw new VaultApiError(400, 'missing secret_id');
      const secret = role.secretIds.get(secretIdText);
      if (!secret) throw new VaultApiError(400, INVALID);
      if (secret.ttl > 0 && secret.createdAt.getTime() + secret.ttl * 1000 <= now().getTime()) {
        role.secretIds.delete(secretIdText);
        throw new VaultApiError(400, INVALID);
      }
      if (secret.usesLeft > 0) {
        secret.usesLeft -= 1;
        if (secret.usesLeft === 0) role.secretIds.delete(secretIdText);
      }
    }
    const record = tokens.issue({
      policies: role.tokenPolicies,
      ttl: role.tokenTtl,
      maxTtl: role.tokenMaxTtl,
      renewable: true,
      displayName: mount,
      meta: { role_name: name },
      path: `auth/${mount}/login`,
      orphan: true,
      numUses: role.tokenNumUses,
    });
    return envelope(null, { auth: tokens.authBlock(record) });
  }

  return [
    {
      pattern: `auth/${mount}/role`,
      auth: 'root',
      operations: {
        list: () => {
          const names = [...roles.keys()].sort();
          if (names.length === 0) throw new VaultApiError(404);
          return envelope({ keys: names });
        },
      },
    },
    {
      pattern: `auth/${mount}/role/:name`,
      auth: 'root',
      operations: {
        update: (_, request) => writeRole(request),
        read: (_, request) => {
          const role = roleOf(request);
          if (!role) throw new VaultApiError(404);
          return envelope(roleData(role));
        },
        delete: (_, request) => {
          roles.delete((request.params.name ?? '').toLowerCase());
          return noContent();
        },
      },
    },
    {
      pattern: `auth/${mount}/role/:name/role-id`,
      auth: 'root',
      operations: {
        read: (_, request) => {
          const role = roleOf(request);
          if (!role) throw new VaultApiError(404);
          return envelope({ role_id: role.roleId });
        },
      },
    },
    { pattern: `auth/${mount}/role/:name/secret-id`, auth: 'root', operations: { update: (_, request) => newSecretId(request) } },
    { pattern: `auth/${mount}/login`, auth: 'none', operations: { update: (_, request) => login(request) } },
  ];
}
