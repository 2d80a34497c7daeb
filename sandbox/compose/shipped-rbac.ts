import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../../lib/repo-root';
import type { KubernetesEmulatorHandle } from '../kubernetes/kubernetes-emulator';

/** The shipped Kubernetes RBAC, as an operator applies it (`kubectl apply -f deploy/kubernetes/rbac.yaml`). */
export const SHIPPED_RBAC_PATH = join(repoRoot(), 'deploy', 'kubernetes', 'rbac.yaml');

/** The user the shipped RoleBindings name: the identity the functions' cluster token authenticates. */
export const CERTFLOW_KUBERNETES_USER = 'certflow';

/**
 * Applies the shipped RBAC to the sandbox's cluster and returns a bearer token of its user: the
 * token the functions get, so every workflow runs under exactly the shipped Roles (the sandbox's
 * own seeding, controllers and kubectl keep the administrator's token).
 */
export function applyShippedRbac(kubernetes: KubernetesEmulatorHandle): string {
  const documents = parseAllDocuments(readFileSync(SHIPPED_RBAC_PATH, 'utf8'));
  const objects = (Array.isArray(documents) ? documents : [documents]).map((document) => {
    if (document.errors.length > 0) throw new Error(`${SHIPPED_RBAC_PATH}: ${document.errors[0]!.message}`);
    return document.toJS() as unknown;
  });
  kubernetes.applyRbac(objects.filter((object) => object !== null));
  return kubernetes.addUser(CERTFLOW_KUBERNETES_USER);
}
