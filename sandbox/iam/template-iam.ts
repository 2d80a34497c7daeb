import { resolveValue, type CfnTemplate, type ResolveOptions } from '../runner/template-resolver';

/**
 * The IAM half of a synthesized template, evaluated into what the sandbox authorizes with: every
 * role (its ARN and identity policies: the inline `Policies` of the role and every AWS::IAM::Policy
 * attached to it) and every resource policy the sandbox's services hold (KMS key policies, event
 * bus policies). Intrinsics are resolved with the same names the runner uses, so an ARN in a policy
 * is the ARN the call names.
 */
export interface PolicyDocument {
  Version?: string;
  Statement: unknown[];
}

export interface NamedPolicy {
  name: string;
  policy: PolicyDocument;
}

export interface TemplateRole {
  logicalId: string;
  arn: string;
  identityPolicies: NamedPolicy[];
  /** Who may assume the role (its AssumeRolePolicyDocument). */
  trustPolicy: PolicyDocument;
}

export interface TemplateIam {
  roles: TemplateRole[];
  /** Key policies by key logical id. */
  keyPolicies: Record<string, PolicyDocument>;
  /** Bus policies by bus name: every AWS::Events::EventBusPolicy statement on that bus. */
  busPolicies: Record<string, PolicyDocument>;
}

type Props = Record<string, unknown>;

/** The ARN a role of the template has in the sandbox: its RoleName, or its logical id when CDK names it. */
export function sandboxRoleArn(accountId: string, logicalId: string, properties: Props): string {
  const name = typeof properties['RoleName'] === 'string' ? properties['RoleName'] : logicalId;
  return `arn:aws:iam::${accountId}:role/${name}`;
}

export function templateIam(template: CfnTemplate, options: ResolveOptions & { accountId: string }): TemplateIam {
  const resolve = <T>(value: unknown) => resolveValue(template, value, options) as T;
  const roles = new Map<string, TemplateRole>();
  const keyPolicies: Record<string, PolicyDocument> = {};
  const busPolicies: Record<string, PolicyDocument> = {};
  const resources = Object.entries(template.Resources);

  for (const [logicalId, resource] of resources) {
    const props = (resource.Properties ?? {}) as Props;
    if (resource.Type === 'AWS::IAM::Role') {
      const inline = ((props['Policies'] ?? []) as Array<{ PolicyName: string; PolicyDocument: unknown }>).map((policy) => ({
        name: `${logicalId}/${policy.PolicyName}`,
        policy: resolve<PolicyDocument>(policy.PolicyDocument),
      }));
      // Managed policies live outside the template: certflow attaches none (a test asserts it), so
      // one here would be a permission the sandbox cannot see; refuse rather than under-grant silently.
      if (props['ManagedPolicyArns'] !== undefined) throw new Error(`role ${logicalId} has managed policies, which the sandbox cannot evaluate`);
      const trustPolicy = resolve<PolicyDocument>(props['AssumeRolePolicyDocument'] ?? { Statement: [] });
      roles.set(logicalId, { logicalId, arn: sandboxRoleArn(options.accountId, logicalId, props), identityPolicies: inline, trustPolicy });
    } else if (resource.Type === 'AWS::KMS::Key' && props['KeyPolicy'] !== undefined) {
      keyPolicies[logicalId] = resolve<PolicyDocument>(props['KeyPolicy']);
    } else if (resource.Type === 'AWS::Events::EventBusPolicy') {
      const bus = resolve<string>(props['EventBusName'] ?? 'default');
      const statement = props['Statement'] === undefined ? undefined : { Sid: props['StatementId'], ...resolve<Record<string, unknown>>(props['Statement']) };
      if (!statement) throw new Error(`bus policy ${logicalId} uses the Action/Principal form, which the sandbox does not read`);
      (busPolicies[bus] ??= { Version: '2012-10-17', Statement: [] }).Statement.push(statement);
    }
  }
  for (const [logicalId, resource] of resources) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const props = (resource.Properties ?? {}) as Props;
    const document = resolve<PolicyDocument>(props['PolicyDocument']);
    for (const ref of (props['Roles'] ?? []) as Array<{ Ref?: string }>) {
      const role = ref.Ref === undefined ? undefined : roles.get(ref.Ref);
      if (!role) throw new Error(`policy ${logicalId} is attached to ${JSON.stringify(ref)}, which is not a role of this template`);
      role.identityPolicies.push({ name: String(props['PolicyName'] ?? logicalId), policy: document });
    }
  }
  return { roles: [...roles.values()], keyPolicies, busPolicies };
}
