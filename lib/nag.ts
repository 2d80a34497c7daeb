import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The cdk-nag packs every synthesis runs (issue 13 item 7). */
export const NAG_PACKS = [AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks] as const;

/**
 * Runs cdk-nag's AwsSolutions, NIST 800-53 R5, PCI DSS 3.2.1 and Serverless packs on everything
 * under `scope` (normally the App) as CDK validation plugins, in the one synthesis. Any
 * unacknowledged finding, warning or error, makes synthesis fail and is listed in the cloud
 * assembly's validation-report.json. Acknowledge a finding next to the resource it concerns, with
 * `Validations.of(resource).acknowledge({ id, reason })`: never for a whole stack.
 */
export function applyNag(scope: IConstruct): void {
  acknowledgeInlinePolicies(scope);
  Validations.of(scope).addPlugins(...NAG_PACKS.map((Pack) => new Pack(scope, { verbose: true })));
}

const INLINE_POLICY_REASON =
  'Inline on purpose: every certflow role belongs to one function (or one service task) and holds exactly what it does, so its policy is bound to that role alone; a customer managed policy could be attached to any other principal of the account, which is what this finding guards against. The wildcard-grant test pins every "*" resource these policies may hold.';

/**
 * NIST 800-53 R5 and PCI DSS 3.2.1 "no inline policy": acknowledged on each AWS::IAM::Policy
 * resource, one by one (no policy is ever attached to a user or group, the case the rule is for).
 */
function acknowledgeInlinePolicies(scope: IConstruct): void {
  for (const node of scope.node.findAll()) {
    if (!(node instanceof iam.CfnPolicy)) continue;
    Validations.of(node).acknowledge({ id: 'NIST.800.53.R5-IAMNoInlinePolicy', reason: INLINE_POLICY_REASON }, { id: 'PCI.DSS.321-IAMNoInlinePolicy', reason: INLINE_POLICY_REASON });
  }
}
