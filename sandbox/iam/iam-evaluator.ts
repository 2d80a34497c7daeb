/**
 * The one module that imports @cloud-copilot/iam-simulate (and its iam-policy): AWS's policy
 * evaluation logic (explicit Deny wins, an Allow is needed, identity and resource policies
 * combined per same-account rules, KMS key policies' own trust rule, every condition operator).
 *
 * Both packages are AGPL-3.0 development dependencies. Only iam-authorizer.ts loads this module,
 * and only with a dynamic import() when a sandbox starts enforcing IAM, so nothing that ships
 * (the Lambda bundles, and the CLI's non-sandbox commands) loads it; dependency-cruiser enforces
 * both rules (.dependency-cruiser.cjs).
 */
import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { createValidatedPolicy, validateIdentityPolicy, validateResourcePolicy } from '@cloud-copilot/iam-policy';
import type { NamedPolicy, PolicyDocument } from './template-iam';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface EvaluationRequest {
  /** The caller's role ARN (STS session ARNs are matched by their role). */
  principal: string;
  action: string;
  resource: string;
  resourceAccount: string;
  /** Condition keys of the request: `aws:PrincipalArn`, `kms:EncryptionContext:<key>`, `events:source`, ... */
  context: Record<string, string | string[]>;
  identityPolicies: readonly NamedPolicy[];
  resourcePolicy?: NamedPolicy;
}

/** Throws, naming the policy and the problem, when a policy is not valid IAM: the template is wrong. */
export function validatePolicies(identityPolicies: readonly NamedPolicy[], resourcePolicies: readonly NamedPolicy[]): void {
  const problems = [
    ...identityPolicies.flatMap((policy) => validateIdentityPolicy(policy.policy).map((error) => `${policy.name}: ${error.message} at ${error.path}`)),
    ...resourcePolicies.flatMap((policy) => validateResourcePolicy(policy.policy).map((error) => `${policy.name}: ${error.message} at ${error.path}`)),
  ];
  if (problems.length > 0) throw new Error(`the template has invalid IAM policies: ${problems.join('; ')}`);
}

/**
 * The "unsafe" entry point skips iam-simulate's check of context keys against its service data,
 * which (0.1.173) drops colon-suffixed keys such as `kms:EncryptionContext:vault-cluster`; the
 * sandbox builds the context itself and validates the policies once (validatePolicies).
 */
export function evaluate(request: EvaluationRequest): Decision {
  return runUnsafeSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.resourceAccount },
        contextVariables: request.context,
      },
      identityPolicies: request.identityPolicies.map((policy) => ({ name: policy.name, policy: policy.policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      // A validated policy carries the name iam-simulate's analysis needs for a resource policy.
      ...(request.resourcePolicy
        ? { resourcePolicy: createValidatedPolicy(request.resourcePolicy.policy as PolicyDocument, validateResourcePolicy, { name: request.resourcePolicy.name }) }
        : {}),
    },
    {},
  ) as Decision;
}
