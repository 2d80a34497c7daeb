import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_CONFIG_PATH } from '../../bin/app';
import { loadConfig } from '../../lib/config';
import { lambdaFunctions } from '../../sandbox/runner/template-resolver';
import { loadTemplate } from '../support/template';

const config = loadConfig(DEFAULT_CONFIG_PATH);
const raw = loadTemplate();
const template = Template.fromJSON(raw as never);

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: { AWS?: unknown; Service?: unknown };
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
type Resource = { Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

const actions = (statement: Statement) => [statement.Action].flat();

function only<T>(record: Record<string, T>, what: string): [string, T] {
  const entries = Object.entries(record);
  if (entries.length !== 1) throw new Error(`expected one ${what}, found ${entries.length}`);
  return entries[0]!;
}

const [unsealKeyId, unsealKey] = only(
  template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('Shamir unseal shares') } }) as Record<string, Resource>,
  'unseal key',
);
const keyStatements = (unsealKey.Properties['KeyPolicy'] as { Statement: Statement[] }).Statement;
const roleIdOf = (functionId: string) => {
  const logicalId = lambdaFunctions(raw).find((fn) => fn.functionId === functionId)!.logicalId;
  return ((template.toJSON().Resources[logicalId] as Resource).Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
};
// The functions that unseal: UnsealNode on schedule, Preflight when it finds a sealed node.
const unsealerRoleIds = [roleIdOf('UnsealNode'), roleIdOf('Preflight')];
const [shareTableId, shareTable] = only(
  template.findResources('AWS::DynamoDB::Table', { Properties: { SSESpecification: { KMSMasterKeyId: Match.anyValue() } } }) as Record<string, Resource>,
  'CMK-encrypted table',
);

describe('the unseal key', () => {
  it('rotates, is retained and carries the configured alias', () => {
    expect(unsealKey.Properties['EnableKeyRotation']).toBe(true);
    expect(unsealKey.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: config.kms.unsealKeyAlias, TargetKeyId: { 'Fn::GetAtt': [unsealKeyId, 'Arn'] } });
  });

  it('lets only the UnsealNode and Preflight roles decrypt shares directly, and only the configured operators the root token', () => {
    const direct = keyStatements.filter((s) => s.Effect === 'Allow' && actions(s).some((a) => a === 'kms:Decrypt' || a === 'kms:*') && !s.Condition?.['StringEquals']?.['kms:ViaService']);
    expect(direct).toEqual([
      expect.objectContaining({
        Sid: 'OperatorsDecryptRootToken',
        Action: 'kms:Decrypt',
        Condition: { StringEquals: { 'kms:EncryptionContext:vault-cluster': config.vault.clusterId, 'kms:EncryptionContext:purpose': 'root-token' } },
      }),
      expect.objectContaining({
        Principal: { AWS: unsealerRoleIds.map((roleId) => ({ 'Fn::GetAtt': [roleId, 'Arn'] })) },
        Action: 'kms:Decrypt',
        Condition: { StringEquals: { 'kms:EncryptionContext:vault-cluster': config.vault.clusterId } },
      }),
    ]);
    expect(JSON.stringify(direct[0]!.Principal)).toContain(`:${config.kms.operatorRoles[0]}`);
  });

  it('denies the unseal roles any decrypt whose context carries a purpose (the root token)', () => {
    const denies = keyStatements.filter((s) => s.Effect === 'Deny');
    expect(denies).toEqual([
      expect.objectContaining({
        Principal: { AWS: unsealerRoleIds.map((roleId) => ({ 'Fn::GetAtt': [roleId, 'Arn'] })) },
        Action: 'kms:Decrypt',
        Condition: { Null: { 'kms:EncryptionContext:purpose': 'false' } },
      }),
    ]);
  });

  it('is administered by the configured admin role and the CloudFormation execution role, not the account root', () => {
    const administration = keyStatements.find((s) => s.Sid === 'KeyAdministration')!;
    const principals = JSON.stringify(administration.Principal);
    expect(principals).toContain(`:${config.kms.adminRoles![0]}`);
    expect(principals).toContain('cfn-exec-role');
    expect(principals).not.toMatch(/:root"/);
    expect(actions(administration)).not.toContain('kms:Decrypt');
  });

  it('lets the account use it for the share table only through DynamoDB', () => {
    const viaDynamoDb = keyStatements.filter((s) => s.Condition?.['StringEquals']?.['kms:ViaService']);
    expect(viaDynamoDb).toHaveLength(1);
    expect(JSON.stringify(viaDynamoDb[0]!.Condition!['StringEquals']!['kms:ViaService'])).toContain('dynamodb.');
  });

  it('lets operators encrypt shares for vault-init only with this cluster in the encryption context', () => {
    const encrypt = keyStatements.filter((s) => actions(s).includes('kms:Encrypt') && !s.Condition?.['StringEquals']?.['kms:ViaService']);
    expect(encrypt).toEqual([
      expect.objectContaining({ Condition: { StringEquals: { 'kms:EncryptionContext:vault-cluster': config.vault.clusterId } } }),
    ]);
  });

  it('grants no wildcard use of the key', () => {
    for (const statement of keyStatements) {
      expect(actions(statement)).not.toContain('kms:*');
      expect(actions(statement)).not.toContain('kms:Create*');
    }
  });
});

describe('the share table', () => {
  it('is keyed pk/sk, encrypted with the unseal key, point-in-time recoverable and retained', () => {
    expect(shareTable.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [unsealKeyId, 'Arn'] } },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(shareTable.DeletionPolicy).toBe('Retain');
  });

  // What AWS Backup's role may do to the table: make and manage backups, never read an item.
  const BACKUP_ACTIONS = ['dynamodb:DescribeTable', 'dynamodb:CreateBackup', 'dynamodb:StartAwsBackupJob', 'dynamodb:ListTagsOfResource', 'dynamodb:DescribeBackup', 'dynamodb:DeleteBackup'];
  const policies = template.findResources('AWS::IAM::Policy') as Record<string, Resource>;
  const rolesWith = (matches: (action: string) => boolean) =>
    Object.values(policies)
      .filter((policy) => (policy.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement.some((s) => actions(s).some(matches) && JSON.stringify(s.Resource).includes(shareTableId)))
      .flatMap((policy) => policy.Properties['Roles'] as unknown[]);

  it('is readable by the UnsealNode and Preflight roles and by no other role', () => {
    const readers = rolesWith((a) => a.startsWith('dynamodb:') && !BACKUP_ACTIONS.includes(a));
    expect(readers).toHaveLength(unsealerRoleIds.length);
    expect(readers).toEqual(expect.arrayContaining(unsealerRoleIds.map((roleId) => ({ Ref: roleId }))));
  });

  it('is in an AWS Backup plan whose role may only back it up', () => {
    const [, selection] = only(template.findResources('AWS::Backup::BackupSelection') as Record<string, Resource>, 'backup selection');
    expect(JSON.stringify(selection.Properties['BackupSelection'])).toContain(shareTableId);
    const backupRoles = rolesWith((a) => BACKUP_ACTIONS.includes(a)).filter((role) => !unsealerRoleIds.some((roleId) => JSON.stringify(role).includes(roleId)));
    expect(backupRoles).toHaveLength(1);
    expect(JSON.stringify(selection.Properties['BackupSelection'])).toContain((backupRoles[0] as { Ref: string }).Ref);
  });
});

describe('the ledger table', () => {
  it('is keyed pk/sk, encrypted, point-in-time recoverable and retained', () => {
    const ledgers = template.findResources('AWS::DynamoDB::Table', {
      Properties: { SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() } },
    }) as Record<string, Resource>;
    const [, ledger] = only(ledgers, 'ledger table');
    expect(ledger.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(ledger.DeletionPolicy).toBe('Retain');
  });
});
