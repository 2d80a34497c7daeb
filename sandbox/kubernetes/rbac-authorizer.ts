import * as z from 'zod';
import { KubernetesApiError, qualifiedResource } from './api-status';
import type { ResourceTarget } from './request-path';

/**
 * Kubernetes RBAC (rbac.authorization.k8s.io/v1) as the API server's authorizer applies it to an
 * authenticated user: Roles and ClusterRoles hold rules (apiGroups, resources with `<resource>/<sub>`
 * for subresources, verbs, resourceNames; `*` anywhere), RoleBindings grant a Role or a ClusterRole
 * in their own namespace, ClusterRoleBindings grant a ClusterRole everywhere. Subjects are a User,
 * a Group or a ServiceAccount (`system:serviceaccount:<ns>:<name>`). Members of `system:masters`
 * are allowed everything, as the API server's superuser group. Nothing else is allowed: RBAC only
 * adds. A refusal is 403 `Forbidden` with the API server's message:
 *   secrets "x" is forbidden: User "certflow" cannot get resource "secrets" in API group "" in the namespace "kube-system"
 * The objects are given to the authorizer (the sandbox applies the shipped deploy/kubernetes/rbac.yaml);
 * the emulator does not serve the rbac.authorization.k8s.io group itself.
 */

export interface KubernetesUser {
  readonly name: string;
  readonly groups: readonly string[];
}

/** The API server's superuser group: every request of a member is allowed. */
export const SYSTEM_MASTERS = 'system:masters';

const Metadata = z.object({ name: z.string().min(1), namespace: z.string().min(1).optional() }).passthrough();
const PolicyRule = z.object({
  apiGroups: z.array(z.string()).default([]),
  resources: z.array(z.string()).default([]),
  verbs: z.array(z.string()).min(1),
  resourceNames: z.array(z.string()).default([]),
});
const RoleSchema = z.object({ apiVersion: z.literal('rbac.authorization.k8s.io/v1'), kind: z.enum(['Role', 'ClusterRole']), metadata: Metadata, rules: z.array(PolicyRule).default([]) });
const Subject = z.object({ kind: z.enum(['User', 'Group', 'ServiceAccount']), name: z.string().min(1), namespace: z.string().optional(), apiGroup: z.string().optional() });
const BindingSchema = z.object({
  apiVersion: z.literal('rbac.authorization.k8s.io/v1'),
  kind: z.enum(['RoleBinding', 'ClusterRoleBinding']),
  metadata: Metadata,
  roleRef: z.object({ apiGroup: z.literal('rbac.authorization.k8s.io'), kind: z.enum(['Role', 'ClusterRole']), name: z.string().min(1) }),
  subjects: z.array(Subject).default([]),
});
const RbacObject = z.discriminatedUnion('kind', [
  RoleSchema.extend({ kind: z.literal('Role') }),
  RoleSchema.extend({ kind: z.literal('ClusterRole') }),
  BindingSchema.extend({ kind: z.literal('RoleBinding') }),
  BindingSchema.extend({ kind: z.literal('ClusterRoleBinding') }),
]);
type Rule = z.infer<typeof PolicyRule>;
type Binding = z.infer<typeof BindingSchema>;

function ruleAllows(rule: Rule, target: ResourceTarget): boolean {
  const verbOk = rule.verbs.includes('*') || rule.verbs.includes(target.verb);
  const groupOk = rule.apiGroups.includes('*') || rule.apiGroups.includes(target.kind.group);
  const resource = target.subresource ? `${target.kind.resource}/${target.subresource}` : target.kind.resource;
  const resourceOk = rule.resources.some(
    (entry) => entry === '*' || entry === resource || (target.subresource !== undefined && (entry === `${target.kind.resource}/*` || entry === `*/${target.subresource}`)),
  );
  // resourceNames restrict requests that name an object; a list or create names none, so it is not allowed by such a rule.
  const nameOk = rule.resourceNames.length === 0 || (target.name !== undefined && rule.resourceNames.includes(target.name));
  return verbOk && groupOk && resourceOk && nameOk;
}

function subjectMatches(binding: Binding, user: KubernetesUser): boolean {
  return binding.subjects.some((subject) => {
    if (subject.kind === 'User') return subject.name === user.name;
    if (subject.kind === 'Group') return user.groups.includes(subject.name);
    return user.name === `system:serviceaccount:${subject.namespace ?? binding.metadata.namespace ?? ''}:${subject.name}`;
  });
}

export class RbacAuthorizer {
  private readonly roles = new Map<string, Rule[]>();
  private readonly clusterRoles = new Map<string, Rule[]>();
  private readonly bindings: Binding[] = [];

  /** Applies RBAC objects (as `kubectl apply` would create them); a malformed one is an Error naming it. */
  apply(objects: readonly unknown[]): void {
    for (const raw of objects) {
      const parsed = RbacObject.safeParse(raw);
      if (!parsed.success) throw new Error(`not an RBAC object the emulator takes: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
      const object = parsed.data;
      if (object.kind === 'Role') {
        if (!object.metadata.namespace) throw new Error(`Role ${object.metadata.name} has no namespace`);
        this.roles.set(`${object.metadata.namespace}/${object.metadata.name}`, object.rules);
      } else if (object.kind === 'ClusterRole') {
        this.clusterRoles.set(object.metadata.name, object.rules);
      } else {
        if (object.kind === 'RoleBinding' && !object.metadata.namespace) throw new Error(`RoleBinding ${object.metadata.name} has no namespace`);
        if (object.kind === 'ClusterRoleBinding' && object.roleRef.kind !== 'ClusterRole') throw new Error(`ClusterRoleBinding ${object.metadata.name} must refer to a ClusterRole`);
        const index = this.bindings.findIndex((binding) => binding.kind === object.kind && binding.metadata.name === object.metadata.name && binding.metadata.namespace === object.metadata.namespace);
        if (index >= 0) this.bindings.splice(index, 1);
        this.bindings.push(object);
      }
    }
  }

  /** Whether `user` may do `target`; a binding to a role that does not exist grants nothing. */
  allows(user: KubernetesUser, target: ResourceTarget): boolean {
    if (user.groups.includes(SYSTEM_MASTERS)) return true;
    return this.bindings.some((binding) => {
      if (!subjectMatches(binding, user)) return false;
      if (binding.kind === 'RoleBinding' && binding.metadata.namespace !== target.namespace) return false;
      const rules = binding.roleRef.kind === 'Role' ? this.roles.get(`${binding.metadata.namespace}/${binding.roleRef.name}`) : this.clusterRoles.get(binding.roleRef.name);
      return (rules ?? []).some((rule) => ruleAllows(rule, target));
    });
  }

  /** Throws the API server's 403 when `user` may not do `target`. */
  authorize(user: KubernetesUser, target: ResourceTarget): void {
    if (this.allows(user, target)) return;
    throw forbidden(user, target);
  }
}

/** The API server's Forbidden Status for an RBAC refusal (its message and details). */
export function forbidden(user: KubernetesUser, target: ResourceTarget): KubernetesApiError {
  const resource = target.subresource ? `${target.kind.resource}/${target.subresource}` : target.kind.resource;
  const object = target.name === undefined ? qualifiedResource(target.kind) : `${qualifiedResource(target.kind)} "${target.name}"`;
  const scope = target.namespace === undefined ? 'at the cluster scope' : `in the namespace "${target.namespace}"`;
  const message = `${object} is forbidden: User "${user.name}" cannot ${target.verb} resource "${resource}" in API group "${target.kind.group}" ${scope}`;
  return new KubernetesApiError(403, 'Forbidden', message, {
    ...(target.name === undefined ? {} : { name: target.name }),
    ...(target.kind.group === '' ? {} : { group: target.kind.group }),
    kind: target.kind.resource,
  });
}
