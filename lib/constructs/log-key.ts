import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { keyAdministrators, type KeyAdministration } from './key-administrators';
import { KEY_ADMIN_ACTIONS } from './unseal-keys';

export type LogKeyProps = KeyAdministration;

/**
 * The customer managed key of every certflow log group (NIST 800-53 AU-9, PCI DSS 10.5: audit
 * logs encrypted under a key the deployment controls). Its policy, statement by statement:
 * - KeyAdministration: the configured admin roles and the CloudFormation execution role (or the
 *   account root when no admin role is named) administer it, and never use it.
 * - CloudWatchLogsUseForThisAccountsLogGroups: CloudWatch Logs of this region encrypts and
 *   decrypts with it, only for log groups of this account (the encryption context CloudWatch
 *   Logs sends names the log group's ARN). Readers of the logs need only logs:* permissions:
 *   CloudWatch Logs decrypts on their behalf.
 * Retained with the logs it protects: deleting it would make a year of audit logs unreadable.
 */
export class LogKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: LogKeyProps) {
    super(scope, id);
    const logsPrincipal = new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`);
    this.key = new kms.Key(this, 'Key', {
      description: 'certflow: encrypts the log groups of the functions and state machines',
      enableKeyRotation: true,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({ sid: 'KeyAdministration', principals: keyAdministrators(this, props), actions: KEY_ADMIN_ACTIONS, resources: ['*'] }),
          new iam.PolicyStatement({
            sid: 'CloudWatchLogsUseForThisAccountsLogGroups',
            principals: [logsPrincipal],
            actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
            resources: ['*'],
            conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
          }),
        ],
      }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
