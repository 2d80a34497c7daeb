import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import { SANDBOX_CREDENTIALS } from '../../sandbox/compose/sandbox';
import { startStepFunctionsEmulator, type StepFunctionsEmulatorHandle } from '../../sandbox/stepfunctions/stepfunctions-emulator';
import { routeRules } from '../../sandbox/eventbridge/rules-routing';
import { matchesPattern } from '../../sandbox/eventbridge/rules-pattern';
import { RotationStates } from '../../functions/contracts/rotation-payloads';
import type { CfnTemplate } from '../../sandbox/runner/template-resolver';
import { startFaultFleet } from '../support/fault-matrix';

/**
 * The Step Functions API emulator, driven by the real @aws-sdk/client-sfn over HTTP, running the
 * template's state machines on a ready sandbox fleet; and EventBridge rules routed to it.
 */
describe('the Step Functions emulator over a ready sandbox', () => {
  let cloud: LocalCloud;
  let emulator: StepFunctionsEmulatorHandle;
  let sfn: SFNClient;
  let unsealArn: string;
  let rotationArn: string;

  beforeAll(async () => {
    ({ cloud } = await startFaultFleet());
    emulator = await startStepFunctionsEmulator({ runner: cloud.runner, region: 'us-east-1', accountId: '000000000000' });
    sfn = new SFNClient({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: SANDBOX_CREDENTIALS, maxAttempts: 1 });
    unsealArn = emulator.arnOf(cloud.runner.find('UnsealWorkflow'));
    rotationArn = emulator.arnOf(cloud.runner.find('RotationWorkflow'));
  }, 120_000);

  afterAll(async () => {
    sfn?.destroy();
    await emulator?.close();
    await cloud?.sandbox.close();
  });

  async function untilDone(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    for (let attempt = 0; attempt < 600; attempt++) {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (described.status !== 'RUNNING') return described;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${executionArn} did not finish`);
  }

  async function history(executionArn: string, maxResults?: number): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, ...(maxResults ? { maxResults } : {}) }));
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  it('lists and describes the template state machines with their ARN and definition', async () => {
    const listed = await sfn.send(new ListStateMachinesCommand({}));
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: rotationArn }));

    expect(listed.stateMachines?.map((machine) => machine.stateMachineArn)).toEqual(expect.arrayContaining([unsealArn, rotationArn]));
    expect(rotationArn).toMatch(/^arn:aws:states:us-east-1:000000000000:stateMachine:RotationWorkflow/);
    expect(Object.keys((JSON.parse(described.definition!) as { States: object }).States)).toContain(RotationStates.AcquireLock);
  });

  it('runs the Unseal state machine to SUCCEEDED with its input, output and dates', async () => {
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: unsealArn, name: 'unseal-one', input: JSON.stringify({ trigger: 'cli' }) }));

    const described = await untilDone(started.executionArn!);

    expect(started.executionArn).toBe(`arn:aws:states:us-east-1:000000000000:execution:${cloud.runner.find('UnsealWorkflow')}:unseal-one`);
    expect(started.startDate).toBeInstanceOf(Date);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.input!)).toEqual({ trigger: 'cli' });
    expect(JSON.parse(described.output!)).toHaveProperty('nodes');
    expect(described.stopDate!.getTime()).toBeGreaterThanOrEqual(described.startDate!.getTime());
  });

  it('answers GetExecutionHistory with started, entered, exited and succeeded events across pages', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: unsealArn, input: '{"trigger":"cli"}' }));
    await untilDone(executionArn!);

    const paged = await history(executionArn!, 3);
    const whole = await history(executionArn!);

    expect(paged).toEqual(whole);
    expect(whole[0]!.type).toBe('ExecutionStarted');
    expect(whole.at(-1)!.type).toBe('ExecutionSucceeded');
    expect(whole.map((event) => event.id)).toEqual(whole.map((_, index) => index + 1));
    const entered = whole.filter((event) => event.type?.endsWith('StateEntered')).map((event) => event.stateEnteredEventDetails?.name);
    const exited = whole.filter((event) => event.type?.endsWith('StateExited')).map((event) => event.stateExitedEventDetails?.name);
    expect(entered.length).toBeGreaterThan(1);
    expect(entered.filter((name) => !exited.includes(name))).toEqual([]);
    expect(whole.some((event) => event.type === 'TaskStateEntered')).toBe(true);
    expect(whole.every((event) => event.timestamp instanceof Date)).toBe(true);
  });

  it('refuses a second execution with the same name as ExecutionAlreadyExists', async () => {
    await untilDone(`arn:aws:states:us-east-1:000000000000:execution:${cloud.runner.find('UnsealWorkflow')}:unseal-one`);

    const again = sfn.send(new StartExecutionCommand({ stateMachineArn: unsealArn, name: 'unseal-one', input: '{"trigger":"schedule"}' }));

    await expect(again).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('says ExecutionDoesNotExist for an execution it never started', async () => {
    const missing = sfn.send(new DescribeExecutionCommand({ executionArn: `arn:aws:states:us-east-1:000000000000:execution:${cloud.runner.find('UnsealWorkflow')}:nope` }));

    await expect(missing).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('lists executions of one state machine, newest first, filtered by status', async () => {
    const all = await sfn.send(new ListExecutionsCommand({ stateMachineArn: unsealArn }));
    const succeeded = await sfn.send(new ListExecutionsCommand({ stateMachineArn: unsealArn, statusFilter: 'SUCCEEDED' }));
    const failed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: unsealArn, statusFilter: 'FAILED' }));
    const rotations = await sfn.send(new ListExecutionsCommand({ stateMachineArn: rotationArn }));

    expect(all.executions).toHaveLength(2);
    expect(all.executions!.at(-1)!.name).toBe('unseal-one');
    expect(succeeded.executions).toHaveLength(2);
    expect(failed.executions).toEqual([]);
    expect(rotations.executions).toEqual([]);
  });

  it('stops a rotation waiting for a rollout that never happens, which ends ABORTED', async () => {
    cloud.sandbox.kubernetes.setRolloutsPaused('econ-graph', 'frontend', true);
    try {
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: rotationArn, input: JSON.stringify({ trigger: 'cli', forceIntermediate: true }) }));
      let waiting = false;
      for (let attempt = 0; attempt < 400 && !waiting; attempt++) {
        const events = await history(executionArn!);
        waiting = events.some((event) => event.stateEnteredEventDetails?.name === RotationStates.WaitCanary);
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(waiting).toBe(true);

      const stopped = await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator.Stop', cause: 'test' }));
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      await emulator.settled();
      const events = await history(executionArn!);

      expect(stopped.stopDate).toBeInstanceOf(Date);
      expect([described.status, described.error]).toEqual(['ABORTED', 'Operator.Stop']);
      expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('ABORTED');
      expect(events.at(-1)!.type).toBe('ExecutionAborted');
      expect(events.some((event) => event.stateEnteredEventDetails?.name === RotationStates.Finalize)).toBe(false);
    } finally {
      cloud.sandbox.kubernetes.setRolloutsPaused('econ-graph', 'frontend', false);
    }
  }, 60_000);

  describe('EventBridge rules that target a state machine', () => {
    it('start the target with the event envelope for a matching event and ignore one that does not match', async () => {
      const busId = Object.entries(cloud.template.Resources ?? {}).find(([, resource]) => (resource as { Type: string }).Type === 'AWS::Events::EventBus')![0];
      const unsealId = cloud.runner.find('UnsealWorkflow');
      const template = {
        ...cloud.template,
        Resources: {
          ...cloud.template.Resources,
          DrillRule: {
            Type: 'AWS::Events::Rule',
            Properties: {
              EventBusName: { Ref: busId },
              EventPattern: { source: ['certflow.drill'], 'detail-type': ['Unseal Requested'], detail: { reason: [{ prefix: 'drill-' }], ticket: [{ exists: true }] } },
              State: 'ENABLED',
              Targets: [{ Arn: { Ref: unsealId }, Id: 'Target0', RoleArn: 'arn:aws:iam::000000000000:role/events' }],
            },
          },
        },
      } as CfnTemplate;
      const started: string[] = [];
      const stop = routeRules(cloud.sandbox.eventBridge, template, (logicalId, input) => started.push(emulator.startExecution(emulator.arnOf(logicalId), input)), { refs: cloud.provisioned.refs });
      const events = new EventBridgeClient({ region: 'us-east-1', endpoint: cloud.sandbox.eventBridge.endpoint, credentials: SANDBOX_CREDENTIALS });
      const bus = cloud.provisioned.refs[busId]!;
      try {
        const put = await events.send(
          new PutEventsCommand({
            Entries: [
              { EventBusName: bus, Source: 'certflow.drill', DetailType: 'Unseal Requested', Detail: JSON.stringify({ reason: 'drill-42', ticket: 'OPS-1' }) },
              { EventBusName: bus, Source: 'certflow.drill', DetailType: 'Unseal Requested', Detail: JSON.stringify({ reason: 'real', ticket: 'OPS-2' }) },
              { EventBusName: bus, Source: 'certflow.drill', DetailType: 'Unseal Requested', Detail: JSON.stringify({ reason: 'drill-43' }) },
              { Source: 'certflow.drill', DetailType: 'Unseal Requested', Detail: JSON.stringify({ reason: 'drill-44', ticket: 'OPS-3' }) },
            ],
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));

        expect(started).toHaveLength(1);
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started[0]! }));
        const input = JSON.parse(described.input!) as Record<string, unknown>;
        expect(input).toEqual({
          version: '0',
          id: put.Entries![0]!.EventId,
          'detail-type': 'Unseal Requested',
          source: 'certflow.drill',
          account: '000000000000',
          time: expect.any(String),
          region: 'us-east-1',
          resources: [],
          detail: { reason: 'drill-42', ticket: 'OPS-1' },
        });
      } finally {
        stop();
        events.destroy();
        await emulator.settled();
      }
    });

    it.each([
      ['an exact value in a list matches', { source: ['a', 'b'] }, { source: 'b' }, true],
      ['a value outside the list does not match', { source: ['a'] }, { source: 'c' }, false],
      ['a nested prefix matches', { detail: { kind: [{ prefix: 'ser' }] } }, { detail: { kind: 'services' } }, true],
      ['anything-but excludes the listed values', { detail: { reason: [{ 'anything-but': ['superseded'] }] } }, { detail: { reason: 'superseded' } }, false],
      ['anything-but lets other values through', { detail: { reason: [{ 'anything-but': 'superseded' }] } }, { detail: { reason: 'keyCompromise' } }, true],
      ['exists false matches an absent field', { detail: { ticket: [{ exists: false }] } }, { detail: {} }, true],
      ['exists true does not match an absent field', { detail: { ticket: [{ exists: true }] } }, { detail: {} }, false],
      ['an array field matches when any element does', { resources: ['r2'] }, { resources: ['r1', 'r2'] }, true],
      ['a numeric range matches inside it', { detail: { count: [{ numeric: ['>', 0, '<=', 5] }] } }, { detail: { count: 5 } }, true],
      ['a numeric range does not match outside it', { detail: { count: [{ numeric: ['>', 0, '<=', 5] }] } }, { detail: { count: 6 } }, false],
    ])('pattern matching: %s', (_name, pattern, event, expected) => {
      expect(matchesPattern(pattern, event)).toBe(expected);
    });
  });
});
