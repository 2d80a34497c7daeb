import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { keyAdministrators, type KeyAdministration } from './key-administrators';

/** Encryption-context key that binds each wrapped share to its Vault cluster. */
export const VAULT_CLUSTER_CONTEXT_KEY = 'vault-cluster';
/** The IAM condition key on that encryption-context entry. */
export const VAULT_CLUSTER_CONDITION = `kms:EncryptionContext:${VAULT_CLUSTER_CONTEXT_KEY}`;
/**
 * The context entry that sets the root token apart from the shares (functions/steps/vault-init.ts
 * rootTokenContext: `purpose: root-token`); shares carry no `purpose`.
 */
export const PURPOSE_CONDITION = 'kms:EncryptionContext:purpose';
export const ROOT_TOKEN_PURPOSE = 'root-token';

/**
 * Key administration for the account's operators (through their IAM policies). Deliberately no
 * kms:Decrypt, kms:Encrypt, kms:ReEncrypt*, kms:GenerateDataKey* or kms:CreateGrant: using the
 * key is granted statement by statement below. kms:PutKeyPolicy (Put*) must stay, or the key
 * could never be changed again (and CloudFormation's lockout check refuses the policy).
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RotateKeyOnDemand',
];

export interface UnsealKeysProps extends KeyAdministration {
  /** Vault cluster id: the only `vault-cluster` encryption-context value this key serves. */
  readonly clusterId: string;
  /** Alias of the unseal key, e.g. `alias/certflow-unseal`. */
  readonly keyAlias: string;
  /**
   * Role ARNs that may decrypt the KMS-wrapped root token (config kms.operatorRoles), and only it.
   * @default - nobody (the root token file cannot be opened)
   */
  readonly operatorRoleArns?: readonly string[];
  /**
   * What happens to the key and the share table when the stack is deleted. Losing either means
   * losing the shares, so Vault could never be unsealed by certflow again.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The KMS key that wraps Vault's Shamir unseal shares and the DynamoDB table that stores them.
 *
 * Key policy, statement by statement (nothing else is allowed, and nothing is denied):
 * - KeyAdministration: the account (via IAM) may administer the key, not use it.
 * - OperatorsWrapSharesForVaultInit: the account (via IAM) may kms:Encrypt with this cluster's
 *   context (`certflow vault-init`).
 * - ShareTableEncryptionViaDynamoDB: the account (via IAM) may use the key only through DynamoDB,
 *   which encrypts the table at rest with it. Reading the table yields ciphertexts, never shares.
 * - UnsealFunctionsDecryptShares (added by {@link UnsealKeys.allowUnseal}): only the roles of the
 *   functions that unseal (UnsealNode, and Preflight, which unseals a sealed node before a
 *   rotation) may call kms:Decrypt directly, and only with this cluster's context.
 */
export class UnsealKeys extends Construct {
  readonly key: kms.Key;
  readonly shareTable: dynamodb.Table;
  private readonly clusterId: string;

  constructor(scope: Construct, id: string, props: UnsealKeysProps) {
    super(scope, id);
    this.clusterId = props.clusterId;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const account = new iam.AccountRootPrincipal();
    const administrators = keyAdministrators(this, props);

    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'KeyAdministration',
          principals: administrators,
          actions: KEY_ADMIN_ACTIONS,
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'OperatorsWrapSharesForVaultInit',
          principals: [account],
          actions: ['kms:Encrypt'],
          resources: ['*'],
          conditions: { StringEquals: { [VAULT_CLUSTER_CONDITION]: props.clusterId } },
        }),
        new iam.PolicyStatement({
          sid: 'ShareTableEncryptionViaDynamoDB',
          principals: [account],
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey', 'kms:CreateGrant'],
          resources: ['*'],
          conditions: {
            StringEquals: {
              'kms:ViaService': `dynamodb.${Aws.REGION}.${Aws.URL_SUFFIX}`,
              'kms:CallerAccount': Aws.ACCOUNT_ID,
            },
          },
        }),
        ...(props.operatorRoleArns?.length
          ? [
              new iam.PolicyStatement({
                sid: 'OperatorsDecryptRootToken',
                principals: props.operatorRoleArns.map((arn) => new iam.ArnPrincipal(arn)),
                actions: ['kms:Decrypt'],
                resources: ['*'],
                conditions: { StringEquals: { [VAULT_CLUSTER_CONDITION]: props.clusterId, [PURPOSE_CONDITION]: ROOT_TOKEN_PURPOSE } },
              }),
            ]
          : []),
      ],
    });

    this.key = new kms.Key(this, 'UnsealKey', {
      description: `certflow: wraps the Shamir unseal shares of Vault cluster ${props.clusterId}`,
      alias: props.keyAlias,
      enableKeyRotation: true,
      policy,
      removalPolicy,
    });

    this.shareTable = new dynamodb.Table(this, 'ShareTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy,
    });
  }

  /**
   * Lets these functions unseal: read the share table, and decrypt shares of this cluster only.
   * The Decrypt permission goes into the key policy (naming the roles) with the encryption-context
   * condition, in one statement (a key policy's Sids must be unique, so call this once); the CDK
   * grant on the table adds only the identity-policy side of reading it.
   */
  allowUnseal(functions: readonly lambda.IFunction[]): void {
    const roles = functions.map((fn) => {
      if (!fn.role) throw new Error(`${fn.node.path} has no role to allow unsealing`);
      return fn.role;
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'UnsealFunctionsDecryptShares',
        principals: roles.map((role) => new iam.ArnPrincipal(role.roleArn)),
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { [VAULT_CLUSTER_CONDITION]: this.clusterId } },
      }),
    );
    // The shares' context and the root token's share `vault-cluster`, so the Allow above would
    // match the root token too: an explicit Deny on any context that carries a `purpose` keeps
    // the unseal roles to shares (issue 13 item 2), whatever else the policy ever allows them.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'UnsealFunctionsNeverDecryptTheRootToken',
        effect: iam.Effect.DENY,
        principals: roles.map((role) => new iam.ArnPrincipal(role.roleArn)),
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: { Null: { [PURPOSE_CONDITION]: 'false' } },
      }),
    );
    for (const role of roles) this.shareTable.grantReadData(role);
  }
}
