import * as z from 'zod';

/**
 * Vault's ACL policies, enforced on every logical path a non-root token calls: the policy
 * document in its JSON form (`{"path": {"<glob>": {"capabilities": [...]}}}`, which Vault accepts
 * wherever it accepts HCL), path globs `*` (a trailing prefix glob) and `+` (one segment), and
 * Vault's priority rules for which of several matching paths of one policy applies (the most
 * specific, as Vault's policy documentation orders them). Capabilities
 * of the token's policies are unioned; `deny` wins over everything. `root` allows everything.
 */
export const Capabilities = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'] as const;
export type Capability = (typeof Capabilities)[number];

const PathRule = z.object({ capabilities: z.array(z.enum(Capabilities)).min(1) }).strict();
export const AclPolicyDocument = z.object({ path: z.record(z.string().min(1), PathRule) }).strict();
export type AclPolicyDocument = z.infer<typeof AclPolicyDocument>;

export class AclPolicyError extends Error {
  override readonly name = 'AclPolicyError';
}

/** Parses a policy's text (Vault's JSON form); an invalid one is a 400 for the caller. */
export function parseAclPolicy(text: string): AclPolicyDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AclPolicyError('failed to parse policy: the sandbox accepts the JSON form of a policy only');
  }
  const parsed = AclPolicyDocument.safeParse(json);
  if (!parsed.success) throw new AclPolicyError(`failed to parse policy: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return parsed.data;
}

/** Whether a policy path (with `+` and a trailing `*`) covers a request path. */
function covers(pattern: string, path: string): boolean {
  const glob = pattern.endsWith('*');
  const patternSegments = (glob ? pattern.slice(0, -1) : pattern).split('/');
  const pathSegments = path.split('/');
  for (let i = 0; i < patternSegments.length; i += 1) {
    const want = patternSegments[i]!;
    const have = pathSegments[i];
    if (have === undefined) return false;
    const last = i === patternSegments.length - 1;
    if (want === '+') {
      if (have === '' && !(glob && last)) return false;
      continue;
    }
    if (glob && last) return have.startsWith(want);
    if (want !== have) return false;
  }
  return glob || patternSegments.length === pathSegments.length;
}

/** Vault's priority: true when `a` is lower priority than `b` (both match). */
function lowerPriority(a: string, b: string): boolean {
  const firstWildcard = (p: string) => {
    const indexes = [p.indexOf('+'), p.endsWith('*') ? p.length - 1 : -1].filter((index) => index >= 0);
    return indexes.length ? Math.min(...indexes) : Number.POSITIVE_INFINITY;
  };
  if (firstWildcard(a) !== firstWildcard(b)) return firstWildcard(a) < firstWildcard(b);
  if (a.endsWith('*') !== b.endsWith('*')) return a.endsWith('*');
  const plus = (p: string) => p.split('/').filter((segment) => segment === '+').length;
  if (plus(a) !== plus(b)) return plus(a) > plus(b);
  if (a.length !== b.length) return a.length < b.length;
  return a < b;
}

/** The capabilities one policy grants on a path: its most specific matching rule's. */
export function capabilitiesOf(policy: AclPolicyDocument, path: string): Set<Capability> {
  let best: string | undefined;
  for (const pattern of Object.keys(policy.path)) {
    if (covers(pattern, path) && (best === undefined || lowerPriority(best, pattern))) best = pattern;
  }
  return new Set(best === undefined ? [] : policy.path[best]!.capabilities);
}

/** The union over a token's policies; `deny` in any of them empties it. */
export function tokenCapabilities(policies: ReadonlyMap<string, AclPolicyDocument>, tokenPolicies: readonly string[], path: string): Set<Capability> {
  const all = new Set<Capability>();
  for (const name of tokenPolicies) {
    const policy = policies.get(name);
    if (!policy) continue;
    for (const capability of capabilitiesOf(policy, path)) all.add(capability);
  }
  return all.has('deny') ? new Set() : all;
}

export interface StoredPolicy {
  readonly text: string;
  readonly document: AclPolicyDocument;
}

/** Vault's built-in `default` policy, the part of it a certflow token uses (its own token). */
export const DEFAULT_POLICY_TEXT = JSON.stringify({
  path: {
    'auth/token/lookup-self': { capabilities: ['read'] },
    'auth/token/renew-self': { capabilities: ['update'] },
    'auth/token/revoke-self': { capabilities: ['update'] },
    'sys/capabilities-self': { capabilities: ['update'] },
  },
});

export function defaultPolicies(): Map<string, StoredPolicy> {
  return new Map([['default', { text: DEFAULT_POLICY_TEXT, document: parseAclPolicy(DEFAULT_POLICY_TEXT) }]]);
}

