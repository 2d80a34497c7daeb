import { CreateAliasCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { AttributeDefinition, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import type { CfnTemplate } from '../runner/template-resolver';
import type { KmsEmulatorHandle } from '../kms/kms-emulator';
import type { EventBridgeEmulatorHandle } from '../eventbridge/eventbridge-emulator';
import type { DynamoDbSandbox } from '../dynamodb/dynamodb-sandbox';
import type { SecretsManagerEmulatorHandle } from '../secrets-manager/secrets-manager-emulator';
import type { SsmEmulatorHandle } from '../ssm/ssm-emulator';
import { resolveValue } from '../runner/template-resolver';
import { sandboxRoleArn } from '../iam/template-iam';
import { roleNameOf } from '../iam/role-credentials';

/**
 * Creates, in the sandbox emulators, the resources the synthesized template declares: every
 * DynamoDB table with its key schema, every KMS key and alias, every event bus. So the local
 * runs use the template's own resources, and `Ref`/`Fn::GetAtt` resolve to their sandbox names.
 */
export interface ProvisionedResources {
  refs: Record<string, string>;
  attributes: Record<string, string>;
  tables: Record<string, string>;
  keys: Record<string, { keyId: string; arn: string }>;
  buses: Record<string, string>;
  /** Role ARNs by logical id. */
  roles: Record<string, string>;
  /** SSM parameter names by logical id (their first values are the template's). */
  parameters: Record<string, string>;
  /** Secrets Manager secret ARNs by logical id (created empty: the template holds no secret value). */
  secrets: Record<string, string>;
}

export interface ProvisionTargets {
  kms: KmsEmulatorHandle;
  kmsClient: KMSClient;
  dynamo: DynamoDbSandbox;
  eventBridge: EventBridgeEmulatorHandle;
  secretsManager: SecretsManagerEmulatorHandle;
  ssm: SsmEmulatorHandle;
}

type Props = Record<string, unknown>;

export async function provisionFromTemplate(template: CfnTemplate, targets: ProvisionTargets): Promise<ProvisionedResources> {
  const provisioned: ProvisionedResources = { refs: {}, attributes: {}, tables: {}, keys: {}, buses: {}, roles: {}, parameters: {}, secrets: {} };
  const resources = Object.entries(template.Resources);

  for (const [logicalId, resource] of resources) {
    const props = (resource.Properties ?? {}) as Props;
    if (resource.Type === 'AWS::DynamoDB::Table') {
      const name = typeof props.TableName === 'string' ? props.TableName : logicalId;
      await targets.dynamo.createTable(name, props.KeySchema as KeySchemaElement[], props.AttributeDefinitions as AttributeDefinition[]);
      provisioned.refs[logicalId] = name;
      provisioned.attributes[`${logicalId}.Arn`] = `arn:aws:dynamodb:${targets.kms.region}:000000000000:table/${name}`;
      provisioned.tables[logicalId] = name;
    } else if (resource.Type === 'AWS::KMS::Key') {
      // Its key policy is enforced with the rest of IAM once every resource exists (sandbox.provision).
      const key = targets.kms.createKey({ description: typeof props.Description === 'string' ? props.Description : logicalId });
      provisioned.refs[logicalId] = key.keyId;
      provisioned.attributes[`${logicalId}.Arn`] = key.arn;
      provisioned.attributes[`${logicalId}.KeyId`] = key.keyId;
      provisioned.keys[logicalId] = key;
    } else if (resource.Type === 'AWS::IAM::Role') {
      // A named role keeps its name (certflow's function roles); CDK-named ones take their logical id.
      const arn = sandboxRoleArn(targets.kms.accountId, logicalId, props);
      provisioned.refs[logicalId] = roleNameOf(arn);
      provisioned.attributes[`${logicalId}.Arn`] = arn;
      provisioned.roles[logicalId] = arn;
    } else if (resource.Type === 'AWS::StepFunctions::StateMachine') {
      // The ARN the sandbox's Step Functions API gives this state machine (sandbox/stepfunctions).
      const arn = `arn:aws:states:${targets.kms.region}:000000000000:stateMachine:${logicalId}`;
      provisioned.refs[logicalId] = arn;
      provisioned.attributes[`${logicalId}.Arn`] = arn;
      provisioned.attributes[`${logicalId}.Name`] = logicalId;
    } else if (resource.Type === 'AWS::Events::EventBus') {
      const name = String(props.Name ?? logicalId);
      const arn = targets.eventBridge.createEventBus(name);
      provisioned.refs[logicalId] = name;
      provisioned.attributes[`${logicalId}.Arn`] = arn;
      provisioned.attributes[`${logicalId}.Name`] = name;
      provisioned.buses[logicalId] = name;
    } else if (resource.Type === 'AWS::SecretsManager::Secret') {
      // Ref of a secret is its ARN (with the random suffix Secrets Manager adds).
      const arn = targets.secretsManager.putSecret(String(props.Name ?? logicalId), '');
      provisioned.refs[logicalId] = arn;
      provisioned.secrets[logicalId] = arn;
    }
  }
  // A table encrypted with one of the template's keys (SSESpecification), once every key exists.
  for (const [logicalId, resource] of resources) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const sse = (resource.Properties ?? {}).SSESpecification as { SSEEnabled?: boolean; KMSMasterKeyId?: unknown } | undefined;
    const keyId = sse?.SSEEnabled ? keyIdOf(sse.KMSMasterKeyId, provisioned) : undefined;
    const key = Object.values(provisioned.keys).find((candidate) => candidate.keyId === keyId);
    if (key) targets.dynamo.setTableKey(provisioned.tables[logicalId]!, key.arn);
  }
  // Parameters after every resource their values may refer to (a cluster's token secret).
  for (const [logicalId, resource] of resources) {
    if (resource.Type !== 'AWS::SSM::Parameter') continue;
    const props = (resource.Properties ?? {}) as Props;
    const resolve = (value: unknown) => String(resolveValue(template, value, { region: targets.kms.region, accountId: targets.kms.accountId, refs: provisioned.refs, attributes: provisioned.attributes }));
    const name = resolve(props.Name);
    targets.ssm.putParameter(name, resolve(props.Value));
    provisioned.refs[logicalId] = name;
    provisioned.parameters[logicalId] = name;
  }
  // Aliases after keys: their TargetKeyId refers to a key by Ref or GetAtt.
  for (const [, resource] of resources) {
    if (resource.Type !== 'AWS::KMS::Alias') continue;
    const props = (resource.Properties ?? {}) as Props;
    const target = keyIdOf(props.TargetKeyId, provisioned);
    if (target) await targets.kmsClient.send(new CreateAliasCommand({ AliasName: String(props.AliasName), TargetKeyId: target }));
  }
  return provisioned;
}

function keyIdOf(value: unknown, provisioned: ProvisionedResources): string | undefined {
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: string } | undefined)?.Ref;
  if (ref) return provisioned.keys[ref]?.keyId;
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  if (getAtt) return provisioned.keys[getAtt[0]]?.keyId;
  return undefined;
}
