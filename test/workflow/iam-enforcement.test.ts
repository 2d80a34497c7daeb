import { reporterRoleArns } from '../../sandbox/iam/sandbox-identities';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { rootTokenContext } from '../../functions/steps/vault-init';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EnvNames } from '../../functions/contracts/env';
import { CompromiseSource } from '../../functions/contracts/compromise';
import { kmsClientFromEnv } from '../../functions/adapters/kms/kms-client';
import { KmsKeyWrapper } from '../../functions/adapters/kms/kms-key-wrapper';
import { dynamoDbClientFromEnv } from '../../functions/adapters/aws/dynamodb-client';
import { DynamoDbShareStore } from '../../functions/adapters/aws/dynamodb-share-store';
import { DynamoDbPauseSwitch } from '../../functions/adapters/aws/dynamodb-pause-switch';
import { KmsAccessDeniedError } from '../../functions/contracts/errors';
import { SANDBOX_ACCOUNT, SANDBOX_CREDENTIALS, SANDBOX_REGION } from '../../sandbox/compose/sandbox';
import { initSandboxVault } from '../../sandbox/compose/vault-bootstrap';
import { credentialsForRole } from '../../sandbox/iam/role-credentials';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import { routeRules } from '../../sandbox/eventbridge/rules-routing';
import { stateMachineRoleArn, type CfnTemplate } from '../../sandbox/runner/template-resolver';
import { seedConfig, startLocalCloud } from '../support/local-cloud-fixture';
import { LocalRunner } from '../../sandbox/runner/local-runner';
import { assemblyDir } from '../support/template';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RotationEnvNames } from '../../functions/contracts/rotation-env';
import { parameterVariableOf, RunTimeValueNames } from '../../functions/contracts/run-time-values';
import { FUNCTION_AWS_VARIABLES } from '../../sandbox/runner/local-runner';
import { lambdaFunctions } from '../../sandbox/runner/template-resolver';
import type { FunctionId } from '../../functions/contracts/functions';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { renderKubeconfig } from '../../sandbox/kubernetes/kubeconfig';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { STACK_OUTPUT_ENV } from '../../bin/cli/stack-outputs';

const config = seedConfig();
const role = (functionId: string) => `certflow-${config.name}-${functionId}`;

describe('IAM in the sandbox, from the synthesized template', () => {
  let cloud: LocalCloud;
  let shareCiphertext: Uint8Array;
  let shareContext: Record<string, string>;
  let wrappedRootToken: Uint8Array;
  let rootToken: string;

  beforeAll(async () => {
    cloud = await startLocalCloud();
    const init = await initSandboxVault(cloud);
    wrappedRootToken = init.wrappedRootToken;
    rootToken = init.rootTokenForSandbox;
    const env = cloud.runner.functionEnv('UnsealNode');
    const [share] = await new DynamoDbShareStore(dynamoDbClientFromEnv(env), env[EnvNames.ShareTable]!).list(config.vault.clusterId);
    shareCiphertext = share!.ciphertext;
    shareContext = { ...share!.context };
  });
  afterAll(async () => cloud?.sandbox.close());

  it('gives every function its own role credentials, never the operator\'s', () => {
    const keys = ['UnsealNode', 'Preflight', 'RenewBatch'].map((id) => cloud.runner.functionEnv(id as never).AWS_ACCESS_KEY_ID);
    expect(new Set(keys).size).toBe(3);
    expect(keys).not.toContain(SANDBOX_CREDENTIALS.accessKeyId);
    expect(cloud.sandbox.iam.identityOf(keys[1]!)?.roleArn).toBe(`arn:aws:iam::000000000000:role/${role('Preflight')}`);
  });

  it('runs SDK-integration tasks as the state machine\'s own role', async () => {
    const callsBefore = cloud.sandbox.eventBridge.calls().length;
    const execution = await cloud.runner.run(cloud.runner.find('UnsealWorkflow'), { trigger: 'sandbox' });
    expect(execution.status).toBe('SUCCEEDED');
    const puts = cloud.sandbox.eventBridge.calls().slice(callsBefore).filter((call) => call.operation === 'PutEvents');
    expect(puts.length).toBeGreaterThan(0);
    const callers = new Set(puts.map((call) => cloud.sandbox.iam.identityOf(call.accessKeyId!)?.roleArn));
    expect([...callers]).toEqual([expect.stringMatching(/^arn:aws:iam::000000000000:role\/UnsealWorkflowStateMachineRole/)]);
  });

  it('lets Preflight, which unseals, decrypt a share of its own cluster', async () => {
    const kms = kmsClientFromEnv(cloud.runner.functionEnv('Preflight'));
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: shareCiphertext, EncryptionContext: shareContext }));
    expect(Plaintext?.length).toBeGreaterThan(0);
    kms.destroy();
  });

  it('refuses an action a role lacks with AccessDeniedException naming the caller and the action', async () => {
    // UnsealDiscover lists nodes; it has no business reading the share table.
    const dynamoDb = dynamoDbClientFromEnv(cloud.runner.functionEnv('UnsealDiscover'));
    const denied = cloud.sandbox.iam.decisions().denied;
    const error = await dynamoDb
      .send(new GetItemCommand({ TableName: cloud.runner.functionEnv('UnsealNode')[EnvNames.ShareTable]!, Key: { pk: { S: 'x' }, sk: { S: 'y' } } }))
      .catch((failure: Error) => failure);
    expect(error).toMatchObject({ name: 'AccessDeniedException' });
    expect((error as Error).message).toContain(`assumed-role/${role('UnsealDiscover')}/UnsealDiscover is not authorized to perform: dynamodb:GetItem`);
    expect(cloud.sandbox.iam.decisions().denied).toBe(denied + 1);
    dynamoDb.destroy();
  });

  it('lets the Rotation start, wait for and stop RotationWave executions as startExecution.sync:2 needs, and start no other state machine', async () => {
    const resolve = { region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT, refs: cloud.provisioned.refs, attributes: cloud.provisioned.attributes };
    const accessKeyId = credentialsForRole(stateMachineRoleArn(cloud.template, cloud.runner.find('RotationWorkflow'), resolve)!).accessKeyId;
    const authorize = (action: string, resource: string) => cloud.sandbox.iam.authorize(accessKeyId, { action, resource });
    const states = `arn:aws:states:${SANDBOX_REGION}:${SANDBOX_ACCOUNT}`;
    const rule = (name: string) => `arn:aws:events:${SANDBOX_REGION}:${SANDBOX_ACCOUNT}:rule/${name}`;
    const wave = cloud.runner.find('RotationWave');
    await expect(authorize('states:StartExecution', `${states}:stateMachine:${wave}`)).resolves.toBeUndefined();
    for (const action of ['states:DescribeExecution', 'states:StopExecution']) await expect(authorize(action, `${states}:execution:${wave}:run-1`)).resolves.toBeUndefined();
    for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) await expect(authorize(action, rule('StepFunctionsGetEventsForStepFunctionsExecutionRule'))).resolves.toBeUndefined();
    await expect(authorize('states:StartExecution', `${states}:stateMachine:${cloud.runner.find('CompromiseWorkflow')}`)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(authorize('states:StopExecution', `${states}:execution:${cloud.runner.find('CompromiseWorkflow')}:run-1`)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(authorize('events:PutRule', rule('AnotherRule'))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('refuses a role that may decrypt when the share names another cluster, and the adapter types it KmsAccessDeniedError', async () => {
    const env = cloud.runner.functionEnv('UnsealNode');
    const wrapper = new KmsKeyWrapper(kmsClientFromEnv(env), env[EnvNames.UnsealKeyId]!);
    const error = await wrapper.unwrap(shareCiphertext, { ...shareContext, 'vault-cluster': 'another-cluster' } as never).catch((failure: Error) => failure);
    expect(error).toBeInstanceOf(KmsAccessDeniedError);
    expect((error as Error).message).toContain(`${role('UnsealNode')}/UnsealNode is not authorized to perform: kms:Decrypt`);
  });

  it('refuses the operator\'s kms:Encrypt for another cluster, as the key policy says, and allows its own', async () => {
    const env = cloud.runner.functionEnv('UnsealNode');
    const operatorKms = kmsClientFromEnv({ ...env, AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey });
    const encrypt = (cluster: string) =>
      operatorKms.send(new EncryptCommand({ KeyId: env[EnvNames.UnsealKeyId]!, Plaintext: Buffer.from('share'), EncryptionContext: { 'vault-cluster': cluster, share: '1' } }));
    await expect(encrypt('another-cluster')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(encrypt(config.vault.clusterId)).resolves.toMatchObject({ KeyId: expect.stringContaining(':key/') });
    operatorKms.destroy();
  });

  it('refuses UnsealNode and Preflight the root token with an explicit deny, though its context names their cluster', async () => {
    for (const functionId of ['UnsealNode', 'Preflight'] as const) {
      const kms = kmsClientFromEnv(cloud.runner.functionEnv(functionId));
      const error = await kms
        .send(new DecryptCommand({ CiphertextBlob: wrappedRootToken, EncryptionContext: rootTokenContext(config.vault.clusterId) }))
        .catch((failure: Error) => failure);
      expect(error).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('explicit deny') });
      kms.destroy();
    }
  });

  it('lets the configured operator role decrypt the root token, and nothing else', async () => {
    const operatorArn = reporterRoleArns(config.kms.operatorRoles, SANDBOX_ACCOUNT)[0]!;
    const kms = new KMSClient({ region: SANDBOX_REGION, endpoint: cloud.sandbox.kms.endpoint, credentials: credentialsForRole(operatorArn), maxAttempts: 1 });
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: wrappedRootToken, EncryptionContext: rootTokenContext(config.vault.clusterId) }));
    expect(Buffer.from(Plaintext!).toString('utf8')).toBe(rootToken);
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: shareCiphertext, EncryptionContext: shareContext }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    kms.destroy();
  });

  it('leaves a sealed node sealed while the kill switch holds unseal, under UnsealNode\'s own role, and unseals it once resumed', async () => {
    const env = cloud.runner.functionEnv('UnsealNode');
    const operatorEnv = { ...env, AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey };
    const killSwitch = new DynamoDbPauseSwitch(dynamoDbClientFromEnv(operatorEnv), env[EnvNames.LedgerTable]!);
    const node = cloud.sandbox.config.vault.nodes![0]!;
    const control = cloud.sandbox.vault.node(node.id);
    await cloud.runner.invoke('UnsealNode', { runId: 'kill-switch-0', node });
    control.seal();
    await killSwitch.pause('unseal', { pausedBy: 'incident-42', pausedAt: '2026-12-02T17:00:00Z', reason: 'suspected share leak' });
    try {
      const paused = await cloud.runner.invoke('UnsealNode', { runId: 'kill-switch-1', node });
      expect(paused).toMatchObject({ outcome: 'Paused', sealed: true, sharesSubmitted: 0, message: expect.stringContaining('incident-42') });
      expect(control.state().sealed).toBe(true);
    } finally {
      await killSwitch.resume('unseal');
    }
    expect(await cloud.runner.invoke('UnsealNode', { runId: 'kill-switch-2', node })).toMatchObject({ outcome: 'Unsealed', sealed: false });
  });

  it('refuses a function that may not encrypt at all, even with its own cluster\'s context', async () => {
    const env = cloud.runner.functionEnv('UnsealNode');
    const kms = kmsClientFromEnv(env);
    await expect(
      kms.send(new EncryptCommand({ KeyId: env[EnvNames.UnsealKeyId]!, Plaintext: Buffer.from('share'), EncryptionContext: { 'vault-cluster': config.vault.clusterId } })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    kms.destroy();
  });

  it('refuses a compromise report from anyone but the config\'s reporters with the template\'s bus policy, the account administrator included', async () => {
    const bus = Object.values(cloud.provisioned.buses)[0]!;
    const report = { Source: CompromiseSource, DetailType: 'Compromise Reported', Detail: '{}', EventBusName: bus };
    const administrator = new EventBridgeClient({ region: SANDBOX_REGION, endpoint: cloud.sandbox.eventBridge.endpoint, credentials: SANDBOX_CREDENTIALS, maxAttempts: 1 });
    const reporter = new EventBridgeClient({ region: SANDBOX_REGION, endpoint: cloud.sandbox.eventBridge.endpoint, credentials: credentialsForRole(reporterRoleArns(cloud.sandbox.config.compromise.reporterPrincipals, SANDBOX_ACCOUNT)[0]!), maxAttempts: 1 });

    await expect(administrator.send(new PutEventsCommand({ Entries: [report] }))).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('explicit deny') });
    expect((await reporter.send(new PutEventsCommand({ Entries: [report] }))).FailedEntryCount).toBe(0);
    administrator.destroy();
    reporter.destroy();
  });

  it('answers an access key that belongs to no role with UnrecognizedClientException', async () => {
    const events = new EventBridgeClient({ region: SANDBOX_REGION, endpoint: cloud.sandbox.eventBridge.endpoint, credentials: credentialsForRole('arn:aws:iam::000000000000:role/nobody'), maxAttempts: 1 });
    await expect(events.send(new PutEventsCommand({ Entries: [{ Source: 'x', DetailType: 'y', Detail: '{}' }] }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    events.destroy();
  });

  it('starts a rule\'s target as the rule\'s role, and a role without states:StartExecution starts nothing', async () => {
    const bus = Object.values(cloud.provisioned.buses)[0]!;
    // Only a named reporter may put a report on the bus (the template's bus policy): send as one.
    const reporterArn = reporterRoleArns(cloud.sandbox.config.compromise.reporterPrincipals, SANDBOX_ACCOUNT)[0]!;
    const operator = new EventBridgeClient({ region: SANDBOX_REGION, endpoint: cloud.sandbox.eventBridge.endpoint, credentials: credentialsForRole(reporterArn), maxAttempts: 1 });
    const report = { Source: CompromiseSource, DetailType: 'Compromise Reported', Detail: '{}', EventBusName: bus };
    const route = async (template: CfnTemplate) => {
      const started: string[] = [];
      const failed: Error[] = [];
      const delivered = new Promise<void>((resolve) => {
        const stop = routeRules(cloud.sandbox.eventBridge, template, (logicalId) => { started.push(logicalId); stop(); resolve(); }, {
          refs: cloud.provisioned.refs,
          onError: (error) => { failed.push(error as Error); stop(); resolve(); },
        });
      });
      await operator.send(new PutEventsCommand({ Entries: [report] }));
      await delivered;
      return { started, failed };
    };
    const before = cloud.sandbox.iam.decisions().authorizedByAction['states:StartExecution'] ?? 0;
    expect((await route(cloud.template)).started).toEqual([expect.stringMatching(/^CompromiseWorkflow/)]);
    expect(cloud.sandbox.iam.decisions().authorizedByAction['states:StartExecution']).toBe(before + 1);

    // The same rule with its target's role swapped for UnsealNode's, which may not start executions.
    const unsealRoleId = Object.entries(cloud.template.Resources).find(([, resource]) => resource.Type === 'AWS::IAM::Role' && resource.Properties?.['RoleName'] === role('UnsealNode'))![0];
    const swapped = structuredClone(cloud.template) as { Resources: Record<string, { Type: string; Properties?: { Targets?: Array<Record<string, unknown>> } }> };
    for (const resource of Object.values(swapped.Resources)) {
      for (const target of resource.Type === 'AWS::Events::Rule' ? (resource.Properties?.Targets ?? []) : []) {
        if (target['RoleArn']) target['RoleArn'] = { 'Fn::GetAtt': [unsealRoleId, 'Arn'] };
      }
    }
    const { started, failed } = await route(swapped as CfnTemplate);
    expect(started).toEqual([]);
    expect(failed[0]).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('states:StartExecution') });
    operator.destroy();
  });

  it('refuses a principal that is not a reporter when the bus policy denies it, on events:source and aws:PrincipalArn', async () => {
    const bus = cloud.provisioned.buses[Object.keys(cloud.provisioned.buses)[0]!]!;
    const busArn = `arn:aws:events:${SANDBOX_REGION}:000000000000:event-bus/${bus}`;
    const reporter = `arn:aws:iam::000000000000:role/${role('CompromiseValidate')}`;
    // The authority issue's explicit Deny for everyone but the reporters, set here on the sandbox's bus.
    cloud.sandbox.iam.setResourcePolicy(busArn, 'reporters-only', {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'OnlyReportersReport', Effect: 'Deny', Principal: '*', Action: 'events:PutEvents', Resource: busArn, Condition: { StringEquals: { 'events:source': CompromiseSource }, ArnNotEquals: { 'aws:PrincipalArn': reporter } } },
      ],
    });
    const operator = new EventBridgeClient({ region: SANDBOX_REGION, endpoint: cloud.sandbox.eventBridge.endpoint, credentials: SANDBOX_CREDENTIALS, maxAttempts: 1 });
    const report = { Source: CompromiseSource, DetailType: 'Compromise Reported', Detail: '{}', EventBusName: bus };
    const reports = () => cloud.sandbox.eventBridge.events().filter((event) => event.source === CompromiseSource).length;
    const reportsBefore = reports();
    const error = await operator.send(new PutEventsCommand({ Entries: [report] })).catch((failure: Error) => failure);
    expect(error).toMatchObject({ name: 'AccessDeniedException' });
    expect((error as Error).message).toContain('events:PutEvents');
    // The same administrator may still put certflow's other events: the Deny is only on reports.
    await expect(operator.send(new PutEventsCommand({ Entries: [{ ...report, Source: 'certflow' }] }))).resolves.toMatchObject({ FailedEntryCount: 0 });
    expect(reports()).toBe(reportsBefore);
    operator.destroy();
  });
  it('holds the functions’ cluster token to the shipped RBAC: outside deploy/kubernetes/rbac.yaml is 403 Forbidden as the API server words it', async () => {
    const { kubernetes, kubernetesFunctionToken } = cloud.sandbox;
    const coreAs = (token: string) => {
      const kubeconfig = new KubeConfig();
      kubeconfig.loadFromString(renderKubeconfig({ server: kubernetes.url, token, caCertificate: kubernetes.caCertificate! }));
      return kubeconfig.makeApiClient(CoreV1Api);
    };
    const refusal = async (call: Promise<unknown>) => {
      const error = (await call.catch((failure: unknown) => failure)) as ApiException<string>;
      expect(error).toBeInstanceOf(ApiException);
      return { code: error.code, ...(JSON.parse(error.body) as { reason: string; message: string }) };
    };
    const certflow = coreAs(kubernetesFunctionToken);
    expect(await refusal(certflow.readNamespacedSecret({ name: 'anything', namespace: 'kube-system' }))).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'secrets "anything" is forbidden: User "certflow" cannot get resource "secrets" in API group "" in the namespace "kube-system"',
    });
    expect(await refusal(certflow.listSecretForAllNamespaces())).toMatchObject({ code: 403, message: 'secrets is forbidden: User "certflow" cannot list resource "secrets" in API group "" at the cluster scope' });
    // Inside it: the declared namespace's Secrets; the administrator's token is not bound by it.
    expect((await certflow.listNamespacedSecret({ namespace: 'econ-graph' })).items).toBeDefined();
    expect((await coreAs(kubernetes.token).listSecretForAllNamespaces()).items).toBeDefined();
  });

  describe('KMS conditions on the unseal key: kms:ViaService', () => {
    it('lets UnsealNode read the encrypted share table, DynamoDB decrypting the table key for it via kms:ViaService', async () => {
      const env = cloud.runner.functionEnv('UnsealNode');
      const before = cloud.sandbox.iam.decisions().authorizedByAction['kms:Decrypt'] ?? 0;
      const shares = await new DynamoDbShareStore(dynamoDbClientFromEnv(env), env[EnvNames.ShareTable]!).list(config.vault.clusterId);
      expect(shares.length).toBe(config.vault.shares);
      expect(cloud.sandbox.iam.decisions().authorizedByAction['kms:Decrypt']).toBeGreaterThan(before);
    });

    it('refuses the account administrator a direct kms:Decrypt of a share: the key policy lets the account use the key only via DynamoDB', async () => {
      const operatorKms = kmsClientFromEnv({ ...cloud.sandbox.awsEnv });
      const error = await operatorKms.send(new DecryptCommand({ CiphertextBlob: shareCiphertext, EncryptionContext: shareContext })).catch((failure: Error) => failure);
      expect(error).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('certflow-sandbox-operator/operator is not authorized to perform: kms:Decrypt') });
      operatorKms.destroy();
    });

    it('refuses a role that may read the share table but not decrypt with its key, as DynamoDB would', async () => {
      const roleArn = 'arn:aws:iam::000000000000:role/table-reader-without-key';
      const credentials = credentialsForRole(roleArn);
      cloud.sandbox.iam.addIdentity({
        accessKeyId: credentials.accessKeyId,
        roleArn,
        sessionArn: `arn:aws:sts::000000000000:assumed-role/table-reader-without-key/test`,
        identityPolicies: [{ name: 'DynamoDbOnly', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] } }],
      });
      const env = cloud.runner.functionEnv('UnsealNode');
      const dynamoDb = dynamoDbClientFromEnv({ ...env, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey });
      const read = (table: string) => dynamoDb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'x' }, sk: { S: 'y' } } }));
      await expect(read(env[EnvNames.ShareTable]!)).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('kms:Decrypt') });
      // The ledger has no customer managed key: the same role reads it.
      await expect(read(cloud.runner.functionEnv('Preflight')[RotationEnvNames.LedgerTable]!)).resolves.toBeDefined();
      dynamoDb.destroy();
    });
  });

  describe('trust policies: which service may assume each role', () => {
    const roleArnOf = (name: string) => `arn:aws:iam::000000000000:role/${name}`;

    it('lets Lambda assume a function\'s role and no other service, and Step Functions only a state machine\'s', async () => {
      const iam = cloud.sandbox.iam;
      await expect(iam.assumeRole('lambda.amazonaws.com', roleArnOf(role('UnsealNode')))).resolves.toBeUndefined();
      await expect(iam.assumeRole('states.amazonaws.com', roleArnOf(role('UnsealNode')))).rejects.toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('states.amazonaws.com is not authorized to perform: sts:AssumeRole') });
      const machineRole = cloud.sandbox.identities()!.roles.find((candidate) => candidate.roleArn.includes('UnsealWorkflowStateMachineRole'))!.roleArn;
      const machineArn = (logicalId: string) => `arn:aws:states:${SANDBOX_REGION}:${SANDBOX_ACCOUNT}:stateMachine:${logicalId}`;
      await expect(iam.assumeRole('states.amazonaws.com', machineRole, machineArn(cloud.runner.find('UnsealWorkflow')))).resolves.toBeUndefined();
      await expect(iam.assumeRole('lambda.amazonaws.com', machineRole)).rejects.toMatchObject({ name: 'AccessDenied' });
      // CDK's confused-deputy condition: Step Functions acting for a state machine of another account may not.
      await expect(iam.assumeRole('states.amazonaws.com', machineRole, 'arn:aws:states:us-east-1:111111111111:stateMachine:Other')).rejects.toMatchObject({ name: 'AccessDenied' });
      const eventsRole = cloud.sandbox.identities()!.roles.find((candidate) => candidate.roleArn.includes('EventsRole'))!.roleArn;
      await expect(iam.assumeRole('events.amazonaws.com', eventsRole)).resolves.toBeUndefined();
      await expect(iam.assumeRole('events.amazonaws.com', roleArnOf(role('UnsealNode')))).rejects.toMatchObject({ name: 'AccessDenied' });
    });

    it('never runs a function whose role Lambda may not assume', async () => {
      const discoverRole = roleArnOf(role('UnsealDiscover'));
      const trustsStepFunctions = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
      cloud.sandbox.iam.setTrustPolicy(discoverRole, 'trusts-step-functions', trustsStepFunctions);
      try {
        // A fresh runner: its functions start cold, as after a deployment.
        const runner = new LocalRunner({
          template: cloud.template,
          assemblyDir: assemblyDir(),
          region: SANDBOX_REGION,
          accountId: SANDBOX_ACCOUNT,
          refs: cloud.provisioned.refs,
          attributes: cloud.provisioned.attributes,
          awsEnv: cloud.sandbox.functionAwsEnv(),
          eventBridge: cloud.sandbox.eventBridgeClient,
          dynamoDb: cloud.sandbox.dynamoDbClient,
          assumeRole: cloud.sandbox.iam.assumeRole.bind(cloud.sandbox.iam),
        });
        await expect(runner.invoke('UnsealDiscover', { runId: 'r1', request: { trigger: 'sandbox' } })).rejects.toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('lambda.amazonaws.com is not authorized to perform: sts:AssumeRole') });
      } finally {
        const template = cloud.template.Resources;
        const [, discover] = Object.entries(template).find(([, resource]) => resource.Type === 'AWS::IAM::Role' && resource.Properties?.['RoleName'] === role('UnsealDiscover'))!;
        cloud.sandbox.iam.setTrustPolicy(discoverRole, 'restored', discover.Properties!['AssumeRolePolicyDocument'] as never);
      }
    });
  });

  describe('the CloudFormation and Lambda APIs of the sandbox, with the real SDK clients', () => {
    type Settings = { region: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number };
    const operator: Settings = { region: SANDBOX_REGION, credentials: SANDBOX_CREDENTIALS, maxAttempts: 1 };
    const as = (functionId: FunctionId): Settings => {
      const env = cloud.runner.functionEnv(functionId);
      return { region: SANDBOX_REGION, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! }, maxAttempts: 1 };
    };
    const cloudFormation = (settings: Settings) => new CloudFormationClient({ ...settings, endpoint: cloud.cloudFormation.endpoint });
    const lambda = (settings: Settings) => new LambdaClient({ ...settings, endpoint: cloud.lambda.endpoint });
    const functionName = (functionId: FunctionId) => lambdaFunctions(cloud.template).find((fn) => fn.functionId === functionId)!.logicalId;

    it('describes the synthesized stack by its name, every output resolved to what the sandbox runs', async () => {
      const client = cloudFormation(operator);

      const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: `certflow-${config.name}` }));

      client.destroy();
      expect(Stacks?.map((stack) => [stack.StackName, stack.StackStatus])).toEqual([[`certflow-${config.name}`, 'CREATE_COMPLETE']]);
      const outputs = Object.fromEntries((Stacks![0]!.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]));
      const env = cloud.runner.functionEnv('Preflight');
      expect(outputs).toMatchObject({
        RotationStateMachineArn: cloud.stepFunctions.arnOf(cloud.runner.find('RotationWorkflow')),
        UnsealStateMachineArn: cloud.stepFunctions.arnOf(cloud.runner.find('UnsealWorkflow')),
        LedgerTableName: env[EnvNames.LedgerTable],
        ShareTableName: cloud.runner.functionEnv('UnsealNode')[EnvNames.ShareTable],
        UnsealKeyArn: cloud.runner.functionEnv('UnsealNode')[EnvNames.UnsealKeyId],
      });
      // Every output the CLI reads is there, a real value (no unresolved intrinsic).
      for (const key of Object.keys(STACK_OUTPUT_ENV)) expect({ key, value: outputs[key] }).toEqual({ key, value: expect.stringMatching(/^[\w:/.-]+$/) });
    });

    it('answers an unknown stack as CloudFormation does: 400 ValidationError, Stack with id ... does not exist', async () => {
      const client = cloudFormation(operator);

      const error = await client.send(new DescribeStacksCommand({ StackName: 'certflow-nope' })).catch((failure: unknown) => failure);

      client.destroy();
      expect(error).toMatchObject({ name: 'ValidationError', message: 'Stack with id certflow-nope does not exist', $metadata: { httpStatusCode: 400 } });
    });

    it('refuses DescribeStacks to a role no policy allows it, with 403 AccessDenied', async () => {
      const client = cloudFormation(as('UnsealDiscover'));

      const error = await client.send(new DescribeStacksCommand({ StackName: `certflow-${config.name}` })).catch((failure: unknown) => failure);

      client.destroy();
      expect(error).toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('is not authorized to perform: cloudformation:DescribeStacks'), $metadata: { httpStatusCode: 403 } });
    });

    it('lets a caller invoke a function only with lambda:InvokeFunction on its ARN: the Unseal state machine\'s role may, a function\'s role may not', async () => {
      const resolve = { region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT, refs: cloud.provisioned.refs, attributes: cloud.provisioned.attributes };
      const machineRole = credentialsForRole(stateMachineRoleArn(cloud.template, cloud.runner.find('UnsealWorkflow'), resolve)!);
      const [allowed, denied] = [lambda({ ...operator, credentials: machineRole }), lambda(as('UnsealDiscover'))];
      const dryRun = { FunctionName: functionName('UnsealDiscover'), InvocationType: 'DryRun' as const };

      const answer = await allowed.send(new InvokeCommand(dryRun));
      const error = await denied.send(new InvokeCommand(dryRun)).catch((failure: unknown) => failure);

      allowed.destroy();
      denied.destroy();
      expect(answer.StatusCode).toBe(204);
      expect(error).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining(`/UnsealDiscover is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:${SANDBOX_REGION}:${SANDBOX_ACCOUNT}:function:${functionName('UnsealDiscover')}`), $metadata: { httpStatusCode: 403 } });
    });

    it('answers a function\'s own failure as Lambda does (200, X-Amz-Function-Error, the error as payload) and an unknown function with 404', async () => {
      const client = lambda(operator);

      // UnsealDiscover ran in the Unseal workflow above: its bundle is loaded (no second cold start).
      const failed = await client.send(new InvokeCommand({ FunctionName: functionName('UnsealDiscover'), Payload: Buffer.from(JSON.stringify({ runId: 42 })) }));
      const missing = await client.send(new InvokeCommand({ FunctionName: 'no-such-function' })).catch((failure: unknown) => failure);

      client.destroy();
      expect({ status: failed.StatusCode, functionError: failed.FunctionError }).toEqual({ status: 200, functionError: 'Unhandled' });
      expect(JSON.parse(Buffer.from(failed.Payload!).toString('utf8'))).toEqual({ errorType: 'InvalidInputError', errorMessage: expect.stringContaining('invalid UnsealDiscover input: runId:'), trace: [] });
      expect(missing).toMatchObject({ name: 'ResourceNotFoundException', message: `Function not found: arn:aws:lambda:${SANDBOX_REGION}:${SANDBOX_ACCOUNT}:function:no-such-function`, $metadata: { httpStatusCode: 404 } });
    });
  });

  describe('run-time values reach the functions by reference, as in AWS', () => {
    const ssmAs = (functionId: FunctionId) => {
      const env = cloud.runner.functionEnv(functionId);
      return new SSMClient({ region: SANDBOX_REGION, endpoint: env.AWS_ENDPOINT_URL_SSM!, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! }, maxAttempts: 1 });
    };

    it('gives every function exactly its template environment plus the AWS endpoint settings and its own credentials', () => {
      const functions = lambdaFunctions(cloud.template, { region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT, refs: cloud.provisioned.refs, attributes: cloud.provisioned.attributes }).filter((fn) => fn.functionId);
      expect(functions.length).toBeGreaterThan(20);
      for (const fn of functions) {
        const env = cloud.runner.functionEnv(fn.functionId as FunctionId);
        const added = Object.keys(env).filter((name) => !(name in fn.environment));
        const template = Object.fromEntries(Object.keys(fn.environment).map((name) => [name, env[name]]));
        expect({ function: fn.functionId, template }).toEqual({ function: fn.functionId, template: fn.environment });
        expect(added.filter((name) => !FUNCTION_AWS_VARIABLES.includes(name))).toEqual([]);
        // No run-time value travels in an environment: only the name of its parameter does.
        for (const variable of RunTimeValueNames) expect(env[variable]).toBeUndefined();
        expect(Object.values(env).join('\n')).not.toContain(cloud.sandbox.kubernetes.token);
        expect(Object.values(env).join('\n')).not.toContain(cloud.sandbox.kubernetesFunctionToken);
      }
    });

    it('lets a function read the parameters its template names and no other, with ssm:GetParameter on each', async () => {
      const unsealNode = ssmAs('UnsealNode');
      const nodes = cloud.runner.functionEnv('UnsealNode')[parameterVariableOf(EnvNames.VaultNodes)]!;
      const { Parameter } = await unsealNode.send(new GetParameterCommand({ Name: nodes }));
      expect(JSON.parse(Parameter!.Value!)).toEqual(cloud.sandbox.config.vault.nodes);
      // The clusters are a rotation function's business: UnsealNode's role may not read them.
      const clusters = cloud.runner.functionEnv('RenewBatch')[parameterVariableOf(RotationEnvNames.Clusters)]!;
      const error = await unsealNode.send(new GetParameterCommand({ Name: clusters })).catch((failure: Error) => failure);
      expect(error).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining(`${role('UnsealNode')}/UnsealNode is not authorized to perform: ssm:GetParameter`) });
      unsealNode.destroy();
    });

    it('keeps the cluster token in its Secrets Manager secret, which only the functions that reach the cluster may read', async () => {
      const resolved = await cloud.runner.resolvedFunctionEnv('RenewBatch');
      const [cluster] = JSON.parse(resolved[RotationEnvNames.Clusters]!) as Array<{ token?: string; tokenSecretArn: string; server: string }>;
      expect(cluster).toMatchObject({ server: cloud.sandbox.kubernetes.url, tokenSecretArn: expect.stringContaining(':secret:certflow/econgraph/clusters/primary/token-') });
      expect(cluster!.token).toBeUndefined();
      const secretsAs = (functionId: FunctionId) => {
        const env = cloud.runner.functionEnv(functionId);
        return new SecretsManagerClient({ region: SANDBOX_REGION, endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER!, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! }, maxAttempts: 1 });
      };
      const [renew, unseal] = [secretsAs('RenewBatch'), secretsAs('UnsealNode')];
      expect((await renew.send(new GetSecretValueCommand({ SecretId: cluster!.tokenSecretArn }))).SecretString).toBe(cloud.sandbox.kubernetesFunctionToken);
      await expect(unseal.send(new GetSecretValueCommand({ SecretId: cluster!.tokenSecretArn }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      renew.destroy();
      unseal.destroy();
    });

    it('refuses to add anything but AWS endpoint settings to the functions\' environments', () => {
      expect(() => cloud.runner.extendEnv({ [EnvNames.VaultNodes]: '[]' })).toThrow(/only AWS endpoint settings/);
    });
  });
});
