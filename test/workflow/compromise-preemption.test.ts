import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SANDBOX_ACCOUNT, SANDBOX_CREDENTIALS, SANDBOX_REGION } from '../../sandbox/compose/sandbox';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger';
import { startFaultFleet } from '../support/fault-matrix';
import { trustBreaks } from '../support/invariants';

/**
 * A compromise reported while a rotation runs: the response stops the rotation through the Step
 * Functions API (the sandbox's, over the same local runner), takes the lock and proceeds.
 */
jest.setTimeout(120_000);

it('stops a running rotation, takes over the lock and contains the compromise', async () => {
  const { cloud, fleet } = await startFaultFleet();
  // The local cloud serves the Step Functions API over its runner, and its functions use it.
  const { stepFunctions } = cloud;
  try {
    const sfn = new SFNClient({ region: SANDBOX_REGION, credentials: SANDBOX_CREDENTIALS, endpoint: stepFunctions.endpoint });
    // The canary's rollout never completes, so the rotation sits in its wait loop.
    cloud.sandbox.kubernetes.setRolloutsPaused('econ-graph', 'frontend', true);
    const rotation = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: stepFunctions.arnOf(cloud.runner.find('RotationWorkflow')), input: JSON.stringify({ trigger: 'cli', forceIntermediate: true }) }),
    );
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: rotation.executionArn! }));
      if (history.events?.some((event) => event.stateEnteredEventDetails?.name === 'WaitCanary')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const response = await cloud.runner.run(cloud.runner.find('CompromiseWorkflow'), {
      version: '0',
      id: 'e-preempt',
      'detail-type': 'Compromise Reported',
      source: 'certflow.security',
      account: SANDBOX_ACCOUNT,
      time: new Date().toISOString(),
      region: SANDBOX_REGION,
      resources: [],
      detail: { scope: { kind: 'services', services: ['backend'] }, reason: 'keyCompromise', reportedBy: 'security@econ-graph' },
    });
    cloud.sandbox.kubernetes.setRolloutsPaused('econ-graph', 'frontend', false);

    expect(response.status).toBe('SUCCEEDED');
    const stopped = await sfn.send(new DescribeExecutionCommand({ executionArn: rotation.executionArn! }));
    expect(stopped.status).toBe('ABORTED');
    const ledger = new DynamoDbLedger(cloud.sandbox.dynamoDbClient, cloud.runner.functionEnv('ReleaseStaleLock').CERTFLOW_LEDGER_TABLE!);
    const preempt = (await ledger.records(response.name)).find((record) => record.entry.includes('preempt'));
    expect(JSON.stringify(preempt?.fields)).toContain(rotation.executionArn!);
    const contained = cloud.sandbox.eventBridge.events().find((event) => event.detailType === 'Compromise Contained' && event.detail.runId === response.name);
    expect(contained).toBeDefined();
    expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);
  } finally {
    await cloud.sandbox.close();
  }
});
