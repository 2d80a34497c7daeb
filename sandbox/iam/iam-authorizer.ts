import { AwsJsonError } from '../aws-json/aws-json-error';
import type { Decision, EvaluationRequest } from './iam-evaluator';
import type { NamedPolicy, PolicyDocument } from './template-iam';

/** Who an access key belongs to: a role of the template, or the sandbox's operator. */
export interface SandboxIdentity {
  accessKeyId: string;
  roleArn: string;
  /** The STS session ARN AWS names in AccessDenied messages (`assumed-role/<name>/<session>`). */
  sessionArn: string;
  identityPolicies: readonly NamedPolicy[];
}

/** One AWS call to authorize: the IAM action, the resource ARN and the request's condition keys. */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  /** Service condition keys (`kms:EncryptionContext:<key>`, `events:source`); the global ones are added here. */
  context?: Record<string, string | string[]>;
}

export interface AuthorizationCounts {
  authorized: number;
  denied: number;
  /** Authorized calls per IAM action (`kms:Decrypt`: 9). */
  authorizedByAction: Record<string, number>;
}

export interface Denial {
  caller: string;
  action: string;
  resource: string;
  decision: Decision | 'UnrecognizedClient';
}

type Evaluator = typeof import('./iam-evaluator');

/**
 * Decides every AWS call the sandbox serves once a template is provisioned: the caller (from the
 * request's access key) with its identity policies, the resource's policy, and AWS's evaluation
 * logic (iam-evaluator.ts). A denial answers as AWS does: AccessDeniedException naming the
 * caller's session ARN and the action. Counts every decision for the simulate report.
 */
export class IamAuthorizer {
  private readonly identities = new Map<string, SandboxIdentity>();
  private readonly resourcePolicies = new Map<string, NamedPolicy>();
  private readonly trustPolicies = new Map<string, NamedPolicy>();
  private readonly counts: AuthorizationCounts = { authorized: 0, denied: 0, authorizedByAction: {} };
  private readonly denials: Denial[] = [];
  private evaluator: Promise<Evaluator> | undefined;
  // The same caller making the same call decides the same way while the policies stay as they are:
  // a 1,000-event fault test makes thousands of identical calls. Cleared whenever a policy changes.
  private readonly decided = new Map<string, Decision>();

  constructor(private readonly accountId: string) {}

  addIdentity(identity: SandboxIdentity): void {
    this.decided.clear();
    this.identities.set(identity.accessKeyId, identity);
  }

  /** The resource policy of one resource (a KMS key's key policy, a bus's policy), by its ARN. */
  setResourcePolicy(resourceArn: string, name: string, policy: PolicyDocument): void {
    this.decided.clear();
    this.resourcePolicies.set(resourceArn, { name, policy });
  }

  /** Who may assume a role of the template: its trust policy (AssumeRolePolicyDocument). */
  setTrustPolicy(roleArn: string, name: string, policy: PolicyDocument): void {
    this.decided.clear();
    this.trustPolicies.set(roleArn, { name, policy });
  }

  /**
   * Decides whether an AWS service (`lambda.amazonaws.com`, `states.amazonaws.com`,
   * `events.amazonaws.com`) may assume a role, by the role's trust policy, before the sandbox hands
   * that service the role's credentials: a function whose role Lambda may not assume never runs,
   * as in AWS. Roles the template does not declare (the operator, the reporters) are not checked.
   * The service names the resource it acts for (`aws:SourceArn`, with `aws:SourceAccount`), which
   * the confused-deputy conditions of CDK's trust policies test.
   * @throws AwsJsonError AccessDenied naming the service, the action and the role
   */
  async assumeRole(servicePrincipal: string, roleArn: string, sourceArn?: string): Promise<void> {
    const trust = this.trustPolicies.get(roleArn);
    if (!trust) return;
    const evaluator = await this.loadEvaluator();
    const cacheKey = JSON.stringify(['sts:AssumeRole', servicePrincipal, roleArn, sourceArn]);
    const context = { 'aws:SourceAccount': this.accountId, ...(sourceArn ? { 'aws:SourceArn': sourceArn } : {}) };
    const decision =
      this.decided.get(cacheKey) ??
      evaluator.evaluate({ principal: servicePrincipal, action: 'sts:AssumeRole', resource: roleArn, resourceAccount: this.accountId, context, identityPolicies: [], resourcePolicy: trust });
    this.decided.set(cacheKey, decision);
    if (decision === 'Allowed') return;
    this.deny({ caller: servicePrincipal, action: 'sts:AssumeRole', resource: roleArn, decision });
    throw new AwsJsonError('AccessDenied', `${servicePrincipal} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
  }

  /** Loads the evaluator and checks every policy once, so a malformed template fails at provisioning. */
  async validate(): Promise<void> {
    const evaluator = await this.loadEvaluator();
    evaluator.validatePolicies([...this.identities.values()].flatMap((identity) => identity.identityPolicies), [...this.resourcePolicies.values(), ...this.trustPolicies.values()]);
  }

  identityOf(accessKeyId: string): SandboxIdentity | undefined {
    return this.identities.get(accessKeyId);
  }

  /** @throws AwsJsonError AccessDeniedException, UnrecognizedClientException or MissingAuthenticationTokenException */
  async authorize(accessKeyId: string | undefined, request: AuthorizationRequest): Promise<void> {
    if (accessKeyId === undefined) {
      this.deny({ caller: '(anonymous)', action: request.action, resource: request.resource, decision: 'UnrecognizedClient' });
      throw new AwsJsonError('MissingAuthenticationTokenException', 'Request is missing Authentication Token', 403);
    }
    const identity = this.identities.get(accessKeyId);
    if (!identity) {
      this.deny({ caller: accessKeyId, action: request.action, resource: request.resource, decision: 'UnrecognizedClient' });
      throw new AwsJsonError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    const evaluator = await this.loadEvaluator();
    const evaluation: EvaluationRequest = {
      principal: identity.roleArn,
      action: request.action,
      resource: request.resource,
      resourceAccount: this.accountId,
      context: {
        'aws:PrincipalArn': identity.roleArn,
        'aws:PrincipalAccount': this.accountId,
        'aws:PrincipalType': 'AssumedRole',
        ...request.context,
      },
      identityPolicies: identity.identityPolicies,
      ...this.resourcePolicyOf(request),
    };
    const cacheKey = JSON.stringify([accessKeyId, request.action, request.resource, request.context ?? {}]);
    const decision = this.decided.get(cacheKey) ?? evaluator.evaluate(evaluation);
    this.decided.set(cacheKey, decision);
    if (decision === 'Allowed') {
      this.counts.authorized += 1;
      this.counts.authorizedByAction[request.action] = (this.counts.authorizedByAction[request.action] ?? 0) + 1;
      return;
    }
    this.deny({ caller: identity.sessionArn, action: request.action, resource: request.resource, decision });
    const why = decision === 'ExplicitlyDenied' ? 'with an explicit deny in a policy' : `because no policy allows the ${request.action} action`;
    throw new AwsJsonError('AccessDeniedException', `User: ${identity.sessionArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`);
  }

  /** How many calls were authorized and denied since the sandbox started enforcing. */
  decisions(): AuthorizationCounts {
    return { ...this.counts, authorizedByAction: { ...this.counts.authorizedByAction } };
  }

  /** Every denied call, in order (caller, action, resource): never request payloads. */
  deniedCalls(): Denial[] {
    return this.denials.map((denial) => ({ ...denial }));
  }

  private resourcePolicyOf(request: AuthorizationRequest): { resourcePolicy?: NamedPolicy } {
    const policy = this.resourcePolicies.get(request.resource);
    if (policy) return { resourcePolicy: policy };
    // Every KMS key has a key policy; one created without a policy gets KMS's default, which lets
    // the account's IAM policies decide (the sandbox's own awskms seal key is one such).
    if (request.action.startsWith('kms:')) {
      return {
        resourcePolicy: {
          name: 'default-key-policy',
          policy: { Version: '2012-10-17', Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${this.accountId}:root` }, Action: 'kms:*', Resource: '*' }] },
        },
      };
    }
    return {};
  }

  private deny(denial: Denial): void {
    this.counts.denied += 1;
    this.denials.push(denial);
  }

  private loadEvaluator(): Promise<Evaluator> {
    // Loaded on first use only: see iam-evaluator.ts for why (its licence).
    this.evaluator ??= import('./iam-evaluator');
    return this.evaluator;
  }
}
