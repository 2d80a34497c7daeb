import { DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

export interface KeyAdministration {
  /**
   * Roles that administer certflow's keys (config kms.adminRoles).
   * @default - the account root (every IAM principal with kms:* in its policy)
   */
  readonly adminRoleArns?: readonly string[];
  /**
   * The role CloudFormation deploys with (config kms.cloudFormationExecutionRole), added to the
   * administrators whenever adminRoles are named: it writes the key policies, and KMS refuses a
   * policy that would lock its author out.
   * @default the default synthesizer's execution role (the CDK bootstrap's)
   */
  readonly cloudFormationExecutionRoleArn?: string;
}

/** The principals of a key policy's KeyAdministration statement. */
export function keyAdministrators(scope: Construct, administration: KeyAdministration): iam.IPrincipal[] {
  if (!administration.adminRoleArns?.length) return [new iam.AccountRootPrincipal()];
  const executionRole = administration.cloudFormationExecutionRoleArn ?? bootstrapExecutionRole(scope);
  return [...new Set([...administration.adminRoleArns, executionRole])].map((arn) => new iam.ArnPrincipal(arn));
}

/** The role CloudFormation deploys with under the default synthesizer (the bootstrap's). */
function bootstrapExecutionRole(scope: Construct): string {
  const synthesizer = Stack.of(scope).synthesizer;
  if (synthesizer instanceof DefaultStackSynthesizer) return synthesizer.cloudFormationExecutionRoleArn;
  throw new Error('kms.adminRoles without kms.cloudFormationExecutionRole needs the default stack synthesizer, whose CloudFormation execution role becomes a key administrator');
}
