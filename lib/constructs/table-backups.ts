import { Aws, type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { boundedName } from './bounded-name';

export interface TableBackupsProps {
  /** Deployment name: the vault and plan are `certflow-<name>`. */
  readonly deploymentName: string;
  /** The tables to back up (the share table and the ledger). */
  readonly tables: readonly dynamodb.ITable[];
  /**
   * How long each daily backup is kept.
   * @default Duration.days(365), as the logs
   */
  readonly retention?: Duration;
}

/**
 * An AWS Backup plan for certflow's DynamoDB tables (NIST 800-53 CP-9): a daily backup into a
 * vault of their own, kept a year, on top of the tables' point-in-time recovery (35 days). The
 * backup role is certflow's own, with inline statements instead of
 * AWSBackupServiceRolePolicyForBackup (a managed policy over every resource of the account): it
 * may back up these tables only, and use their keys only through DynamoDB.
 */
export class TableBackups extends Construct {
  readonly plan: backup.BackupPlan;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TableBackupsProps) {
    super(scope, id);
    // The vault is encrypted with AWS Backup's key for the account (aws/backup); it keeps the
    // backups if the stack is deleted, as the tables themselves are kept.
    const vault = new backup.BackupVault(this, 'Vault', { backupVaultName: boundedName(`certflow-${props.deploymentName}`, 50), removalPolicy: RemovalPolicy.RETAIN });
    this.plan = new backup.BackupPlan(this, 'Plan', { backupPlanName: boundedName(`certflow-${props.deploymentName}`, 50), backupVault: vault });
    this.plan.addRule(
      new backup.BackupPlanRule({
        ruleName: 'Daily',
        scheduleExpression: events.Schedule.cron({ hour: '2', minute: '0' }),
        deleteAfter: props.retention ?? Duration.days(365),
      }),
    );

    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'), description: 'certflow: AWS Backup backs up the certflow tables' });
    const tableArns = props.tables.map((table) => table.tableArn);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'BackUpTheseTables', actions: ['dynamodb:DescribeTable', 'dynamodb:CreateBackup', 'dynamodb:StartAwsBackupJob', 'dynamodb:ListTagsOfResource'], resources: tableArns }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ManageTheirBackups', actions: ['dynamodb:DescribeBackup', 'dynamodb:DeleteBackup'], resources: tableArns.map((arn) => `${arn}/backup/*`) }),
    );
    for (const table of props.tables) {
      const logicalId = Stack.of(this).resolve((table.node.defaultChild as CfnResource).logicalId) as string;
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/backup/*]`,
        reason: 'The backups AWS Backup makes of this table exist only at run time: the wildcard is the backups of this one table, and nothing else.',
      });
    }
    const keyArns = props.tables.flatMap((table) => (table.encryptionKey ? [table.encryptionKey.keyArn] : []));
    if (keyArns.length > 0) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'TableKeysThroughDynamoDbOnly',
          actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey', 'kms:CreateGrant'],
          resources: keyArns,
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Aws.REGION}.${Aws.URL_SUFFIX}` } },
        }),
      );
    }
    this.plan.addSelection('Tables', {
      resources: props.tables.map((table) => backup.BackupResource.fromDynamoDbTable(table)),
      role: this.role,
      disableDefaultBackupPolicy: true,
    });
  }
}
