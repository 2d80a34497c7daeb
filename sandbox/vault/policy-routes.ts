import { AclPolicyError, parseAclPolicy } from './acl-policies';
import { envelope, noContent, VaultApiError } from './envelope';
import { fieldOf } from './request-values';
import type { RouteContext, RouteDefinition, RouteModule, VaultRequest } from './router';

/**
 * The ACL policy store: `sys/policies/acl/:name` (read, write `{policy}`, delete), its LIST, and
 * the older `sys/policy/:name` (`{policy}` or `{rules}`). Writing needs the root token here
 * (Vault asks for `sudo`-level capabilities on these paths; operators use root for set-up).
 * `root` and `default` cannot be written or deleted through `sys/policy` either.
 */
function nameOf(request: VaultRequest): string {
  const name = (request.params.name ?? '').toLowerCase();
  if (!/^[a-z0-9_.-]{1,128}$/.test(name)) throw new VaultApiError(400, 'invalid policy name');
  return name;
}

function write({ cluster }: RouteContext, request: VaultRequest, field: 'policy' | 'rules') {
  const name = nameOf(request);
  if (name === 'root') throw new VaultApiError(400, 'cannot update "root" policy');
  const text = fieldOf(request.body, 'policy') ?? (field === 'rules' ? fieldOf(request.body, 'rules') : undefined);
  if (typeof text !== 'string' || text.trim() === '') throw new VaultApiError(400, "'policy' parameter not supplied or empty");
  try {
    cluster.storage.aclPolicies.set(name, { text, document: parseAclPolicy(text) });
  } catch (error) {
    if (error instanceof AclPolicyError) throw new VaultApiError(400, error.message);
    throw error;
  }
  return noContent();
}

function read({ cluster }: RouteContext, request: VaultRequest, legacy: boolean) {
  const name = nameOf(request);
  const stored = cluster.storage.aclPolicies.get(name);
  if (!stored) throw new VaultApiError(404);
  return envelope(legacy ? { name, rules: stored.text } : { name, policy: stored.text });
}

function remove({ cluster }: RouteContext, request: VaultRequest) {
  const name = nameOf(request);
  if (name === 'root' || name === 'default') throw new VaultApiError(400, `cannot delete "${name}" policy`);
  cluster.storage.aclPolicies.delete(name);
  return noContent();
}

export const createPolicyRoutes: RouteModule = (): readonly RouteDefinition[] => [
  {
    pattern: 'sys/policies/acl/:name',
    auth: 'root',
    operations: { read: (ctx, req) => read(ctx, req, false), update: (ctx, req) => write(ctx, req, 'policy'), delete: remove },
  },
  { pattern: 'sys/policies/acl', auth: 'root', operations: { list: ({ cluster }) => envelope({ keys: ['root', ...[...cluster.storage.aclPolicies.keys()].sort()] }) } },
  {
    pattern: 'sys/policy/:name',
    auth: 'root',
    operations: { read: (ctx, req) => read(ctx, req, true), update: (ctx, req) => write(ctx, req, 'rules'), delete: remove },
  },
];
