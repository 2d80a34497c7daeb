import { Template } from 'aws-cdk-lib/assertions';
import { ErrorNames } from '../../functions/contracts/errors';
import { EventSource } from '../../functions/contracts/events';
import { TerminalUnsealErrors } from '../../lib/constructs/retry-policies';
import { UnsealStates } from '../../lib/constructs/unseal-workflow';
import { lambdaFunctions, type AslDefinition } from '../../sandbox/runner/template-resolver';
import { loadTemplate, stateMachineDefinitions } from '../support/template';

// asl-validator 4 ships no types.
type AslValidator = (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = require('asl-validator') as AslValidator;

const raw = loadTemplate();
const template = Template.fromJSON(raw as never);
const definitions = stateMachineDefinitions();
const functionArn = (functionId: string) => lambdaFunctions(raw).find((fn) => fn.functionId === functionId)!.arn;

function unsealDefinition(): { logicalId: string; definition: AslDefinition } {
  const found = Object.entries(definitions).filter(([, definition]) => definition.StartAt === UnsealStates.DiscoverNodes);
  expect(found).toHaveLength(1);
  const [logicalId, definition] = found[0]!;
  return { logicalId, definition };
}

type State = Record<string, unknown> & { Retry?: Array<{ ErrorEquals: string[] }>; Catch?: Array<{ ErrorEquals: string[]; ResultPath?: string; Next: string }> };

describe('every state machine definition', () => {
  it('resolves for every state machine in the template', () => {
    expect(Object.keys(definitions).length).toBe(Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).length);
    expect(Object.keys(definitions).length).toBeGreaterThan(0);
  });

  it.each(Object.keys(definitions))('%s is valid Amazon States Language (asl-validator)', (logicalId) => {
    const result = aslValidator(structuredClone(definitions[logicalId]));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it.each(Object.keys(definitions))('%s uses JSONPath (the local runner cannot run JSONata)', (logicalId) => {
    expect(definitions[logicalId]!['QueryLanguage'] ?? 'JSONPath').toBe('JSONPath');
    expect(JSON.stringify(definitions[logicalId])).not.toContain('"QueryLanguage":"JSONata"');
  });
});

describe('the Unseal state machine', () => {
  const { logicalId, definition } = unsealDefinition();
  const states = definition.States as Record<string, State>;
  const map = states[UnsealStates.UnsealEachNode] as State & { ItemProcessor: { StartAt: string; States: Record<string, State> } };
  const inner = map.ItemProcessor.States;

  it('has exactly the named states, in order', () => {
    expect(Object.keys(states).sort()).toEqual(
      [UnsealStates.DiscoverNodes, UnsealStates.UnsealEachNode, UnsealStates.ReportUnseal, UnsealStates.PublishUnsealEvent, UnsealStates.AllNodesUnsealed, UnsealStates.Unsealed, UnsealStates.UnsealFailed].sort(),
    );
    expect(states[UnsealStates.DiscoverNodes]!['Next']).toBe(UnsealStates.UnsealEachNode);
    expect(map['Next']).toBe(UnsealStates.ReportUnseal);
    expect(states[UnsealStates.ReportUnseal]!['Next']).toBe(UnsealStates.PublishUnsealEvent);
    expect(states[UnsealStates.PublishUnsealEvent]!['Next']).toBe(UnsealStates.AllNodesUnsealed);
    expect(Object.keys(inner).sort()).toEqual([UnsealStates.RecordNodeFailure, UnsealStates.UnsealNode].sort());
  });

  it('discovers nodes with the execution name as run id and the input as request', () => {
    expect(states[UnsealStates.DiscoverNodes]).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: functionArn('UnsealDiscover'), Payload: { 'runId.$': '$$.Execution.Name', 'request.$': '$' } },
      OutputPath: '$.Payload',
    });
  });

  it('maps over $.nodes with the run id and one node per item, collecting into $.results', () => {
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.nodes',
      ItemSelector: { 'runId.$': '$.runId', 'node.$': '$$.Map.Item.Value' },
      ResultPath: '$.results',
    });
    // No MaxConcurrency means 0: every node at once.
    expect(map['MaxConcurrency'] ?? 0).toBe(0);
    expect(map.ItemProcessor.StartAt).toBe(UnsealStates.UnsealNode);
  });

  it('unseals one node with the item as payload', () => {
    expect(inner[UnsealStates.UnsealNode]).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: functionArn('UnsealNode'), 'Payload.$': '$' },
      OutputPath: '$.Payload',
    });
  });

  it('retries transient unseal errors 3 times from 2 s, doubling', () => {
    const retries = inner[UnsealStates.UnsealNode]!.Retry!;
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 });
    expect(retries[0]!.ErrorEquals).toEqual(
      expect.arrayContaining([
        ErrorNames.VaultUnavailable,
        ErrorNames.KmsUnavailable,
        ErrorNames.VaultRateLimited,
        'Lambda.ServiceException',
        'Lambda.AWSLambdaException',
        'Lambda.SdkClientException',
        'Lambda.TooManyRequestsException',
      ]),
    );
  });

  it('never retries a rejected key set or a share KMS refused to decrypt, nor States.ALL', () => {
    const retried = Object.values(inner).flatMap((state) => state.Retry ?? []).flatMap((retry) => retry.ErrorEquals);
    for (const terminal of [...TerminalUnsealErrors, 'States.ALL', 'States.TaskFailed']) expect(retried).not.toContain(terminal);
  });

  it('records a node that failed instead of failing the run', () => {
    expect(inner[UnsealStates.UnsealNode]!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: UnsealStates.RecordNodeFailure }]);
    expect(inner[UnsealStates.RecordNodeFailure]).toEqual({ Type: 'Pass', Parameters: { 'node.$': '$.node', 'failure.$': '$.failure' }, End: true });
  });

  it('reports with the run id, the trigger and the results', () => {
    expect(states[UnsealStates.ReportUnseal]).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: functionArn('UnsealReport'), Payload: { 'runId.$': '$.runId', 'trigger.$': '$.trigger', 'results.$': '$.results' } },
      OutputPath: '$.Payload',
    });
  });

  it('publishes the event the report built to the certflow bus, discarding the result', () => {
    const [busId] = Object.keys(template.findResources('AWS::Events::EventBus'));
    expect(states[UnsealStates.PublishUnsealEvent]).toMatchObject({
      Resource: 'arn:aws:states:::events:putEvents',
      ResultPath: null,
      Parameters: {
        Entries: [{ Source: EventSource, 'DetailType.$': '$.detailType', 'Detail.$': '$.detail', EventBusName: `arn:aws:events:us-east-1:000000000000:event-bus/${(raw.Resources[busId!]!.Properties as { Name: string }).Name}` }],
      },
    });
  });

  it('succeeds only when every node is unsealed, and otherwise fails with VaultUnsealFailed', () => {
    expect(states[UnsealStates.AllNodesUnsealed]).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.allUnsealed', BooleanEquals: true, Next: UnsealStates.Unsealed }],
      Default: UnsealStates.UnsealFailed,
    });
    expect(states[UnsealStates.Unsealed]).toEqual({ Type: 'Succeed' });
    expect(states[UnsealStates.UnsealFailed]).toMatchObject({ Type: 'Fail', Error: 'VaultUnsealFailed', Cause: expect.stringContaining('Vault Unseal Failed') });
  });

  it('times out after 5 minutes', () => {
    expect(definition['TimeoutSeconds']).toBe(300);
  });

  it('is a Standard state machine that logs errors without execution data, with tracing on', () => {
    const properties = raw.Resources[logicalId]!.Properties!;
    expect(properties['StateMachineType'] ?? 'STANDARD').toBe('STANDARD');
    expect(properties['LoggingConfiguration']).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    expect(properties['TracingConfiguration']).toEqual({ Enabled: true });
  });
});
