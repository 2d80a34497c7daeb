import { compromiseEnvelope } from '../support/local-cloud-fixture';
import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CompromiseDetailTypes, CompromiseSource, type CompromiseReport } from '../../functions/contracts/compromise';
import { RotationEnvNames } from '../../functions/contracts/rotation-env';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger';
import { CompromiseStates } from '../../lib/constructs/compromise-states';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { ReadyFleet } from '../../sandbox/compose/fleet';
import type { LocalExecution } from '../../sandbox/runner/local-runner';
import { SANDBOX_ACCOUNT, SANDBOX_CREDENTIALS, SANDBOX_REGION } from '../../sandbox/compose/sandbox';
import { startStepFunctionsEmulator } from '../../sandbox/stepfunctions/stepfunctions-emulator';
import { startFaultFleet } from '../support/fault-matrix';
import { trustBreaks } from '../support/invariants';

/**
 * The compromise gate and the one-response-at-a-time lock (issue 11), on the synthesized
 * CompromiseResponse state machine: a report that names nothing managed is rejected before any
 * preemption or lock, and two reports never run two responses.
 */
jest.setTimeout(180_000);

const envelope = compromiseEnvelope;
const report = (scope: CompromiseReport['scope']): CompromiseReport => ({ scope, reason: 'keyCompromise', reportedBy: 'secops@econgraph', ticket: 'SEC-11' });
const entered = (execution: LocalExecution, state: string) => execution.history.filter((event) => event.type.endsWith('StateEntered') && event.state?.name === state);
const outcomeOf = (execution: LocalExecution) => (execution.output as { outcome?: string } | undefined)?.outcome;

describe('the compromise gate', () => {
  let cloud: LocalCloud;
  let fleet: ReadyFleet;
  const machine = () => cloud.runner.find('CompromiseWorkflow');
  const ledger = () => new DynamoDbLedger(cloud.sandbox.dynamoDbClient, cloud.runner.functionEnv('CompromisePlan')[RotationEnvNames.LedgerTable]!);
  let stepFunctions: Awaited<ReturnType<typeof startStepFunctionsEmulator>>;
  beforeAll(async () => {
    ({ cloud, fleet } = await startFaultFleet());
    // One Step Functions API for the whole file: PreemptRotation reaches it from every response.
    stepFunctions = await startStepFunctionsEmulator({ runner: cloud.runner, region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT });
    cloud.runner.extendEnv({ AWS_ENDPOINT_URL_SFN: stepFunctions.endpoint });
  });
  afterAll(async () => {
    await stepFunctions?.close();
    await cloud?.sandbox.close();
  });

  it.each([
    ['an unknown service', { kind: 'services', services: ['backend', 'payments'] }, 'payments is not declared'],
    ['a serial certflow never issued', { kind: 'serials', serials: ['DEADBEEF'] }, 'de:ad:be:ef is not a certificate certflow issued'],
  ] as const)('rejects %s without preempting a running rotation, locking, or changing anything', async (_name, scope, reason) => {
    try {
      const sfn = new SFNClient({ region: SANDBOX_REGION, credentials: SANDBOX_CREDENTIALS, endpoint: stepFunctions.endpoint });
      // The canary's rollout never completes, so the rotation sits in its wait loop while the report arrives.
      cloud.sandbox.kubernetes.setRolloutsPaused('econ-graph', 'frontend', true);
      const rotation = await sfn.send(new StartExecutionCommand({ stateMachineArn: stepFunctions.arnOf(cloud.runner.find('RotationWorkflow')), input: JSON.stringify({ trigger: 'cli', forceRenewal: true }) }));
      for (let attempt = 0; attempt < 400; attempt += 1) {
        const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: rotation.executionArn! }));
        if (history.events?.some((event) => event.stateEnteredEventDetails?.name === 'WaitCanary')) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      const response = await cloud.runner.run(machine(), envelope(report(scope as unknown as CompromiseReport['scope'])));

      const running = await sfn.send(new DescribeExecutionCommand({ executionArn: rotation.executionArn! }));
      cloud.sandbox.kubernetes.setRolloutsPaused('econ-graph', 'frontend', false);
      expect(response.status).toBe('SUCCEEDED');
      expect(response.output).toEqual(expect.objectContaining({ outcome: 'Rejected', reason: expect.stringContaining(reason) }));
      expect(running.status).toBe('RUNNING');
      for (const state of [CompromiseStates.TakeLock, CompromiseStates.PreemptRotation, CompromiseStates.Preflight]) expect(entered(response, state)).toEqual([]);
      const rejected = cloud.sandbox.eventBridge.events().find((event) => event.detailType === CompromiseDetailTypes.Rejected && String(event.detail['reason']).includes(reason));
      expect(rejected?.detail).toEqual(expect.objectContaining({ reportedBy: 'secops@econgraph' }));
      // The rotation it did not touch goes on to finish.
      for (let attempt = 0; attempt < 1000; attempt += 1) {
        if ((await sfn.send(new DescribeExecutionCommand({ executionArn: rotation.executionArn! }))).status !== 'RUNNING') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await sfn.send(new DescribeExecutionCommand({ executionArn: rotation.executionArn! }))).status).toBe('SUCCEEDED');
    } finally {
      cloud.sandbox.kubernetes.setRolloutsPaused('econ-graph', 'frontend', false);
    }
  });

  it('runs one response for two reports of the same scope: the second is refused and named in the first’s ledger', async () => {
    const before = cloud.sandbox.services.served('chart-api')!.serial;

    const [first, second] = await Promise.all([cloud.runner.run(machine(), envelope(report({ kind: 'services', services: ['chart-api'] }))), cloud.runner.run(machine(), envelope(report({ kind: 'services', services: ['chart-api'] })))]);

    const outcomes = [first, second].map(outcomeOf);
    expect(outcomes.sort()).toEqual(['Contained', 'Rejected']);
    const [winner, refused] = outcomeOf(first) === 'Contained' ? [first, second] : [second, first];
    expect(refused.output).toEqual(expect.objectContaining({ reason: expect.stringContaining(`already running (${winner.name})`) }));
    for (const state of [CompromiseStates.PreemptRotation, CompromiseStates.Preflight, CompromiseStates.Reissue]) expect(entered(refused, state)).toEqual([]);
    const records = await ledger().records(winner.name);
    expect(records.find((record) => record.entry === `compromise#duplicate#${refused.name}`)?.fields).toEqual(expect.objectContaining({ refusedRunId: refused.name, reportedBy: 'secops@econgraph' }));
    // One reissue, one revocation: the served certificate changed once, from the compromised one.
    expect(cloud.sandbox.services.served('chart-api')!.serial).not.toBe(before);
    expect(cloud.sandbox.eventBridge.events().filter((event) => event.detailType === CompromiseDetailTypes.Contained && [first.name, second.name].includes(String(event.detail['runId'])))).toHaveLength(1);
    expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);
  });

  it('makes a report for another scope wait for the lock, so two responses never run at once', async () => {
    const [a, b] = await Promise.all([cloud.runner.run(machine(), envelope(report({ kind: 'services', services: ['backend'] }))), cloud.runner.run(machine(), envelope(report({ kind: 'services', services: ['keycloak'] })))]);

    expect([a, b].map(outcomeOf)).toEqual(['Contained', 'Contained']);
    // Each holds the lock from its TakeLock's success to its release; the two spans never overlap.
    const span = (execution: LocalExecution) => {
      const taken = execution.history.filter((event) => event.type.endsWith('StateExited') && event.state?.name === CompromiseStates.TakeLock).at(-1)!.timestamp;
      const released = execution.history.find((event) => event.type.endsWith('StateExited') && event.state?.name === CompromiseStates.ReleaseCompromiseLock)!.timestamp;
      return { taken, released };
    };
    const [early, late] = [span(a), span(b)].sort((x, y) => x.taken - y.taken);
    expect(late!.taken).toBeGreaterThanOrEqual(early!.released);
    expect(entered(a, CompromiseStates.WaitForLock).length + entered(b, CompromiseStates.WaitForLock).length).toBeGreaterThan(0);
    expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);
  });
});
