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
import { Module } from 'node:module';
import type * as IamSimulate from '@cloud-copilot/iam-simulate';
import type * as IamPolicy from '@cloud-copilot/iam-policy';
import type { NamedPolicy, PolicyDocument } from './template-iam';

type NodeLoader = { _load(request: string, parent: unknown, isMain: boolean): unknown; _nodeModulePaths(from: string): string[] };

/**
 * Both packages through Node's own loader, once per process: under jest, a plain import would load
 * them again in every test file's module registry (167 ms a file, measured 2026-12-03, for the
 * action data they read), and each of some 40 files that start a sandbox pays it. They evaluate
 * JSON documents and return plain answers, so crossing from jest's context changes nothing; the
 * IAM tests (test/workflow/iam-enforcement.test.ts) are the check. In the CLI this is the
 * import it replaces: the bundle keeps its packages external.
 */
function loadNatively<T>(request: string): T {
  const loader = Module as unknown as NodeLoader;
  const parent = new Module(__filename) as InstanceType<typeof Module> & { paths: string[] };
  parent.paths = loader._nodeModulePaths(__dirname);
  return loader._load(request, parent, false) as T;
}

const { runUnsafeSimulation } = loadNatively<typeof IamSimulate>('@cloud-copilot/iam-simulate');
const { createValidatedPolicy, validateIdentityPolicy, validateResourcePolicy } = loadNatively<typeof IamPolicy>('@cloud-copilot/iam-policy');

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
