import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DEFAULT_CONFIG_PATH } from '../../bin/app';
import { loadConfig } from '../../lib/config';
import { boundedName } from '../../lib/constructs/bounded-name';
import { EksAccessEntries } from '../../lib/constructs/eks-access-entries';
import { keyAdministrators } from '../../lib/constructs/key-administrators';
import { ENDPOINT_SERVICES } from '../../lib/constructs/network-placement';
import { CompromiseDetailTypes, CompromiseSource } from '../../functions/contracts/compromise';
import { EventSource } from '../../functions/contracts/events';
import { FunctionIds } from '../../functions/contracts/functions';
import { lambdaFunctions } from '../../sandbox/runner/template-resolver';
import { loadTemplate } from '../support/template';

/** Issue 13 item 6 on the run's one synthesized template (config/econgraph.json). */
const config = loadConfig(DEFAULT_CONFIG_PATH);
const raw = loadTemplate();
const template = Template.fromJSON(raw as never);
type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
const resources = raw.Resources as Record<string, Resource>;
const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const vpc = config.network.vpc === 'none' ? undefined : config.network.vpc;

describe('the log groups', () => {
  const [[logKeyId, logKey]] = ofType('AWS::KMS::Key').filter(([, key]) => String(key.Properties['Description']).includes('log groups')) as [[string, Resource]];

  it('are every one encrypted with the log key and kept for the configured retention', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    // One per function and one per state machine.
    expect(groups).toHaveLength(FunctionIds.length + ofType('AWS::StepFunctions::StateMachine').length);
    for (const [logicalId, group] of groups) {
      expect({ logicalId, key: group.Properties['KmsKeyId'], days: group.Properties['RetentionInDays'] }).toEqual({ logicalId, key: { 'Fn::GetAtt': [logKeyId, 'Arn'] }, days: config.logs.retentionDays });
    }
  });

  it('share a retained, rotating key that CloudWatch Logs may use only for log groups of this account', () => {
    expect(logKey.Properties['EnableKeyRotation']).toBe(true);
    expect(logKey.DeletionPolicy).toBe('Retain');
    const statements = logKey.Properties['KeyPolicy'].Statement as Array<Record<string, any>>;
    const logs = statements.find((statement) => statement.Sid === 'CloudWatchLogsUseForThisAccountsLogGroups')!;
    expect(JSON.stringify(logs.Principal)).toContain('logs.');
    expect(JSON.stringify(logs.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn'])).toContain(':log-group:*');
    // Administered by the configured admin role and the CloudFormation execution role, used by nobody else.
    const admin = statements.find((statement) => statement.Sid === 'KeyAdministration')!;
    expect(JSON.stringify(admin.Principal)).toContain(`:${config.kms.adminRoles![0]}`);
    expect(JSON.stringify(admin.Principal)).toContain('cfn-exec-role');
    expect(statements.map((statement) => statement.Sid)).toEqual(['KeyAdministration', 'CloudWatchLogsUseForThisAccountsLogGroups']);
  });
});

describe('the functions', () => {
  it('each reserve the configured concurrency', () => {
    for (const fn of lambdaFunctions(raw)) {
      const expected = config.functions.reservedConcurrencyOf[fn.functionId as (typeof FunctionIds)[number]] ?? config.functions.reservedConcurrency;
      expect({ functionId: fn.functionId, reserved: resources[fn.logicalId]!.Properties['ReservedConcurrentExecutions'] }).toEqual({ functionId: fn.functionId, reserved: expected });
    }
  });

  it('each run in the configured subnets with the configured security groups', () => {
    expect(vpc).toBeDefined();
    for (const [logicalId, fn] of ofType('AWS::Lambda::Function')) {
      expect({ logicalId, vpcConfig: fn.Properties['VpcConfig'] }).toEqual({ logicalId, vpcConfig: { SubnetIds: vpc!.subnets.map((subnet) => subnet.id), SecurityGroupIds: vpc!.securityGroupIds } });
    }
  });

  it('reach every AWS API they call through an interface endpoint that admits only their security groups on 443', () => {
    const endpoints = ofType('AWS::EC2::VPCEndpoint');
    const serviceNames = endpoints.map(([, endpoint]) => JSON.stringify(endpoint.Properties['ServiceName']));
    expect(serviceNames).toHaveLength(Object.keys(ENDPOINT_SERVICES).length);
    // com.amazonaws.<region>.<service>: one endpoint per service the functions' SDK clients call.
    for (const service of Object.values(ENDPOINT_SERVICES)) expect({ service: service.shortName, endpoints: serviceNames.filter((name) => name.includes(`".${service.shortName}"`)).length }).toEqual({ service: service.shortName, endpoints: 1 });
    for (const [, endpoint] of endpoints) expect(endpoint.Properties).toMatchObject({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true, VpcId: vpc!.vpcId, SubnetIds: vpc!.subnets.map((subnet) => subnet.id) });
    const [[, group]] = ofType('AWS::EC2::SecurityGroup') as [[string, Resource]];
    expect(group.Properties['SecurityGroupIngress']).toEqual(vpc!.securityGroupIds.map((groupId) => expect.objectContaining({ SourceSecurityGroupId: groupId, FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })));
  });

  it('may create network interfaces only in the configured subnets and security groups', () => {
    const [[, policy]] = ofType('AWS::IAM::Policy').filter(([logicalId]) => logicalId.includes('FunctionNetworkInterfaces')) as [[string, Resource]];
    expect(policy.Properties['Roles']).toHaveLength(FunctionIds.length);
    const create = (policy.Properties['PolicyDocument'].Statement as Array<Record<string, any>>).find((statement) => statement.Action === 'ec2:CreateNetworkInterface')!;
    const resourcesText = JSON.stringify(create.Resource);
    for (const subnet of vpc!.subnets) expect(resourcesText).toContain(`:subnet/${subnet.id}`);
    for (const groupId of vpc!.securityGroupIds) expect(resourcesText).toContain(`:security-group/${groupId}`);
    expect(create.Resource).toHaveLength(1 + vpc!.subnets.length + vpc!.securityGroupIds.length);
  });

  it('give ReleaseStaleLock, the one invoked asynchronously, a dead-letter queue', () => {
    const withQueue = lambdaFunctions(raw).filter((fn) => resources[fn.logicalId]!.Properties['DeadLetterConfig'] !== undefined);
    expect(withQueue.map((fn) => fn.functionId)).toEqual(['ReleaseStaleLock']);
  });
});

describe('the event archive', () => {
  it('keeps every certflow and certflow.security event as long as the logs', () => {
    template.hasResourceProperties('AWS::Events::Archive', { EventPattern: { source: [EventSource, CompromiseSource] }, RetentionDays: config.logs.retentionDays });
  });
});

describe('the audit alarms', () => {
  const alarmNamed = (suffix: string) => {
    const found = ofType('AWS::CloudWatch::Alarm').filter(([, alarm]) => alarm.Properties['AlarmName'] === `certflow-${config.name}-${suffix}`);
    expect(found).toHaveLength(1);
    return found[0]![1].Properties;
  };
  const queueOfRule = (rulePath: string) => ofType('AWS::SQS::Queue').find(([logicalId]) => logicalId.startsWith(rulePath))![0];

  it('page on a compromise report in the dead-letter queue, on the first message', () => {
    const alarm = alarmNamed('CompromiseReportsUndelivered');
    expect(alarm).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(alarm['Dimensions']).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueOfRule('CompromiseRuleDeadLetterQueue'), 'QueueName'] } }]);
  });

  it('page on a compromise response that timed out, which the failed-executions alarm does not count', () => {
    const [compromiseMachineId] = ofType('AWS::StepFunctions::StateMachine').find(([logicalId]) => logicalId.startsWith('CompromiseWorkflow'))!;
    expect(alarmNamed('CompromiseExecutionsTimedOut')).toMatchObject({ MetricName: 'ExecutionsTimedOut', Namespace: 'AWS/States', Threshold: 1, Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: compromiseMachineId } }] });
  });

  it('notify on every compromise response that revoked an intermediate, through a key EventBridge may use for that rule only', () => {
    const [[, rule]] = ofType('AWS::Events::Rule').filter(([logicalId]) => logicalId.startsWith('AuditAlarmsIntermediateRevoked')) as [[string, Resource]];
    expect(rule.Properties['EventPattern']).toEqual({ source: [EventSource], 'detail-type': [CompromiseDetailTypes.Contained], detail: { blastRadius: { issuerIds: { revoked: [{ exists: true }] } } } });
    expect(rule.Properties['Targets'][0]).toMatchObject({ Arn: { Ref: Object.keys(template.findResources('AWS::SNS::Topic'))[0] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^AuditAlarmsDeadLetterQueue/), 'Arn'] } } });
    const keyStatement = ofType('AWS::KMS::Key').flatMap(([, key]) => key.Properties['KeyPolicy'].Statement as Array<Record<string, any>>).find((statement) => statement.Sid === 'EventBridgeRulesPublishToEncryptedTopic')!;
    expect(JSON.stringify(keyStatement.Condition.ArnEquals['aws:SourceArn'])).toContain(`:rule/certflow-${config.name}/${rule.Properties['Name']}`);
    expect(alarmNamed('IntermediateRevokedUndelivered')).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible' });
  });

  it('alarm when ReleaseStaleLock fails for good, so no lock stays held unseen', () => {
    expect(alarmNamed('LockReleaseFailed')).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueOfRule('FunctionsReleaseStaleLockFailures'), 'QueueName'] } }] });
  });
});

describe('the tables', () => {
  it('are both in a daily AWS Backup plan kept as long as the logs', () => {
    const [[, plan]] = ofType('AWS::Backup::BackupPlan') as [[string, Resource]];
    expect(plan.Properties['BackupPlan'].BackupPlanRule).toEqual([expect.objectContaining({ Lifecycle: { DeleteAfterDays: config.logs.retentionDays } })]);
    const selected = JSON.stringify(ofType('AWS::Backup::BackupSelection')[0]![1].Properties['BackupSelection'].Resources);
    for (const [tableId] of ofType('AWS::DynamoDB::Table')) expect(selected).toContain(tableId);
  });
});

describe('key administration and EKS access (constructs alone, no synthesis)', () => {
  it('names the configured CloudFormation execution role among the key administrators, else the bootstrap one', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Keys');
    const arns = (principals: iam.IPrincipal[]) => principals.map((principal) => stack.resolve((principal as iam.ArnPrincipal).arn) as unknown);
    expect(arns(keyAdministrators(stack, { adminRoleArns: ['arn:aws:iam::123456789012:role/admin'], cloudFormationExecutionRoleArn: 'arn:aws:iam::123456789012:role/deployer' }))).toEqual([
      'arn:aws:iam::123456789012:role/admin',
      'arn:aws:iam::123456789012:role/deployer',
    ]);
    expect(JSON.stringify(arns(keyAdministrators(stack, { adminRoleArns: ['arn:aws:iam::123456789012:role/admin'] })))).toContain('cfn-exec-role');
    expect(keyAdministrators(stack, {})).toEqual([expect.any(iam.AccountRootPrincipal)]);
  });

  it('creates one access entry per Kubernetes-facing role and EKS cluster, as rbac.yaml\'s user and with no access policy', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Eks');
    const roles = { Preflight: new iam.Role(stack, 'A', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }), RenewBatch: new iam.Role(stack, 'B', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }) };
    new EksAccessEntries(stack, 'Entries', { clusters: [{ name: 'prod', accessEntries: { clusterName: 'prod-eks', username: 'certflow' } }], roles });
    const entries = Template.fromStack(stack).findResources('AWS::EKS::AccessEntry');
    expect(Object.values(entries).map((entry) => entry['Properties'])).toEqual(
      Object.keys(roles).map((roleId) => ({ ClusterName: 'prod-eks', PrincipalArn: { 'Fn::GetAtt': [expect.stringMatching(roleId === 'Preflight' ? /^A/ : /^B/), 'Arn'] }, Type: 'STANDARD', Username: 'certflow' })),
    );
  });
});

describe('names with a lower limit than a deployment name', () => {
  it('keep a short name as it is and cut a long one to the limit, with a digest of the whole', () => {
    expect(boundedName('certflow-econgraph', 50)).toBe('certflow-econgraph');
    const long = `certflow-${'a'.repeat(63)}`;
    expect(boundedName(long, 50)).toHaveLength(50);
    expect(boundedName(long, 50)).not.toBe(boundedName(`certflow-${'a'.repeat(62)}b`, 50));
  });
});
