import { createServer, type AddressInfo } from 'node:net';
import { K8sNames, type Target } from '../../functions/contracts/targets';
import { RotationEnvNames } from '../../functions/contracts/rotation-env';
import type { RefusedCandidate } from '../../functions/contracts/target-policy';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { ReadyFleet } from '../../sandbox/compose/fleet';
import { startFaultFleet } from '../support/fault-matrix';
import { trustBreaks } from '../support/invariants';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PlanDryRunResultSchema } from '../../functions/contracts/plan-dry-run';
import { lambdaFunctions } from '../../sandbox/runner/template-resolver';
import { SANDBOX_CREDENTIALS, SANDBOX_REGION } from '../../sandbox/compose/sandbox';

/**
 * The declared target policy in the sandbox (issue 11): what the attacker run did (a labelled
 * Secret in a tenant namespace claiming istio-cacerts, a Secret claiming backend's and keycloak's
 * names, a forged ledger item) is refused, reported and left untouched, and the fleet still rotates.
 */
jest.setTimeout(120_000);

const managed = { [K8sNames.ManagedLabel]: 'true' };
const fakePem = Buffer.from('not a certificate').toString('base64');

describe('the target policy in a rotation', () => {
  let cloud: LocalCloud;
  let fleet: ReadyFleet;
  beforeAll(async () => {
    ({ cloud, fleet } = await startFaultFleet());
  });
  afterAll(async () => cloud?.sandbox.close());

  const store = () => cloud.sandbox.kubernetes.store;
  const version = (namespace: string, name: string) => store().get('secrets', { namespace, name })?.metadata.resourceVersion;

  it('ignores, reports and leaves untouched every labelled Secret outside the policy, and renews the declared fleet', async () => {
    store().create('namespaces', { metadata: { name: 'tenant-x' } } as never);
    store().create('secrets', {
      metadata: { name: 'cacerts', namespace: 'tenant-x', labels: managed, annotations: { [K8sNames.KindAnnotation]: 'istio-cacerts' } },
      type: 'Opaque',
      data: {},
    } as never);
    store().create('secrets', {
      metadata: {
        name: 'claims-tls',
        namespace: 'econ-graph',
        labels: managed,
        annotations: { [K8sNames.DnsNamesAnnotation]: 'backend.econ-graph.svc,keycloak.econ-graph.svc,www.bank.example', [K8sNames.EndpointAnnotation]: '10.9.9.9:443' },
      },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': fakePem, 'tls.key': fakePem },
    } as never);
    store().create('secrets', {
      metadata: { name: 'mesh', namespace: 'econ-graph', labels: managed, annotations: { [K8sNames.KindAnnotation]: 'istio-cacerts' } },
      type: 'Opaque',
      data: {},
    } as never);
    // A Secret someone labelled as a backup: clean-up must not delete it (it is not named as certflow's backups are).
    store().create('secrets', {
      metadata: { name: 'keycloak-admin', namespace: 'econ-graph', labels: { [K8sNames.BackupRunLabel]: 'an-old-run' }, annotations: { [K8sNames.BackupOfAnnotation]: 'keycloak-tls' } },
      type: 'Opaque',
      data: { password: Buffer.from('hunter2').toString('base64') },
    } as never);
    const before = { tenant: version('tenant-x', 'cacerts'), claims: version('econ-graph', 'claims-tls'), mesh: version('econ-graph', 'mesh'), admin: version('econ-graph', 'keycloak-admin') };
    const requestsBefore = cloud.sandbox.kubernetes.requests().length;

    const execution = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'cli', forceIntermediate: true });

    expect(execution.status).toBe('SUCCEEDED');
    // Untouched: not one write to any of them, and nothing created in the tenant namespace.
    expect({ tenant: version('tenant-x', 'cacerts'), claims: version('econ-graph', 'claims-tls'), mesh: version('econ-graph', 'mesh'), admin: version('econ-graph', 'keycloak-admin') }).toEqual(before);
    expect(store().list('secrets', { namespace: 'tenant-x' }).map((secret) => secret.metadata.name)).toEqual(['cacerts']);
    // Discovery and clean-up read only declared namespaces: no cluster-wide Secret list, nothing in tenant-x.
    const requests = cloud.sandbox.kubernetes.requests().slice(requestsBefore);
    expect(requests.filter((request) => request.resource === 'secrets' && request.namespace === undefined)).toEqual([]);
    expect(requests.filter((request) => request.namespace === 'tenant-x')).toEqual([]);
    expect(new Set(requests.filter((request) => request.resource === 'secrets').map((request) => request.namespace))).toEqual(new Set(['econ-graph', 'istio-system']));

    // Reported: in the Rotation Succeeded event and the plan's ledger record, each with its reason.
    const succeeded = cloud.sandbox.eventBridge.events().find((event) => event.detail.runId === execution.name && event.detailType === 'Rotation Succeeded')!;
    const detail = succeeded.detail as { rejected: RefusedCandidate[]; rejectedCount: number; counts: { renewed: number; verified: number } };
    expect(detail.rejected.map((entry) => [entry.object, entry.reason]).sort()).toEqual([
      ['Secret primary/econ-graph/claims-tls', 'ServiceClaimRefused'],
      ['Secret primary/econ-graph/mesh', 'MeshLocationNotDeclared'],
    ]);
    expect(detail.rejectedCount).toBe(2);
    expect(detail.counts).toEqual(expect.objectContaining({ renewed: 5, verified: 5 }));
    const ledger = new DynamoDbLedger(cloud.sandbox.dynamoDbClient, cloud.runner.functionEnv('PlanRotation')[RotationEnvNames.LedgerTable]!);
    const plan = (await ledger.records(execution.name)).find((record) => record.entry === 'plan')!;
    expect((plan.fields.rejected as RefusedCandidate[]).map((entry) => entry.reason).sort()).toEqual(['MeshLocationNotDeclared', 'ServiceClaimRefused']);
    // The per-target reasons live in pages of their own (a 10,000-service plan passed DynamoDB's item limit).
    const reasons = (await ledger.records(execution.name)).filter((record) => record.entry.startsWith('plan#reasons#')).flatMap((record) => record.fields.reasons as Array<[string, string]>);
    expect(plan.fields).toEqual(expect.objectContaining({ reasonPages: 1, rejectedCount: 2, rejectedPages: 1, targetCount: reasons.length }));
    expect(reasons.length).toBe(detail.counts.renewed);
    expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);
  });

  it('dials only the declared endpoint: an endpoint annotation on a declared Secret, or an altered ledger item, never reaches the probe', async () => {
    let dialled = 0;
    const decoy = createServer((socket) => {
      dialled += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
    const { port } = decoy.address() as AddressInfo;
    try {
      store().mutate('secrets', { namespace: 'econ-graph', name: 'backend-tls' }, (secret) => {
        secret.metadata.annotations = { ...(secret.metadata.annotations ?? {}), [K8sNames.EndpointAnnotation]: `127.0.0.1:${port}:backend.econ-graph.svc` };
      });

      const execution = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'cli', services: ['backend'], forceRenewal: true });

      expect(execution.status).toBe('SUCCEEDED');
      const succeeded = cloud.sandbox.eventBridge.events().find((event) => event.detail.runId === execution.name && event.detailType === 'Rotation Succeeded')!;
      expect((succeeded.detail as { services: Array<{ service: string; verdict: string }> }).services).toEqual([expect.objectContaining({ service: 'backend', verdict: 'Valid' })]);

      // The same endpoint written into a ledger item: VerifyBatch refuses the item before dialling anything.
      const env = cloud.runner.functionEnv('VerifyBatch');
      const ledger = new DynamoDbLedger(cloud.sandbox.dynamoDbClient, env[RotationEnvNames.LedgerTable]!);
      const [backend] = (await ledger.getBatch(execution.name, 'b0001')).filter((target) => target.service === 'backend');
      await ledger.putBatch('altered-endpoint-run', 'b0001', [{ ...backend!, endpoint: { host: '127.0.0.1', port, serverName: 'backend.econ-graph.svc' } }]);
      // As Lambda runs it: VerifyBatch's synthesized bundle, with its own environment and role.
      const verify = (event: unknown) => cloud.runner.invoke('VerifyBatch', event);
      await expect(verify({ runId: 'altered-endpoint-run', requestedAt: new Date().toISOString(), batchId: 'b0001' })).rejects.toMatchObject({ name: 'TargetRefusedError', message: expect.stringContaining('endpoint') });

      expect(dialled).toBe(0);
    } finally {
      decoy.close();
    }
  });

  it('refuses a ledger batch forged with an istio-cacerts target: RenewBatch fails typed and writes nothing, RestoreBatch leaves it alone', async () => {
    const env = cloud.runner.functionEnv('RenewBatch');
    const ledger = new DynamoDbLedger(cloud.sandbox.dynamoDbClient, env[RotationEnvNames.LedgerTable]!);
    const forged: Target = {
      id: 'primary/tenant-x/stolen-ca',
      cluster: 'primary',
      namespace: 'tenant-x',
      service: 'backend',
      kind: 'istio-cacerts',
      secretName: 'stolen-ca',
      workloads: [],
      dnsNames: ['keycloak.econ-graph.svc', 'www.bank.example'],
      canary: false,
      keyAlgorithm: 'ecdsa-p256',
    };
    const runId = 'forged-ledger-run';
    await ledger.putBatch(runId, 'b0001', [forged]);
    const requestedAt = new Date().toISOString();
    // As Lambda runs them: each step's synthesized bundle, with its own environment and role.
    const renew = (event: unknown) => cloud.runner.invoke('RenewBatch', event);
    const restore = (event: unknown) => cloud.runner.invoke('RestoreBatch', event);

    await expect(renew({ runId, requestedAt, batchId: 'b0001' })).rejects.toMatchObject({ name: 'TargetRefusedError', message: expect.stringContaining('MeshLocationNotDeclared') });
    const restored = (await restore({ runId, requestedAt, batchId: 'b0001' })) as { restored: number };

    expect(restored.restored).toBe(0);
    expect(store().get('secrets', { namespace: 'tenant-x', name: 'stolen-ca' })).toBeUndefined();
    const records = await ledger.records(runId);
    expect(records.map((record) => record.entry).sort()).toEqual(['batch#b0001#refused', 'batch#b0001#restore']);
    expect((records.find((record) => record.entry === 'batch#b0001#restore')!.fields.refused as RefusedCandidate[])[0]).toMatchObject({ reason: 'MeshLocationNotDeclared' });
  });

  it('answers a dry-run input to PlanRotation, invoked over the Lambda API, with every decision and the refused candidates, and writes nothing; a dry run that also names a run is refused', async () => {
    const ledgerTable = cloud.runner.functionEnv('PlanRotation')[RotationEnvNames.LedgerTable]!;
    const ledgerItems = async () => (await cloud.sandbox.dynamoDbClient.send(new ScanCommand({ TableName: ledgerTable, Select: 'COUNT' }))).Count;
    const writes = () => cloud.sandbox.kubernetes.requests().filter((request) => !['get', 'list', 'watch'].includes(request.verb)).length;
    const before = { ledger: await ledgerItems(), events: cloud.sandbox.eventBridge.events().length, writes: writes() };
    const client = new LambdaClient({ region: SANDBOX_REGION, credentials: SANDBOX_CREDENTIALS, endpoint: cloud.lambda.endpoint, maxAttempts: 1 });
    const planFunction = lambdaFunctions(cloud.template).find((fn) => fn.functionId === 'PlanRotation')!.logicalId;
    const invoke = async (payload: unknown) => {
      const answer = await client.send(new InvokeCommand({ FunctionName: planFunction, Payload: Buffer.from(JSON.stringify(payload)) }));
      return { functionError: answer.FunctionError, payload: JSON.parse(Buffer.from(answer.Payload!).toString('utf8')) as unknown };
    };

    const dryRun = await invoke({ dryRun: { forceIntermediate: true } });
    const both = await invoke({ dryRun: {}, run: { runId: 'a-run', requestedAt: new Date().toISOString(), trigger: 'cli', forceIntermediate: true, forceRenewal: false, previousDefault: '', nodesUnsealedByPreflight: [] } });

    client.destroy();
    expect(dryRun.functionError).toBeUndefined();
    const result = PlanDryRunResultSchema.parse(dryRun.payload);
    expect(result.rotation).toMatchObject({ due: true, reason: 'Forced' });
    // The intermediate would rotate: every declared target is due, each saying so.
    expect(result.targets.map((target) => [target.service, target.due]).sort()).toEqual(['backend', 'chart-api', 'frontend', 'keycloak', 'mcp-server'].map((service) => [service, true]));
    expect(result.rejected.map((entry) => [entry.object, entry.reason]).sort()).toEqual([
      ['Secret primary/econ-graph/claims-tls', 'ServiceClaimRefused'],
      ['Secret primary/econ-graph/mesh', 'MeshLocationNotDeclared'],
    ]);
    expect(both).toEqual({ functionError: 'Unhandled', payload: expect.objectContaining({ errorType: 'InvalidInputError', errorMessage: expect.stringContaining('Unrecognized key: "run"') }) });
    expect({ ledger: await ledgerItems(), events: cloud.sandbox.eventBridge.events().length, writes: writes() }).toEqual(before);
  });
});
