import { loadTemplate } from '../support/template';

/**
 * `AwsSolutions-IAM5[Resource::*]` is acknowledged per role, so cdk-nag alone would let a new `*`
 * grant through silently (issue 13 item 7). This test pins every `Resource: "*"` statement of the
 * template to the actions that support no resource-level permission: a new one fails here until
 * someone adds it below with its reason.
 */
const ALLOWED_ON_EVERY_RESOURCE: Record<string, string> = {
  // Active tracing on the functions and the state machines: X-Ray has no resource-level permissions.
  'xray:PutTraceSegments': 'X-Ray tracing',
  'xray:PutTelemetryRecords': 'X-Ray tracing',
  'xray:GetSamplingRules': 'X-Ray tracing (state machines)',
  'xray:GetSamplingTargets': 'X-Ray tracing (state machines)',
  // Step Functions' vended logs: the log-delivery APIs take no resource ARN (CloudWatch Logs docs).
  'logs:CreateLogDelivery': 'state-machine logging',
  'logs:DeleteLogDelivery': 'state-machine logging',
  'logs:DescribeLogGroups': 'state-machine logging',
  'logs:DescribeResourcePolicies': 'state-machine logging',
  'logs:GetLogDelivery': 'state-machine logging',
  'logs:ListLogDeliveries': 'state-machine logging',
  'logs:PutResourcePolicy': 'state-machine logging',
  'logs:UpdateLogDelivery': 'state-machine logging',
  // Lambda places each function in the configured VPC with the function's role (lib/constructs/network-placement.ts).
  'ec2:DescribeNetworkInterfaces': 'VPC placement',
  'ec2:DescribeSubnets': 'VPC placement',
  'ec2:DescribeSecurityGroups': 'VPC placement',
};

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
}

function wildcardGrants(): Array<{ resource: string; action: string }> {
  const template = loadTemplate() as unknown as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
  const grants: Array<{ resource: string; action: string }> = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const documents: Array<{ Statement: Statement[] }> =
      resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy'
        ? [resource.Properties['PolicyDocument']]
        : resource.Type === 'AWS::IAM::Role'
          ? (resource.Properties['Policies'] ?? []).map((policy: { PolicyDocument: unknown }) => policy.PolicyDocument)
          : [];
    for (const statement of documents.flatMap((document) => document.Statement)) {
      if (statement.Effect !== 'Allow' || ![statement.Resource].flat().includes('*')) continue;
      for (const action of [statement.Action].flat()) grants.push({ resource: logicalId, action });
    }
  }
  return grants;
}

describe('wildcard grants', () => {
  it('grants "*" resources only for actions that support no resource-level permission', () => {
    const grants = wildcardGrants();
    expect(grants.length).toBeGreaterThan(0);
    expect(grants.filter((grant) => !(grant.action in ALLOWED_ON_EVERY_RESOURCE))).toEqual([]);
  });

  it('allows no wildcard action (service:*) in any identity, key, queue, topic or bus policy', () => {
    const template = loadTemplate() as unknown as { Resources: Record<string, { Properties?: Record<string, unknown> }> };
    const wildcards: string[] = [];
    const visit = (value: unknown, where: string): void => {
      if (Array.isArray(value)) return value.forEach((item) => visit(item, where));
      if (!value || typeof value !== 'object') return;
      const statement = value as Partial<Statement>;
      if (statement.Effect === 'Allow' && statement.Action !== undefined) {
        for (const action of [statement.Action].flat()) if (/^[a-z0-9-]+:\*$/.test(action) || action === '*') wildcards.push(`${where} ${action}`);
      }
      for (const [key, child] of Object.entries(value)) visit(child, `${where}.${key}`);
    };
    for (const [logicalId, resource] of Object.entries(template.Resources)) visit(resource.Properties, logicalId);
    expect(wildcards).toEqual([]);
  });
});
