import { readFileSync } from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { StateMachine } from 'aws-local-stepfunctions';
import { DEFAULT_CONFIG_PATH } from '../../bin/app';
import { EnvNames, PkiEnvNames } from '../../functions/contracts/env';
import { ErrorNames } from '../../functions/contracts/errors';
import { EventSource } from '../../functions/contracts/events';
import { functionsOf, type FunctionId } from '../../functions/contracts/functions';
import { RotationEnvNames } from '../../functions/contracts/rotation-env';
import { ROTATION_ROLLED_BACK_ERROR, RotationLock, RotationLockPhase, RotationStates, WaveManifest, waveManifestKey, type RotationPlan } from '../../functions/contracts/rotation-payloads';
import { ConfigSchema, loadConfig, parseConfig } from '../../lib/config';
import { TerminalRotationErrors } from '../../lib/constructs/retry-policies';
import { RotationScheduleInputs } from '../../lib/constructs/rotation-schedule';
import type { RotationWorkflowFunctionId } from '../../lib/constructs/rotation-workflow';
import { AllRotationStateNames, RotationDetailTypes, RotationErrors, RotationExtraStates } from '../../lib/constructs/rotation-states';
import { RotationWaveStates } from '../../lib/constructs/rotation-wave';
import { batchesPerWave, countLocalLogEvents, HISTORY_EVENT_LIMIT, WAVE_EVENT_BUDGET, worstCaseEventsPerBatch } from '../../lib/constructs/history-budget';
import { rotationHistory } from '../../lib/constructs/rotation-history';
import { lambdaFunctions, type AslDefinition } from '../../sandbox/runner/template-resolver';
import { listTaskStates, type AslMachine } from '../../sandbox/runner/task-walker';
import { loadTemplate, stateMachineDefinitions } from '../support/template';
import { runTimeParameter } from '../support/run-time-parameters';
import type { RotationEventDetail } from '../../functions/contracts/rotation-payloads';
import type { LedgerRecord } from '../../functions/ports/ledger';
import { boundedServices, MAX_SERVICES_IN_REPORT, MAX_WAVES_IN_REPORT } from '../../functions/domain/report-bounds';
import { succeededDetail } from '../../functions/steps/finalize-rotation';
import { MAX_REJECTED_IN_PAYLOAD } from '../../functions/steps/plan-rotation';

// asl-validator 4 ships no types.
type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = require('asl-validator') as AslValidator;

type Catcher = { ErrorEquals: string[]; ResultPath?: string | null; Next: string };
type State = Record<string, unknown> & {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  Choices?: Array<{ Next: string }>;
  Retry?: Array<{ ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }>;
  Catch?: Catcher[];
  Parameters?: Record<string, unknown>;
  ItemProcessor?: { StartAt: string; States: Record<string, State>; ProcessorConfig?: { Mode?: string } };
};

const config = loadConfig(DEFAULT_CONFIG_PATH);
const raw = loadTemplate();
const template = Template.fromJSON(raw as never);
const definitions = stateMachineDefinitions();
const functionIdByArn = new Map(lambdaFunctions(raw).map((fn) => [fn.arn, fn.functionId as FunctionId]));
const functionArn = (functionId: FunctionId) => lambdaFunctions(raw).find((fn) => fn.functionId === functionId)!.arn;

const [rotationLogicalId, definition] = (() => {
  const found = Object.entries(definitions).filter(([, candidate]) => RotationStates.AcquireLock in candidate.States);
  if (found.length !== 1) throw new Error(`expected one Rotation state machine, found ${found.length}`);
  return found[0]!;
})();
const top = definition.States as Record<string, State>;
const [waveLogicalId, waveDefinition] = (() => {
  const found = Object.entries(definitions).filter(([, candidate]) => RotationWaveStates.Step in candidate.States);
  if (found.length !== 1) throw new Error(`expected one RotationWave state machine, found ${found.length}`);
  return found[0]!;
})();
const wave = waveDefinition.States as Record<string, State>;
const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync:2';
/** EventBridge's limit on one PutEvents entry (the Rotation Succeeded event is the report). */
const EVENTBRIDGE_ENTRY_LIMIT_BYTES = 256 * 1024;
/** The largest Rotation state of a run of 100,000 services at batchSize 25, in KiB: the README's figure. */
const ROTATION_STATE_KIB_AT_100K = 153.2;

/** Every state of one definition with its name, nested Map iterators included (duplicates kept). */
function statesOf(machine: { States: Record<string, State> }): Array<[string, State]> {
  return Object.entries(machine.States).flatMap(([name, state]) => [[name, state] as [string, State], ...(state.ItemProcessor ? statesOf(state.ItemProcessor) : [])]);
}
/** Every state of the Rotation and of the RotationWave it starts (the batches' states live in the wave). */
function allStates(): Array<[string, State]> {
  return [...statesOf(definition as never), ...statesOf(waveDefinition as never)];
}
const byName = new Map(allStates());
const state = (name: string): State => {
  const found = byName.get(name);
  if (!found) throw new Error(`no state ${name}`);
  return found;
};
const successors = (s: State) => [s.Next, s.Default, ...(s.Choices ?? []).map((choice) => choice.Next)].filter((next): next is string => typeof next === 'string');
/** Top-level states reachable from `from` through Next and Choices (not Catch), stopping at any of `until`. */
function reachable(from: string, ...until: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    if (!until.includes(name)) successors(top[name]!).forEach(visit);
  };
  visit(from);
  return [...seen];
}
const rollbackEntry = RotationExtraStates.MarkRollingBack;

/**
 * A Map of the Rotation over waves whose iteration starts one RotationWave and waits for it, one
 * wave at a time, failing with the wave's own error and cause when the wave fails.
 */
function expectWaveMap(mapName: string, expected: { task: string; step: string; group: string; wavesPath: string; resultPath: string | null; next: string }): void {
  const map = top[mapName]!;
  expect(map).toMatchObject({
    Type: 'Map',
    ItemsPath: expected.wavesPath,
    // A wave number, not its batch ids: the wave reads those from the ledger.
    ItemSelector: { 'runId.$': '$.run.runId', 'requestedAt.$': '$.run.requestedAt', step: expected.step, group: expected.group, 'wave.$': '$$.Map.Item.Value' },
    MaxConcurrency: 1,
    // How many waves ran, not what each answered.
    ResultSelector: { 'waves.$': 'States.ArrayLength($)' },
    ResultPath: expected.resultPath,
    Next: expected.next,
  });
  const iteration = map.ItemProcessor!;
  expect(iteration.StartAt).toBe(expected.task);
  const task = iteration.States[expected.task]!;
  expect(task).toMatchObject({ Type: 'Task', Resource: START_EXECUTION_SYNC, Parameters: { 'Input.$': '$' }, OutputPath: '$.Output', End: true });
  expect(task.Catch).toHaveLength(1);
  const failure = iteration.States[task.Catch![0]!.Next]!;
  expect(task.Catch![0]!.ErrorEquals).toEqual(['States.TaskFailed']);
  expect(failure).toMatchObject({ Type: 'Pass', Parameters: { 'wave.$': 'States.StringToJson($.Cause)' } });
  expect(iteration.States[failure.Next!]).toEqual({ Type: 'Fail', ErrorPath: '$.wave.Error', CausePath: '$.wave.Cause' });
}

/** A Map of the wave over the batch ids it read, answering how many batches it ran. */
function expectBatchesMap(mapName: string, first: string): void {
  expect(wave[mapName]).toMatchObject({
    Type: 'Map',
    ItemsPath: '$.manifest.batchIds',
    ItemSelector: { 'runId.$': '$.runId', 'requestedAt.$': '$.requestedAt', 'batchId.$': '$$.Map.Item.Value.S' },
    MaxConcurrency: config.policy.concurrency,
    ResultSelector: { 'batches.$': 'States.ArrayLength($)' },
    End: true,
  });
  expect(wave[mapName]!['ResultPath']).toBeUndefined();
  expect(wave[mapName]!.ItemProcessor!.StartAt).toBe(first);
}

describe('the Rotation state machine definition', () => {
  it('contains every state the contract names (RotationStates)', () => {
    const names = new Set(allStates().map(([name]) => name));
    expect(Object.values(RotationStates).filter((name) => !names.has(name))).toEqual([]);
  });

  it('names every state once across the whole definition, nested Maps included', () => {
    const names = allStates().map(([name]) => name);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
    expect(() => listTaskStates(definition as unknown as AslMachine)).not.toThrow();
    expect(() => listTaskStates(waveDefinition as unknown as AslMachine)).not.toThrow();
    expect([...names].sort()).toEqual([...AllRotationStateNames, ...Object.values(RotationWaveStates)].sort());
  });

  it.each([
    ['Rotation', () => definition],
    ['RotationWave', () => waveDefinition],
  ])('%s is valid Amazon States Language (asl-validator)', (_name, machine) => {
    const result = aslValidator(structuredClone(machine()));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('uses only what the local runner can run: JSONPath, inline Maps, Lambda invoke, PutEvents, the lock put/delete, the wave manifest get and the waves as child executions', () => {
    expect(definition['QueryLanguage'] ?? 'JSONPath').toBe('JSONPath');
    expect(waveDefinition['QueryLanguage'] ?? 'JSONPath').toBe('JSONPath');
    const resources = new Set(allStates().filter(([, s]) => s.Type === 'Task').map(([, s]) => s.Resource));
    expect([...resources].sort()).toEqual(['arn:aws:states:::dynamodb:deleteItem', 'arn:aws:states:::dynamodb:getItem', 'arn:aws:states:::dynamodb:putItem', 'arn:aws:states:::events:putEvents', 'arn:aws:states:::lambda:invoke', START_EXECUTION_SYNC]);
    // Every child execution is a RotationWave, the one state machine the Rotation may start.
    const starts = allStates().filter(([, s]) => s.Resource === START_EXECUTION_SYNC);
    expect(starts.map(([name]) => name).sort()).toEqual([RotationExtraStates.RenewWave, RotationExtraStates.RestoreWave, RotationExtraStates.VerifyWave].sort());
    for (const [, s] of starts) expect(s.Parameters!['StateMachineArn']).toBe(`arn:aws:states:us-east-1:000000000000:stateMachine:${waveLogicalId}`);
    for (const [name, s] of allStates().filter(([, candidate]) => candidate.Type === 'Map')) {
      expect({ name, mode: s.ItemProcessor?.ProcessorConfig?.Mode ?? 'INLINE', reader: s['ItemReader'] }).toEqual({ name, mode: 'INLINE', reader: undefined });
    }
    expect(JSON.stringify([definition, waveDefinition])).not.toMatch(/waitForTaskToken|JSONata/);
  });

  it('invokes the registry function each Lambda state stands for', () => {
    const expected: Record<string, FunctionId> = {
      [RotationStates.Preflight]: 'Preflight',
      [RotationStates.Plan]: 'PlanRotation',
      [RotationStates.PrepareIntermediate]: 'PrepareIntermediate',
      [RotationStates.PublishTrust]: 'PublishTrust',
      [RotationStates.ActivateIssuer]: 'ActivateIssuer',
      [RotationStates.RenewCanary]: 'RenewBatch',
      [RotationStates.CheckCanary]: 'CheckBatch',
      [RotationStates.VerifyCanary]: 'VerifyBatch',
      [RotationStates.RenewBatch]: 'RenewBatch',
      [RotationStates.CheckBatch]: 'CheckBatch',
      [RotationStates.VerifyBatch]: 'VerifyBatch',
      [RotationStates.Finalize]: 'FinalizeRotation',
      [RotationStates.RestoreIssuer]: 'RestoreIssuer',
      [RotationStates.RestoreBatch]: 'RestoreBatch',
      [RotationStates.CheckRestore]: 'CheckBatch',
      [RotationStates.VerifyRestored]: 'VerifyBatch',
      [RotationStates.RestoreTrust]: 'PublishTrust',
      [RotationStates.RecordRollback]: 'RecordRollback',
    };
    const actual = Object.fromEntries(
      allStates()
        .filter(([, s]) => s.Resource === 'arn:aws:states:::lambda:invoke')
        .map(([name, s]) => [name, functionIdByArn.get(String(s.Parameters!['FunctionName']))]),
    );
    expect(actual).toEqual(expected);
  });

  it('starts by keeping the input, with the request defaults merged under it, at $.request', () => {
    expect(definition.StartAt).toBe(RotationExtraStates.Init);
    expect(top[RotationExtraStates.Init]).toMatchObject({ Type: 'Pass', Parameters: { 'request.$': '$', requestDefaults: { trigger: 'schedule' } }, Next: RotationExtraStates.ApplyRequestDefaults });
    expect(top[RotationExtraStates.ApplyRequestDefaults]).toMatchObject({ Parameters: { 'request.$': 'States.JsonMerge($.requestDefaults, $.request, false)' }, Next: RotationStates.AcquireLock });
  });

  it('takes the lock with a put that succeeds only when it is free or already owned by this execution', () => {
    const [tableId] = Object.keys(template.findResources('AWS::DynamoDB::Table', { Properties: { SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() } } }));
    expect(top[RotationStates.AcquireLock]).toMatchObject({
      Resource: 'arn:aws:states:::dynamodb:putItem',
      ResultPath: null,
      Parameters: {
        TableName: tableId,
        Item: { pk: { S: RotationLock.pk }, sk: { S: RotationLock.sk }, owner: { 'S.$': '$$.Execution.Id' }, runId: { 'S.$': '$$.Execution.Name' }, acquiredAt: { 'S.$': expect.stringMatching(/^\$\$\./) } },
        ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': { 'S.$': '$$.Execution.Id' } },
      },
      Next: RotationStates.EmitStarted,
    });
  });

  it('ends as AlreadyRunning, successfully, when the lock is held by another execution', () => {
    expect(top[RotationStates.AcquireLock]!.Catch).toEqual([{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: RotationStates.AlreadyRunning }]);
    expect(top[RotationStates.AlreadyRunning]).toMatchObject({ Type: 'Pass', Parameters: { outcome: 'AlreadyRunning' }, Next: RotationExtraStates.EndAlreadyRunning });
    expect(top[RotationExtraStates.EndAlreadyRunning]).toEqual({ Type: 'Succeed' });
  });

  it('announces the start on the certflow bus with the run id, the trigger and outcome Started', () => {
    expect(top[RotationStates.EmitStarted]).toMatchObject({
      Resource: 'arn:aws:states:::events:putEvents',
      ResultPath: null,
      Parameters: { Entries: [{ Source: EventSource, DetailType: RotationDetailTypes.Started, Detail: { 'runId.$': '$$.Execution.Name', 'trigger.$': '$.request.trigger', outcome: 'Started' } }] },
      Next: RotationStates.Preflight,
    });
  });

  it('runs Preflight with the run id, start time and request, and keeps its answer at $.run', () => {
    expect(top[RotationStates.Preflight]).toMatchObject({
      Parameters: { Payload: { 'runId.$': '$$.Execution.Name', 'startedAt.$': '$$.Execution.StartTime', 'request.$': '$.request' } },
      Next: RotationExtraStates.RecordRun,
    });
    expect(top[RotationExtraStates.RecordRun]).toMatchObject({ Type: 'Pass', Parameters: { 'request.$': '$.request', 'run.$': `${top[RotationStates.Preflight]!['ResultPath']}.run` }, Next: RotationStates.Plan });
  });

  it('plans with {run, batchesPerWave} and keeps exactly the plan fields at $.plan, wave numbers and no batch ids', () => {
    expect(top[RotationStates.Plan]).toMatchObject({
      Parameters: { Payload: { 'run.$': '$.run', batchesPerWave: batchesPerWave(config.policy.maxRolloutChecks) } },
      ResultPath: '$.plan',
      ResultSelector: { 'intermediateDue.$': '$.Payload.intermediateDue', 'batchCount.$': '$.Payload.batchCount', 'waves.$': '$.Payload.waves' },
      Next: RotationStates.IntermediateDue,
    });
    expect(Object.keys(top[RotationStates.Plan]!['ResultSelector'] as object)).not.toContain('batchIds.$');
  });

  it('stops without rollback when EmitStarted, Preflight or Plan fails: event, lock released, RotationAborted', () => {
    for (const name of [RotationStates.EmitStarted, RotationStates.Preflight, RotationStates.Plan]) {
      expect({ name, catch: top[name]!.Catch }).toEqual({ name, catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: RotationExtraStates.EmitAborted }] });
    }
    expect(top[RotationExtraStates.EmitAborted]).toMatchObject({ Parameters: { Entries: [{ DetailType: RotationDetailTypes.Failed, Detail: { outcome: 'Failed', 'error.$': '$.failure.Error' } }] }, Next: RotationExtraStates.ReleaseLockAfterAbort });
    expect(top[RotationExtraStates.ReleaseLockAfterAbort]).toMatchObject({ Resource: 'arn:aws:states:::dynamodb:deleteItem', Next: RotationExtraStates.Aborted });
    expect(top[RotationExtraStates.Aborted]).toMatchObject({ Type: 'Fail', Error: RotationErrors.Aborted });
    expect(reachable(RotationExtraStates.EmitAborted, RotationExtraStates.Aborted)).not.toContain(RotationStates.RestoreTargets);
  });

  it('rolls back on any failure of every step from IntermediateDue? to Finalize', () => {
    const steps = reachable(RotationStates.IntermediateDue, RotationStates.Finalize, rollbackEntry).filter((name) => name !== rollbackEntry);
    expect(steps).toEqual(
      expect.arrayContaining([
        RotationStates.PrepareIntermediate,
        RotationStates.PublishTrust,
        RotationStates.ActivateIssuer,
        RotationStates.RenewCanary,
        RotationStates.CheckCanary,
        RotationStates.VerifyCanary,
        RotationStates.FanOut,
        RotationStates.VerifyAll,
        RotationStates.Finalize,
      ]),
    );
    for (const name of steps) {
      const s = top[name]!;
      if (s.Type === 'Task' || s.Type === 'Map' || s.Type === 'Parallel') {
        expect({ name, catch: s.Catch }).toEqual({ name, catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: rollbackEntry }] });
      } else {
        // Choices and Waits cannot fail on their own; the one Pass on the way is the canary timeout.
        expect({ name, type: s.Type }).toEqual({ name, type: expect.stringMatching(/^(Choice|Wait|Pass)$/) });
      }
    }
    expect(top[RotationExtraStates.CanaryTimedOut]).toMatchObject({ Type: 'Pass', Result: { Error: RotationErrors.RolloutTimeout }, ResultPath: '$.failure', Next: rollbackEntry });
  });

  it('marks its lock as rolling back before restoring anything, and restores even when the mark fails', () => {
    expect(top[rollbackEntry]).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:putItem',
      Parameters: { ConditionExpression: '#owner = :owner', Item: { pk: { S: RotationLock.pk }, sk: { S: RotationLock.sk }, owner: { 'S.$': '$$.Execution.Id' }, [RotationLockPhase.attribute]: { S: RotationLockPhase.rollingBack } } },
      ResultPath: null,
      Next: RotationExtraStates.NewIssuerPrepared,
    });
    expect(top[rollbackEntry]!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: RotationExtraStates.NewIssuerPrepared }]);
  });

  it('restores the issuer only when this run prepared one, with the previous default and the new issuer id', () => {
    expect(top[RotationExtraStates.NewIssuerPrepared]).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.prepared', IsPresent: true, Next: RotationStates.RestoreIssuer }],
      Default: RotationStates.RestoreTargets,
    });
    expect(top[RotationStates.RestoreIssuer]).toMatchObject({
      Parameters: { Payload: { 'runId.$': '$.run.runId', 'previousDefault.$': '$.run.previousDefault', 'newIssuerId.$': '$.prepared.issuerId' } },
      Next: RotationStates.RestoreTargets,
    });
  });

  it('restores, waits for and verifies every batch one wave at a time, keeping the count of waves at $.restored, then restores trust only if it was published', () => {
    expectWaveMap(RotationStates.RestoreTargets, { task: RotationExtraStates.RestoreWave, step: 'restore', group: 'all', wavesPath: '$.plan.waves.all', resultPath: '$.restored', next: RotationExtraStates.TrustPublished });
    expectBatchesMap(RotationWaveStates.RestoreBatches, RotationStates.RestoreBatch);
    expect(state(RotationStates.CheckRestore).Parameters).toMatchObject({ Payload: { 'attempt.$': '$.progress.attempt', phase: 'rollback' } });
    expect(state(RotationStates.VerifyRestored)).toMatchObject({ Parameters: { Payload: { phase: 'rollback' } }, ResultSelector: { 'batchId.$': '$.Payload.batchId', 'allValid.$': '$.Payload.allValid', 'invalid.$': '$.Payload.invalid' }, End: true });
    expect(top[RotationExtraStates.TrustPublished]).toMatchObject({ Choices: [{ Variable: '$.prepared', IsPresent: true, Next: RotationStates.RestoreTrust }], Default: RotationStates.RecordRollback });
    expect(top[RotationStates.RestoreTrust]).toMatchObject({ Parameters: { Payload: { mode: 'restore', 'namespaces.$': '$.plan.namespaces' } }, Next: RotationStates.RecordRollback });
  });

  it('records the rollback from the whole state, announces it, releases the lock and fails with RotationRolledBack', () => {
    expect(top[RotationStates.RecordRollback]).toMatchObject({ Parameters: { 'Payload.$': '$' }, ResultPath: '$.summary', Next: RotationStates.EmitRolledBack });
    expect(top[RotationStates.EmitRolledBack]).toMatchObject({ Parameters: { Entries: [{ DetailType: RotationDetailTypes.RolledBack, 'Detail.$': '$.summary.detail' }] }, Next: RotationStates.ReleaseLockAfterRollback });
    expect(top[RotationStates.ReleaseLockAfterRollback]).toMatchObject({ Resource: 'arn:aws:states:::dynamodb:deleteItem', Next: RotationStates.RolledBack });
    expect(top[RotationStates.RolledBack]).toMatchObject({ Type: 'Fail', Error: ROTATION_ROLLED_BACK_ERROR, Cause: expect.stringMatching(/Rotation Rolled Back.*certflow status/) });
  });

  it('ends in RotationRollbackFailed, lock released, when any rollback step fails', () => {
    for (const name of [RotationStates.RestoreIssuer, RotationStates.RestoreTargets, RotationStates.RestoreTrust, RotationStates.RecordRollback]) {
      expect({ name, catch: top[name]!.Catch }).toEqual({ name, catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.rollbackFailure', Next: RotationExtraStates.EmitRollbackFailed }] });
    }
    expect(top[RotationExtraStates.EmitRollbackFailed]).toMatchObject({ Parameters: { Entries: [{ DetailType: RotationDetailTypes.Failed }] }, Next: RotationExtraStates.ReleaseLockAfterRollbackFailure });
    expect(top[RotationExtraStates.RollbackFailed]).toMatchObject({ Type: 'Fail', Error: RotationErrors.RollbackFailed });
  });

  it('releases the lock, conditional on this execution owning it, before every ending that took it', () => {
    const endings = Object.entries(top).filter(([name, s]) => (s.Type === 'Fail' || s.Type === 'Succeed') && name !== RotationExtraStates.EndAlreadyRunning);
    expect(endings.map(([name]) => name).sort()).toEqual([RotationExtraStates.Aborted, RotationExtraStates.RollbackFailed, RotationStates.RolledBack, RotationStates.Succeeded].sort());
    for (const [ending] of endings) {
      const predecessors = Object.entries(top).filter(([, s]) => successors(s).includes(ending) || (s.Catch ?? []).some((c) => c.Next === ending));
      expect(predecessors.length).toBeGreaterThan(0);
      for (const [name, s] of predecessors) {
        expect({ ending, name, s }).toMatchObject({
          ending,
          name,
          s: { Resource: 'arn:aws:states:::dynamodb:deleteItem', Parameters: { Key: { pk: { S: RotationLock.pk }, sk: { S: RotationLock.sk } }, ConditionExpression: '#owner = :owner', ExpressionAttributeValues: { ':owner': { 'S.$': '$$.Execution.Id' } } } },
        });
        // Not ours any more (released already, or cleared by hand) still ends the run as planned.
        expect(s.Catch).toEqual([{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: ending }]);
      }
    }
  });

  it('starts each wave by reading its batch ids from the ledger manifest Plan wrote (consistent read), then chooses its step', () => {
    expect(waveDefinition.StartAt).toBe(RotationWaveStates.ReadWave);
    const [tableId] = Object.keys(template.findResources('AWS::DynamoDB::Table', { Properties: { SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() } } }));
    expect(wave[RotationWaveStates.ReadWave]).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:getItem',
      Parameters: { TableName: tableId, Key: { pk: { 'S.$': "States.Format('run#{}', $.runId)" }, sk: { 'S.$': `States.Format('${WaveManifest.skPrefix}{}#{}', $.group, $.wave)` } }, ConsistentRead: true },
      ResultSelector: { 'batchIds.$': '$.Item.batchIds.L' },
      ResultPath: '$.manifest',
      Next: RotationWaveStates.Step,
    });
    // The key the state machine builds is the one the ledger writes.
    expect(waveManifestKey('fanOut', 3)).toBe('wave#fanOut#3');
  });

  it('lets a wave read the ledger only, and call nothing else on it', () => {
    const roleId = (raw.Resources[waveLogicalId]!.Properties!['RoleArn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((candidate) => JSON.stringify(candidate['Properties']['Roles']) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((candidate) => candidate['Properties']['PolicyDocument']['Statement'] as Array<{ Action: string | string[]; Resource: unknown }>);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((action) => action.startsWith('dynamodb:'))).toEqual(['dynamodb:GetItem']);
  });

  it('fans out one wave (child execution) at a time, config.policy.concurrency batches at a time within it, each a bounded renew/wait/check loop', () => {
    expectWaveMap(RotationStates.FanOut, { task: RotationExtraStates.RenewWave, step: 'renew', group: 'fanOut', wavesPath: '$.plan.waves.fanOut', resultPath: null, next: RotationStates.VerifyAll });
    expect(wave[RotationWaveStates.Step]).toMatchObject({
      Choices: [
        { Variable: '$.step', StringEquals: 'renew', Next: RotationWaveStates.RenewBatches },
        { Variable: '$.step', StringEquals: 'verify', Next: RotationWaveStates.VerifyBatches },
        { Variable: '$.step', StringEquals: 'restore', Next: RotationWaveStates.RestoreBatches },
      ],
      Default: RotationWaveStates.UnknownStep,
    });
    expectBatchesMap(RotationWaveStates.RenewBatches, RotationStates.RenewBatch);
    expect(state(RotationStates.RenewBatch)).toMatchObject({ ResultSelector: { attempt: 0 }, ResultPath: '$.progress', Next: RotationStates.WaitBatch });
    expect(state(RotationStates.WaitBatch)).toMatchObject({ Type: 'Wait', Seconds: 5, Next: RotationStates.CheckBatch });
    expect(state(RotationStates.CheckBatch)).toMatchObject({
      Parameters: { Payload: { 'runId.$': '$.runId', 'requestedAt.$': '$.requestedAt', 'batchId.$': '$.batchId', 'attempt.$': '$.progress.attempt', phase: 'rotation' } },
      ResultSelector: { 'attempt.$': '$.Payload.attempt', 'done.$': '$.Payload.done', 'exhausted.$': '$.Payload.exhausted' },
      ResultPath: '$.progress',
      Next: RotationStates.BatchDone,
    });
    expect(state(RotationStates.BatchDone)).toMatchObject({
      Choices: [
        { Variable: '$.progress.done', BooleanEquals: true, Next: RotationExtraStates.BatchRolledOut },
        { Variable: '$.progress.exhausted', BooleanEquals: true, Next: RotationExtraStates.BatchTimedOut },
      ],
      Default: RotationStates.WaitBatch,
    });
    expect(state(RotationExtraStates.BatchTimedOut)).toMatchObject({ Type: 'Fail', Error: RotationErrors.RolloutTimeout });
  });

  it('verifies every batch (canary included) one wave at a time, keeping the count of waves at $.verified, then finalizes from the whole state', () => {
    expectWaveMap(RotationStates.VerifyAll, { task: RotationExtraStates.VerifyWave, step: 'verify', group: 'all', wavesPath: '$.plan.waves.all', resultPath: '$.verified', next: RotationStates.Finalize });
    expectBatchesMap(RotationWaveStates.VerifyBatches, RotationStates.VerifyBatch);
    expect(state(RotationStates.VerifyBatch)).toMatchObject({ Parameters: { Payload: { phase: 'rotation' } }, ResultSelector: { 'batchId.$': '$.Payload.batchId', 'allValid.$': '$.Payload.allValid', 'invalid.$': '$.Payload.invalid' } });
    expect(top[RotationStates.Finalize]).toMatchObject({ Parameters: { FunctionName: functionArn('FinalizeRotation'), 'Payload.$': '$' }, ResultPath: '$.summary', Next: RotationStates.EmitSucceeded });
    expect(top[RotationStates.EmitSucceeded]).toMatchObject({ Parameters: { Entries: [{ DetailType: RotationDetailTypes.Succeeded, 'Detail.$': '$.summary.detail' }] }, Next: RotationStates.ReleaseLock });
  });

  it('feeds the canary loop its own attempt counter and rolls back when the counter is exhausted', () => {
    expect(top[RotationStates.RenewCanary]).toMatchObject({ Parameters: { Payload: { 'batchId.$': '$.plan.canaryBatchId' } }, ResultSelector: { attempt: 0 }, ResultPath: '$.canary' });
    expect(top[RotationStates.CheckCanary]).toMatchObject({ Parameters: { Payload: { 'attempt.$': '$.canary.attempt' } }, ResultPath: '$.canary' });
    expect(top[RotationStates.CanaryDone]).toMatchObject({
      Choices: [
        { Variable: '$.canary.done', BooleanEquals: true, Next: RotationStates.VerifyCanary },
        { Variable: '$.canary.exhausted', BooleanEquals: true, Next: RotationExtraStates.CanaryTimedOut },
      ],
      Default: RotationStates.WaitCanary,
    });
  });

  it('retries transient Vault, KMS, Kubernetes, AWS and endpoint errors on every Lambda step: 2 s, 3 attempts, doubling', () => {
    for (const [name, s] of allStates().filter(([, candidate]) => candidate.Resource === 'arn:aws:states:::lambda:invoke')) {
      const transient = s.Retry!.find((retry) => retry.ErrorEquals.includes(ErrorNames.VaultUnavailable));
      expect({ name, transient }).toMatchObject({ name, transient: { IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 } });
      expect(transient!.ErrorEquals).toEqual(
        expect.arrayContaining([ErrorNames.KmsUnavailable, ErrorNames.AwsUnavailable, ErrorNames.KubernetesUnavailable, ErrorNames.EndpointUnreachable, ErrorNames.VaultRateLimited, 'Lambda.TooManyRequestsException']),
      );
      expect(s.Retry!.some((retry) => retry.ErrorEquals.includes(ErrorNames.VaultSealed))).toBe(true);
    }
  });

  it('never retries a verdict (verification, timeout, issuer conflict, invalid intermediate or input), nor States.ALL', () => {
    const retried = allStates().flatMap(([, s]) => s.Retry ?? []).flatMap((retry) => retry.ErrorEquals);
    for (const terminal of [...TerminalRotationErrors, 'States.ALL', 'DynamoDB.ConditionalCheckFailedException']) expect(retried).not.toContain(terminal);
    expect(TerminalRotationErrors).toEqual(expect.arrayContaining([RotationErrors.VerificationFailed, RotationErrors.RolloutTimeout, ErrorNames.IssuerStateConflict, ErrorNames.IntermediateInvalid, ErrorNames.InvalidInput]));
  });

  it('retries the lock writes on DynamoDB throttling only', () => {
    for (const [name, s] of allStates().filter(([, candidate]) => candidate.Resource?.startsWith('arn:aws:states:::dynamodb:'))) {
      expect({ name, retry: s.Retry }).toEqual({ name, retry: [expect.objectContaining({ ErrorEquals: expect.arrayContaining(['DynamoDB.ProvisionedThroughputExceededException', 'DynamoDB.ThrottlingException']) })] });
    }
  });

  it('times out after 2 hours, is Standard, logs errors without execution data, and traces', () => {
    expect(definition['TimeoutSeconds']).toBe(7200);
    const properties = raw.Resources[rotationLogicalId]!.Properties!;
    expect(properties['StateMachineType'] ?? 'STANDARD').toBe('STANDARD');
    expect(properties['LoggingConfiguration']).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    expect(properties['TracingConfiguration']).toEqual({ Enabled: true });
  });
});

// ---- the definition, run locally with stand-in tasks ----------------------------------------------

type Call = { state: string; functionId?: FunctionId; payload: Record<string, any> };
type Stub = (payload: Record<string, any>, call: Call) => unknown;

function lambdaError(name: string, message = name): Error {
  const error = new Error(JSON.stringify({ errorType: name, errorMessage: message }));
  error.name = name;
  return error;
}

/** A plan as a test states it: the batch ids, which the PlanRotation stand-in cuts into waves as Plan does. */
type TestPlan = Omit<RotationPlan, 'batchCount' | 'waves'> & { batchIds: string[]; allBatchIds: string[] };

const defaultPlan = (overrides: Partial<TestPlan> = {}): TestPlan => ({
  runId: 'run-1',
  intermediateDue: true,
  intermediateReason: 'RotationPeriodElapsed',
  renewalDue: true,
  hasCanary: true,
  canaryBatchId: 'b0',
  batchIds: ['b1', 'b2'],
  allBatchIds: ['b0', 'b1', 'b2'],
  targetCount: 5,
  dueCount: 5,
  rejected: [],
  rejectedCount: 0,
  namespaces: [{ cluster: 'primary', namespace: 'econ-graph' }],
  ...overrides,
});

/** The ids cut into waves of `size`: what Plan writes to the ledger, by wave number. */
const partition = (ids: readonly string[], size: number) => Array.from({ length: Math.ceil(ids.length / size) }, (_, index) => ids.slice(index * size, (index + 1) * size));

/**
 * Plan as the state machine sees it: the wave manifests written to `manifests` (the ledger, by its
 * sort key), the plan answering the wave numbers.
 */
function planStub(plan: TestPlan, manifests: Map<string, string[]>): Stub {
  return (p) => {
    const { batchIds, allBatchIds, ...rest } = plan;
    const waves = { fanOut: partition(batchIds, p.batchesPerWave), all: partition(allBatchIds, p.batchesPerWave) };
    for (const [group, ids] of Object.entries(waves) as Array<['fanOut' | 'all', string[][]]>) ids.forEach((wave, index) => manifests.set(waveManifestKey(group, index), wave));
    return { ...rest, batchCount: batchIds.length, waves: { fanOut: waves.fanOut.map((_, index) => index), all: waves.all.map((_, index) => index) } } satisfies RotationPlan;
  };
}

const defaultStubs = (plan: TestPlan, manifests: Map<string, string[]>): Record<RotationWorkflowFunctionId, Stub> => ({
  Preflight: (p) => ({ runId: p.runId, requestedAt: '2030-01-01T00:00:00.000Z', trigger: p.request.trigger, forceIntermediate: false, forceRenewal: false, previousDefault: 'issuer-old', nodesUnsealedByPreflight: [] }),
  PlanRotation: planStub(plan, manifests),
  PrepareIntermediate: (p) => ({ runId: p.runId, issuerId: 'issuer-new', issuerName: 'run-1', keyId: 'key-1', serialNumber: '01', notAfter: '2035-01-01T00:00:00Z', reused: false }),
  PublishTrust: (p) => ({ runId: p.runId }),
  ActivateIssuer: (p) => ({ runId: p.runId, activeIssuerId: p.issuerId, previousDefault: p.expectedPreviousDefault, changed: true }),
  RenewBatch: (p) => ({ runId: p.runId, renewed: [] }),
  // Done on the second look: the loop must feed the counter back for this to end.
  CheckBatch: (p) => ({ ...p, attempt: p.attempt + 1, done: p.attempt + 1 >= 2, exhausted: false, pending: p.attempt + 1 >= 2 ? 0 : 1 }),
  VerifyBatch: (p) => ({ runId: p.runId, batchId: p.batchId, allValid: true, invalid: 0, verdicts: [] }),
  RestoreIssuer: (p) => ({ runId: p.runId, defaultIssuer: p.previousDefault }),
  RestoreBatch: (p) => ({ runId: p.runId, restored: [] }),
  FinalizeRotation: (p) => ({ runId: p.run.runId, trigger: p.run.trigger, outcome: 'Succeeded', counts: { targets: 5, renewed: 5, verified: 5, restored: 0 } }),
  RecordRollback: (p) => ({ runId: p.run.runId, trigger: p.run.trigger, outcome: 'RolledBack', error: p.failure.Error }),
});

interface LocalRun {
  status: 'SUCCEEDED' | 'FAILED';
  output?: any;
  error?: string;
  calls: Call[];
  events: Array<{ detailType: string; detail: any }>;
  lock: Record<string, any> | undefined;
  /** The input of each RotationWave execution the run started, in start order. */
  waves: Array<{ step: string; batchIds: string[] }>;
}

let waveMachine: StateMachine | undefined;

/** The largest state one execution passed, in bytes of its JSON as UTF-8 (how Step Functions measures its 256 KiB). */
interface LargestState {
  bytes: number;
  state: string;
  side: 'input' | 'output';
}

/** Reads an execution's log, keeping the largest input or output of any state (nested Map states included). */
async function largestStateOf(logs: AsyncGenerator<unknown>, largest: LargestState): Promise<void> {
  for await (const event of logs as AsyncGenerator<{ type: string; state?: { name: string; input?: unknown; output?: unknown } }>) {
    if (event.type !== 'StateEntered' && event.type !== 'StateExited') continue;
    for (const side of ['input', 'output'] as const) {
      const value = event.state?.[side];
      if (value === undefined) continue;
      const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
      if (bytes > largest.bytes) Object.assign(largest, { bytes, state: event.state!.name, side });
    }
  }
}

interface RunOptions {
  input?: unknown;
  plan?: TestPlan;
  stubs?: Partial<Record<RotationWorkflowFunctionId, Stub>>;
  lockOwner?: string;
  /**
   * Which waves run as child executions (all by default); any other answers what a wave answers,
   * `{batches}`, without running its batches. A fleet of thousands of batches runs a few for real.
   */
  runsWave?: (step: string, index: number) => boolean;
  /** When given, the largest state of the Rotation and of its waves that ran (`rotation`, `wave`). */
  largest?: { rotation: LargestState; wave: LargestState };
}

async function runLocally(options: RunOptions = {}): Promise<LocalRun> {
  const plan = options.plan ?? defaultPlan();
  const manifests = new Map<string, string[]>();
  const stubs = { ...defaultStubs(plan, manifests), ...options.stubs };
  const name = 'run-1';
  const executionArn = `arn:aws:states:us-east-1:000000000000:execution:Rotation:${name}`;
  const calls: Call[] = [];
  const events: LocalRun['events'] = [];
  const waves: LocalRun['waves'] = [];
  let lock: Record<string, any> | undefined = options.lockOwner ? { owner: { S: options.lockOwner } } : undefined;
  const conditionFailed = () => {
    const error = new Error('The conditional request failed');
    error.name = 'DynamoDB.ConditionalCheckFailedException';
    return error;
  };

  const handlers: Record<string, (input: any) => Promise<unknown>> = {};
  const waveHandlers: Record<string, (input: any) => Promise<unknown>> = {};
  const waveStates = new Set(statesOf(waveDefinition as never).map(([name]) => name));
  const waitsOf = (machine: unknown) => Object.fromEntries(statesOf(machine as never).filter(([, s]) => s.Type === 'Wait').map(([n]) => [n, 0]));
  for (const [stateName, s] of allStates()) {
    if (s.Type !== 'Task') continue;
    if (s.Resource === 'arn:aws:states:::dynamodb:getItem') {
      // The wave's manifest, as DynamoDB answers a GetItem: the ids as a list of strings.
      waveHandlers[stateName] = async (input) => {
        const ids = manifests.get(input.Key.sk.S);
        return ids && input.Key.pk.S === `run#${plan.runId}` ? { Item: { pk: input.Key.pk, sk: input.Key.sk, [WaveManifest.attribute]: { L: ids.map((id) => ({ S: id })) } } } : {};
      };
      continue;
    }
    if (waveStates.has(stateName)) {
      // The wave's tasks: the same stand-ins, in the child execution.
      const functionId = functionIdByArn.get(String(s.Parameters!['FunctionName'])) as RotationWorkflowFunctionId;
      waveHandlers[stateName] = async (input) => {
        const call = { state: stateName, functionId, payload: input.Payload };
        calls.push(call);
        return { Payload: await stubs[functionId](input.Payload, call), StatusCode: 200 };
      };
      continue;
    }
    if (s.Resource === START_EXECUTION_SYNC) {
      // startExecution.sync:2 as Step Functions answers it: the child's output parsed at Output, or
      // States.TaskFailed with the child's DescribeExecution answer (its Error and Cause) as the cause.
      handlers[stateName] = async (input) => {
        const batchIds = manifests.get(waveManifestKey(input.Input.group, input.Input.wave)) ?? [];
        waves.push({ step: input.Input.step, batchIds });
        const index = waves.filter((entry) => entry.step === input.Input.step).length - 1;
        if (options.runsWave && !options.runsWave(input.Input.step, index)) return { Status: 'SUCCEEDED', Output: { batches: batchIds.length } };
        // Built once: the wave's definition is validated by its own asl-validator case above.
        waveMachine ??= new StateMachine(JSON.parse(JSON.stringify(waveDefinition)) as never, { validationOptions: { noValidate: true } });
        const child = waveMachine;
        const execution = child.run(input.Input as never, {
          overrides: { taskResourceLocalHandlers: waveHandlers as never, waitTimeOverrides: waitsOf(waveDefinition), retryIntervalOverrides: Object.fromEntries(Object.keys(waveHandlers).map((n) => [n, 0])) },
        });
        if (options.largest) await largestStateOf(execution.eventLogs, options.largest.wave);
        try {
          return { Status: 'SUCCEEDED', Output: await execution.result };
        } catch (error) {
          const cause = (error as { cause?: { name?: string; message?: string } }).cause;
          throw Object.assign(new Error(JSON.stringify({ Status: 'FAILED', Error: cause?.name, Cause: cause?.message })), { name: 'States.TaskFailed' });
        }
      };
      continue;
    }
    if (s.Resource === 'arn:aws:states:::lambda:invoke') {
      const functionId = functionIdByArn.get(String(s.Parameters!['FunctionName'])) as RotationWorkflowFunctionId;
      handlers[stateName] = async (input) => {
        const call = { state: stateName, functionId, payload: input.Payload };
        calls.push(call);
        return { Payload: await stubs[functionId](input.Payload, call), StatusCode: 200 };
      };
    } else if (s.Resource === 'arn:aws:states:::events:putEvents') {
      handlers[stateName] = async (input) => {
        for (const entry of input.Entries) events.push({ detailType: entry.DetailType, detail: entry.Detail });
        return { Entries: [{ EventId: 'e' }], FailedEntryCount: 0 };
      };
    } else if (s.Resource === 'arn:aws:states:::dynamodb:putItem') {
      handlers[stateName] = async (input) => {
        if (lock && lock['owner'].S !== input.ExpressionAttributeValues[':owner'].S) throw conditionFailed();
        lock = input.Item;
        return {};
      };
    } else if (s.Resource === 'arn:aws:states:::dynamodb:deleteItem') {
      handlers[stateName] = async (input) => {
        if (!lock || lock['owner'].S !== input.ExpressionAttributeValues[':owner'].S) throw conditionFailed();
        lock = undefined;
        return {};
      };
    }
  }
  // A JSON copy, not structuredClone: under jest the latter makes objects of another realm, which
  // the library's intrinsic functions (States.JsonMerge) refuse as "not an object".
  const machine = new StateMachine(JSON.parse(JSON.stringify(definition)) as never, { validationOptions: { checkArn: false } as never });
  const execution = machine.run((options.input ?? { trigger: 'cli' }) as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: waitsOf(definition), retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((n) => [n, 0])) },
    context: { Execution: { Id: executionArn, Name: name } } as never,
  });
  const measured = options.largest ? largestStateOf(execution.eventLogs, options.largest.rotation) : Promise.resolve();
  try {
    const output = await execution.result;
    await measured;
    return { status: 'SUCCEEDED', output, calls, events, lock, waves };
  } catch (error) {
    const cause = (error as { cause?: { name?: string } }).cause;
    return { status: 'FAILED', error: cause?.name ?? String(error), calls, events, lock, waves };
  }
}

const statesCalled = (run: LocalRun) => run.calls.map((call) => call.state);

describe('the Rotation run, counted in history events by AWS rules on the definitions', () => {
  const shape = { batchSize: config.policy.batchSize, batchesPerWave: batchesPerWave(config.policy.maxRolloutChecks), canaryServices: 1, intermediate: true };
  const count = (services: number, looks: number) => rotationHistory({ rotation: definition as never, wave: waveDefinition as never }, { ...shape, services, looks });

  it('keeps every execution of a run of 100,000 services under 25,000 events, even with every rollout waiting out its bound', () => {
    for (const looks of [1, config.policy.maxRolloutChecks]) {
      const run = count(100_000, looks);
      // Renew waves over the batches, verify waves over them and the canary.
      const batches = Math.ceil(99_999 / config.policy.batchSize);
      expect(run.waves.length).toBe(Math.ceil(batches / shape.batchesPerWave) + Math.ceil((batches + 1) / shape.batchesPerWave));
      expect(run.maxPerExecution).toBeLessThan(HISTORY_EVENT_LIMIT);
    }
    // The Rotation itself grows by one wave iteration per wave (8 events: the iteration and a .sync task), not per batch.
    expect(count(100_000, 1).rotation - count(10_000, 1).rotation).toBe(8 * (count(100_000, 1).waves.length - count(10_000, 1).waves.length));
  });

  it('sizes a wave so that its worst case stays within the wave budget, and one more batch would not', () => {
    const worst = (batches: number) => count(batches * config.policy.batchSize + 1, config.policy.maxRolloutChecks).waves[0]!.events;
    expect(worst(shape.batchesPerWave)).toBeLessThanOrEqual(WAVE_EVENT_BUDGET);
    expect(worst(shape.batchesPerWave) + worstCaseEventsPerBatch(config.policy.maxRolloutChecks)).toBeGreaterThan(WAVE_EVENT_BUDGET);
  });

  it('counts a local log by the same rules: a task is five events, a .sync task six, a Map four plus two per iteration', () => {
    const task = (name: string) => [
      { type: 'StateEntered', state: { name, type: 'Task' } },
      { type: 'StateExited', state: { name, type: 'Task' } },
    ];
    expect(countLocalLogEvents(task('T'))).toBe(5);
    expect(countLocalLogEvents(task('W'), new Set(['W']))).toBe(6);
    const map = [
      { type: 'StateEntered', state: { name: 'M', type: 'Map' } },
      { type: 'MapIterationStarted' },
      ...task('T'),
      { type: 'MapIterationSucceeded' },
      { type: 'StateExited', state: { name: 'M', type: 'Map' } },
    ];
    expect(countLocalLogEvents(map)).toBe(4 + 2 + 5);
    expect(countLocalLogEvents([{ type: 'ExecutionStarted' }, { type: 'StateEntered', state: { name: 'F', type: 'Fail' } }, { type: 'StateFailed', state: { name: 'F', type: 'Fail' } }, { type: 'ExecutionFailed' }])).toBe(3);
  });
});

// ---- the state of a run of 100,000 services ------------------------------------------------------

/** Step Functions' limit on any state's input or output (and a task's result): 256 KiB of UTF-8 JSON. */
const STATE_LIMIT_BYTES = 256 * 1024;
const FLEET = 100_000;
const FLEET_BATCH_SIZE = 25;
/** One namespace per hundred services: the plan carries every (cluster, namespace), which the trust bundles go to. */
const FLEET_NAMESPACES = 1_000;

/** A serial as Vault writes it: 20 bytes, colon-separated hex (59 characters); `n` in the last four. */
const SERIAL_MIDDLE = Array.from({ length: 15 }, (_, index) => (index * 37 + 11).toString(16).padStart(2, '0').slice(-2)).join(':');
const serialOf = (n: number, generation: number) => `0${generation}:${SERIAL_MIDDLE}:${n.toString(16).padStart(8, '0').replace(/(..)(?!$)/g, '$1:')}`;
/** Service names of the length Kubernetes allows a name at most (63), the worst case for the report. */
const SERVICE_NAMES = Array.from({ length: FLEET }, (_, n) => `service-${String(n).padStart(6, '0')}-${'x'.repeat(48)}`);
const serviceOf = (n: number) => SERVICE_NAMES[n]!;

/**
 * The ledger records a successful run of `FLEET` services writes, as the batch steps write them:
 * per batch the renewed serials, the verdicts, and one restart wave (the rollout budget). The
 * canary's one service is batch `canary`.
 */
function fleetRecords(runId: string, batchIds: readonly string[]): LedgerRecord[] {
  const at = '2030-01-01T00:00:00.000Z';
  const services = (batchIndex: number) => Array.from({ length: batchIndex < 0 ? 1 : FLEET_BATCH_SIZE }, (_, index) => (batchIndex < 0 ? 0 : 1 + batchIndex * FLEET_BATCH_SIZE + index)).filter((n) => n < FLEET);
  return [['canary', -1] as const, ...batchIds.map((id, index) => [id, index] as const)].flatMap(([batchId, index]) => {
    const numbers = services(index);
    return [
      { runId, entry: `batch#${batchId}#renew`, at, fields: { renewed: numbers.map((n) => ({ service: serviceOf(n), oldSerial: serialOf(n, 1), newSerial: serialOf(n, 2) })) } },
      { runId, entry: `batch#${batchId}#verify-rotation`, at, fields: { verdicts: numbers.map((n) => ({ service: serviceOf(n), reason: 'Valid', valid: true, servedSerial: serialOf(n, 2) })) } },
      { runId, entry: `batch#${batchId}#wave#0001`, at, fields: { workloads: numbers.map((n) => `Deployment/${serviceOf(n)}`) } },
    ];
  });
}

describe('the Rotation state of a run of 100,000 services, which Step Functions caps at 256 KiB', () => {
  it('stays under 256 KiB in every state of the Rotation at batchSize 25, and a full verify wave under 1 KiB: wave numbers and counts, not batch ids and verdicts', async () => {
    const batchIds = Array.from({ length: Math.ceil((FLEET - 1) / FLEET_BATCH_SIZE) }, (_, index) => `b${String(index + 1).padStart(4, '0')}`);
    const plan = defaultPlan({
      canaryBatchId: 'canary',
      batchIds,
      allBatchIds: ['canary', ...batchIds],
      targetCount: FLEET,
      dueCount: FLEET,
      // As many refused candidates as the plan carries, each with a long reason.
      rejected: Array.from({ length: MAX_REJECTED_IN_PAYLOAD }, (_, index) => ({ object: `primary/team-${index}/Secret/${'y'.repeat(60)}`, reason: 'NotDeclared', detail: 'z'.repeat(160) })),
      rejectedCount: 5_000,
      namespaces: Array.from({ length: FLEET_NAMESPACES }, (_, index) => ({ cluster: 'primary', namespace: `team-${String(index).padStart(4, '0')}-production` })),
    });
    const hygiene = { mount: 'pki_int', issuers: 4, bound: 10, deleted: ['0f0e0d0c-0b0a-0908-0706-050403020100'], kept: [] };
    let detail: RotationEventDetail | undefined;
    const largest = { rotation: { bytes: 0, state: '', side: 'input' as const }, wave: { bytes: 0, state: '', side: 'input' as const } };
    const run = await runLocally({
      plan,
      stubs: {
        // The real detail, from a ledger holding every service's serials and verdicts.
        FinalizeRotation: (p) => (detail = succeededDetail(p as never, fleetRecords(plan.runId, batchIds), hygiene)),
        CheckBatch: (p) => ({ ...p, attempt: p.attempt + 1, done: true, exhausted: false, pending: 0 }),
      },
      // One full verify wave runs its batches (the verdicts were what grew); the others answer as a wave does.
      runsWave: (step, index) => step === 'verify' && index === 0,
      largest,
    });

    expect(run.status).toBe('SUCCEEDED');
    const perWave = batchesPerWave(config.policy.maxRolloutChecks);
    expect(run.waves.length).toBe(Math.ceil(batchIds.length / perWave) + Math.ceil((batchIds.length + 1) / perWave));
    // The report counts every service and lists a bounded part of them.
    expect(detail!.counts).toEqual({ targets: FLEET, renewed: FLEET, verified: FLEET, restored: 0 });
    expect(detail!.services).toHaveLength(MAX_SERVICES_IN_REPORT);
    expect(detail!.servicesTotal).toBe(FLEET);
    expect(detail!.waves).toHaveLength(MAX_WAVES_IN_REPORT);
    expect(detail!.wavesTotal).toBe(batchIds.length + 1);
    // The largest state is the one that carries the report, and it fits with room to spare.
    expect(largest.rotation).toEqual({ bytes: expect.any(Number), state: RotationStates.Finalize, side: 'output' });
    expect(largest.rotation.bytes).toBeLessThan(STATE_LIMIT_BYTES);
    expect(largest.wave.bytes).toBeLessThan(1024);
    // The figure the README quotes (KiB, one decimal).
    expect(Math.round(largest.rotation.bytes / 102.4) / 10).toBe(ROTATION_STATE_KIB_AT_100K);
    expect(Buffer.byteLength(JSON.stringify(detail), 'utf8')).toBeLessThan(EVENTBRIDGE_ENTRY_LIMIT_BYTES);
  });

  it('keeps every service whose verdict is not as expected when it cuts the list, in the order given, and cuts nothing below the bound', () => {
    const name = (index: number) => `s${String(index).padStart(4, '0')}`;
    const count = MAX_SERVICES_IN_REPORT + 10;
    // Two failures past the bound, where a plain cut would drop them.
    const services = Array.from({ length: count }, (_, index) => ({ service: name(index), verdict: index === count - 1 || index === count - 5 ? 'Expired' : 'Valid' }));
    const cut = boundedServices(services);
    expect(cut.total).toBe(count);
    expect(cut.listed.map((service) => service.service)).toEqual([...Array.from({ length: MAX_SERVICES_IN_REPORT - 2 }, (_, index) => name(index)), name(count - 5), name(count - 1)]);
    expect(boundedServices(services.slice(0, MAX_SERVICES_IN_REPORT))).toEqual({ listed: services.slice(0, MAX_SERVICES_IN_REPORT), total: MAX_SERVICES_IN_REPORT });
  });
});

describe('the Rotation definition, run locally with stand-in tasks', () => {
  it('rotates the intermediate, renews the canary then every batch, verifies all, finalizes and releases the lock', async () => {
    const run = await runLocally();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.lock).toBeUndefined();
    expect(run.events.map((event) => event.detailType)).toEqual([RotationDetailTypes.Started, RotationDetailTypes.Succeeded]);
    expect(run.events[0]!.detail).toEqual({ runId: 'run-1', trigger: 'cli', outcome: 'Started' });
    const order = statesCalled(run);
    expect(order.slice(0, 5)).toEqual([RotationStates.Preflight, RotationStates.Plan, RotationStates.PrepareIntermediate, RotationStates.PublishTrust, RotationStates.ActivateIssuer]);
    // The canary loop looked twice, feeding its counter back (0, then 1).
    expect(run.calls.filter((call) => call.state === RotationStates.CheckCanary).map((call) => call.payload['attempt'])).toEqual([0, 1]);
    expect(order.indexOf(RotationStates.VerifyCanary)).toBeLessThan(order.indexOf(RotationStates.RenewBatch));
    expect(run.calls.filter((call) => call.state === RotationStates.RenewBatch).map((call) => call.payload['batchId']).sort()).toEqual(['b1', 'b2']);
    expect(run.calls.filter((call) => call.state === RotationStates.CheckBatch).map((call) => call.payload['attempt']).sort()).toEqual([0, 0, 1, 1]);
    expect(statesCalled(run)).not.toContain(RotationStates.RestoreTargets);

    const finalize = run.calls.find((call) => call.state === RotationStates.Finalize)!.payload;
    expect(finalize['activated']).toEqual({ runId: 'run-1', activeIssuerId: 'issuer-new', previousDefault: 'issuer-old', changed: true });
    // One verify wave ran; its verdicts are the ledger's, not the state's.
    expect(finalize['verified']).toEqual({ waves: 1 });
    expect(JSON.stringify(finalize)).not.toMatch(/allValid|"b1"/);
    expect(finalize['request']).toEqual({ trigger: 'cli', forceIntermediate: false, forceRenewal: false });
    expect(run.events[1]!.detail).toMatchObject({ runId: 'run-1', outcome: 'Succeeded', counts: { verified: 5 } });
  });

  it('runs a fleet larger than one wave as waves one after another, each on the batches of its manifest, and finalizes with the count of waves', async () => {
    const size = batchesPerWave(config.policy.maxRolloutChecks);
    const batchIds = Array.from({ length: size + 2 }, (_, index) => `b${index + 1}`);
    const run = await runLocally({ plan: defaultPlan({ batchIds, allBatchIds: ['b0', ...batchIds] }) });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.waves).toEqual([
      { step: 'renew', batchIds: batchIds.slice(0, size) },
      { step: 'renew', batchIds: batchIds.slice(size) },
      { step: 'verify', batchIds: ['b0', ...batchIds].slice(0, size) },
      { step: 'verify', batchIds: ['b0', ...batchIds].slice(size) },
    ]);
    // The second wave starts only once the first has ended: its first renewal follows the first wave's last check.
    const order = run.calls.map((call) => `${call.state}:${call.payload['batchId']}`);
    const lastCheckOfFirstWave = Math.max(...batchIds.slice(0, size).map((id) => order.lastIndexOf(`${RotationStates.CheckBatch}:${id}`)));
    expect(order.indexOf(`${RotationStates.RenewBatch}:${batchIds[size]}`)).toBeGreaterThan(lastCheckOfFirstWave);
    const finalize = run.calls.find((call) => call.state === RotationStates.Finalize)!.payload;
    expect(finalize['verified']).toEqual({ waves: 2 });
    expect(finalize['plan']).toMatchObject({ batchCount: size + 2, waves: { fanOut: [0, 1], all: [0, 1] } });
  });

  it('skips the intermediate and the canary when neither is due, and defaults an empty request to trigger schedule', async () => {
    const run = await runLocally({ input: {}, plan: defaultPlan({ intermediateDue: false, hasCanary: false, batchIds: ['b1'], allBatchIds: ['b1'] }) });
    expect(run.status).toBe('SUCCEEDED');
    expect(statesCalled(run)).not.toEqual(expect.arrayContaining([RotationStates.PrepareIntermediate]));
    expect(statesCalled(run)).not.toContain(RotationStates.RenewCanary);
    expect(run.events[0]!.detail).toMatchObject({ trigger: 'schedule' });
    expect(run.calls.find((call) => call.state === RotationStates.Finalize)!.payload['activated']).toBeUndefined();
  });

  it('ends AlreadyRunning, touching nothing, when another execution holds the lock', async () => {
    const run = await runLocally({ lockOwner: 'arn:aws:states:us-east-1:000000000000:execution:Rotation:other' });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'AlreadyRunning' });
    expect(run.calls).toEqual([]);
    expect(run.events).toEqual([]);
    expect(run.lock).toEqual({ owner: { S: 'arn:aws:states:us-east-1:000000000000:execution:Rotation:other' } });
  });

  it('rolls back a failed canary verification: issuer restored, every batch restored and verified, trust restored, RotationRolledBack', async () => {
    const run = await runLocally({
      stubs: {
        VerifyBatch: (p, call) => {
          if (call.state === RotationStates.VerifyCanary) throw lambdaError(RotationErrors.VerificationFailed, 'frontend: chain does not reach the root');
          return { runId: p.runId, batchId: p.batchId, allValid: true, invalid: 0 };
        },
      },
    });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe(ROTATION_ROLLED_BACK_ERROR);
    expect(run.lock).toBeUndefined();
    expect(statesCalled(run)).not.toContain(RotationStates.RenewBatch);
    expect(run.calls.find((call) => call.state === RotationStates.RestoreIssuer)!.payload).toEqual({ runId: 'run-1', previousDefault: 'issuer-old', newIssuerId: 'issuer-new' });
    expect(run.calls.filter((call) => call.state === RotationStates.RestoreBatch).map((call) => call.payload['batchId']).sort()).toEqual(['b0', 'b1', 'b2']);
    expect(run.calls.find((call) => call.state === RotationStates.RestoreTrust)!.payload).toMatchObject({ mode: 'restore' });
    const record = run.calls.find((call) => call.state === RotationStates.RecordRollback)!.payload;
    expect(record['failure']).toMatchObject({ Error: RotationErrors.VerificationFailed });
    expect(record['restored']).toEqual({ waves: 1 });
    expect(run.events.map((event) => event.detailType)).toEqual([RotationDetailTypes.Started, RotationDetailTypes.RolledBack]);
  });

  it('rolls back a batch that never rolls out without touching an issuer it never changed', async () => {
    const run = await runLocally({
      plan: defaultPlan({ intermediateDue: false, hasCanary: false, batchIds: ['b1'], allBatchIds: ['b1'] }),
      stubs: { CheckBatch: (p) => ({ ...p, attempt: p.attempt + 1, done: p.phase === 'rollback', exhausted: p.attempt + 1 >= 3, pending: 1 }) },
    });
    expect(run.error).toBe(ROTATION_ROLLED_BACK_ERROR);
    expect(run.calls.find((call) => call.state === RotationStates.RecordRollback)!.payload['failure']).toMatchObject({ Error: RotationErrors.RolloutTimeout });
    expect(statesCalled(run)).not.toContain(RotationStates.RestoreIssuer);
    expect(statesCalled(run)).not.toContain(RotationStates.RestoreTrust);
    expect(run.lock).toBeUndefined();
  });

  it('rolls back when the canary never rolls out', async () => {
    const run = await runLocally({ stubs: { CheckBatch: (p) => ({ ...p, attempt: p.attempt + 1, done: p.phase === 'rollback', exhausted: p.attempt + 1 >= 2, pending: 1 }) } });
    expect(run.error).toBe(ROTATION_ROLLED_BACK_ERROR);
    expect(run.calls.find((call) => call.state === RotationStates.RecordRollback)!.payload['failure']).toEqual({ Error: RotationErrors.RolloutTimeout, Cause: expect.any(String) });
  });

  it('stops before changing anything when Preflight fails: Rotation Failed, lock released, RotationAborted', async () => {
    const run = await runLocally({ stubs: { Preflight: () => { throw lambdaError(ErrorNames.VaultPermission); } } });
    expect(run.error).toBe(RotationErrors.Aborted);
    expect(statesCalled(run)).toEqual([RotationStates.Preflight]);
    expect(run.events.map((event) => event.detailType)).toEqual([RotationDetailTypes.Started, RotationDetailTypes.Failed]);
    expect(run.events[1]!.detail).toMatchObject({ outcome: 'Failed', error: ErrorNames.VaultPermission });
    expect(run.lock).toBeUndefined();
  });

  it('ends in RotationRollbackFailed, lock released, when the rollback itself fails', async () => {
    const run = await runLocally({
      stubs: {
        ActivateIssuer: () => { throw lambdaError(ErrorNames.IssuerStateConflict); },
        RestoreBatch: () => { throw lambdaError(ErrorNames.KubernetesForbidden); },
      },
    });
    expect(run.error).toBe(RotationErrors.RollbackFailed);
    expect(run.lock).toBeUndefined();
    expect(run.events.at(-1)).toMatchObject({ detailType: RotationDetailTypes.Failed, detail: { error: ErrorNames.KubernetesForbidden, cause: `rollback after ${ErrorNames.IssuerStateConflict} failed with ${ErrorNames.KubernetesForbidden}` } });
  });

  it('does not repeat a step that failed with a verdict', async () => {
    const run = await runLocally({ stubs: { PrepareIntermediate: () => { throw lambdaError(ErrorNames.IntermediateInvalid); } } });
    expect(run.calls.filter((call) => call.state === RotationStates.PrepareIntermediate)).toHaveLength(1);
    expect(run.error).toBe(ROTATION_ROLLED_BACK_ERROR);
  });

  it('retries a step that failed transiently, with the same input', async () => {
    let failures = 1;
    const run = await runLocally({
      stubs: {
        PublishTrust: (p) => {
          if (failures-- > 0) throw lambdaError(ErrorNames.KubernetesUnavailable);
          return { runId: p.runId };
        },
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    const publishes = run.calls.filter((call) => call.state === RotationStates.PublishTrust);
    expect(publishes).toHaveLength(2);
    expect(publishes[0]!.payload).toEqual(publishes[1]!.payload);
  });
});

// ---- around the state machine ---------------------------------------------------------------------

describe('around the Rotation state machine', () => {
  it('starts the daily renewal sweep with {"trigger":"schedule"}, on time, dead-lettering failed starts', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: config.schedules.renewalSweep,
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: { Ref: rotationLogicalId }, Input: JSON.stringify(RotationScheduleInputs.renewalSweep), DeadLetterConfig: { Arn: Match.anyValue() }, RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } },
    });
    expect(JSON.parse(JSON.stringify(RotationScheduleInputs.renewalSweep))).toEqual({ trigger: 'schedule' });
  });

  it('starts a run on the intermediate cadence that lets the plan decide whether it is due', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: config.schedules.intermediateRotation,
      Target: { Arn: { Ref: rotationLogicalId }, Input: JSON.stringify({ trigger: 'intermediate-schedule', forceIntermediate: false }), DeadLetterConfig: { Arn: Match.anyValue() } },
    });
    expect(config.schedules.intermediateRotation).not.toBe(config.schedules.renewalSweep);
  });

  it('releases the lock of an aborted or timed-out execution of this state machine, or of the compromise response, through ReleaseStaleLock', () => {
    const compromiseLogicalId = Object.keys(raw.Resources).find((id) => id.startsWith('CompromiseWorkflow') && raw.Resources[id]!.Type === 'AWS::StepFunctions::StateMachine')!;
    const releaseId = lambdaFunctions(raw).find((fn) => fn.functionId === 'ReleaseStaleLock')!.logicalId;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        // The compromise response takes the same lock: its aborted runs are released too.
        detail: { status: ['ABORTED', 'TIMED_OUT'], stateMachineArn: [{ Ref: rotationLogicalId }, { Ref: compromiseLogicalId }] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [releaseId, 'Arn'] }, DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: { 'Fn::GetAtt': [releaseId, 'Arn'] }, Principal: 'events.amazonaws.com' });
  });

  it('alarms on failed and timed-out rotations with runbooks naming each outcome', () => {
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: rotationLogicalId } }],
      Threshold: 1,
      EvaluationPeriods: 1,
      AlarmActions: [{ Ref: topicId }],
      AlarmDescription: Match.stringLikeRegexp(`Runbook.*${ROTATION_ROLLED_BACK_ERROR}.*${RotationErrors.RollbackFailed}.*${RotationErrors.Aborted}`),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsTimedOut',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: rotationLogicalId } }],
      AlarmDescription: Match.stringLikeRegexp('NOT rolled back'),
    });
  });

  it('lets the state machine write only the lock (put, delete) on the ledger, publish only to the certflow bus, and start, wait for and stop only RotationWave executions', () => {
    const roleId = (raw.Resources[rotationLogicalId]!.Properties!['RoleArn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((candidate) => JSON.stringify(candidate['Properties']['Roles']) === JSON.stringify([{ Ref: roleId }]))!;
    const statements = policy['Properties']['PolicyDocument']['Statement'] as Array<{ Action: string | string[]; Resource: unknown }>;
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem']);
    const [busId] = Object.keys(template.findResources('AWS::Events::EventBus'));
    expect(statements.find((s) => [s.Action].flat().includes('events:PutEvents'))!.Resource).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    // What startExecution.sync:2 needs: start the wave, wait for it (DescribeExecution, and the
    // managed rule through which Step Functions learns the child ended), stop it with the parent.
    const rule = statements.find((s) => [s.Action].flat().includes('events:PutRule'))!;
    expect([rule.Action].flat().sort()).toEqual(['events:DescribeRule', 'events:PutRule', 'events:PutTargets']);
    expect(JSON.stringify(rule.Resource)).toContain(':rule/StepFunctionsGetEventsForStepFunctionsExecutionRule');
    expect(statements.find((s) => [s.Action].flat().includes('states:StartExecution'))!.Resource).toEqual({ Ref: waveLogicalId });
    const wait = statements.find((s) => [s.Action].flat().includes('states:DescribeExecution'))!;
    expect([wait.Action].flat().sort()).toEqual(['states:DescribeExecution', 'states:StopExecution']);
    expect(JSON.stringify(wait.Resource)).toContain(`{"Ref":"${waveLogicalId}"}`);
    expect(actions.filter((action) => action.startsWith('states:')).sort()).toEqual(['states:DescribeExecution', 'states:StartExecution', 'states:StopExecution']);
  });

  it.each(functionsOf('rotation'))('%s carries the ledger, bus and Kubernetes environment on top of the unseal and PKI ones', (functionId) => {
    const fn = lambdaFunctions(raw).find((candidate) => candidate.functionId === functionId)!;
    const variables = (raw.Resources[fn.logicalId]!.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    const [ledgerId] = Object.keys(template.findResources('AWS::DynamoDB::Table', { Properties: { SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() } } }));
    const [busId] = Object.keys(template.findResources('AWS::Events::EventBus'));
    expect(variables[RotationEnvNames.LedgerTable]).toEqual({ Ref: ledgerId });
    expect(variables[EnvNames.LedgerTable]).toEqual({ Ref: ledgerId });
    expect(variables[RotationEnvNames.EventBus]).toEqual({ Ref: busId });
    // The clusters are a run-time value; a token cluster without a credential names the token secret the stack declares.
    const clusters = runTimeParameter(raw, config.name, RotationEnvNames.Clusters);
    expect(clusters.namedBy(fn.logicalId)).toBe(true);
    const [tokenSecretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret', { Properties: { Name: `certflow/${config.name}/clusters/primary/token` } }));
    // The resolver's fake Ref of a secret is its logical id (its ARN in AWS and in the sandbox).
    expect(JSON.parse(clusters.value)).toEqual(config.kubernetes.clusters.map((cluster) => ({ ...cluster, tokenSecretArn: tokenSecretId })));
    expect(variables[RotationEnvNames.TrustBundleConfigMap]).toBe(config.kubernetes.trustBundleConfigMap);
    expect(variables[RotationEnvNames.BatchSize]).toBe(String(config.policy.batchSize));
    expect(variables[RotationEnvNames.TargetConcurrency]).toBe(String(config.policy.targetConcurrency));
    expect(variables[RotationEnvNames.Namespace]).toBe(config.kubernetes.namespace);
    expect(runTimeParameter(raw, config.name, EnvNames.VaultNodes).namedBy(fn.logicalId)).toBe(true);
    expect(runTimeParameter(raw, config.name, RotationEnvNames.MaxRolloutChecks).value).toBe(String(config.policy.maxRolloutChecks));
    expect(variables[PkiEnvNames.IntermediateMount]).toBe(config.vault.intermediateMount);
  });

  it.each(functionsOf('rotation'))('%s may read and write the ledger table', (functionId) => {
    const fn = lambdaFunctions(raw).find((candidate) => candidate.functionId === functionId)!;
    const roleId = (raw.Resources[fn.logicalId]!.Properties as { Role: { 'Fn::GetAtt': [string, string] } }).Role['Fn::GetAtt'][0];
    const [ledgerId] = Object.keys(template.findResources('AWS::DynamoDB::Table', { Properties: { SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() } } }));
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy['Properties']['Roles']) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((policy) => policy['Properties']['PolicyDocument']['Statement'] as Array<{ Action: string | string[]; Resource: unknown }>);
    const onLedger = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify([{ 'Fn::GetAtt': [ledgerId, 'Arn'] }])).flatMap((s) => [s.Action].flat());
    expect(onLedger).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem']));
  });

  it('exports the Rotation state machine ARN', () => {
    expect(template.toJSON().Outputs['RotationStateMachineArn']).toMatchObject({ Value: { Ref: rotationLogicalId } });
  });
});

describe('the rotation config', () => {
  const base = () => JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as Record<string, any>;

  it('requires the clusters to be declared and defaults to a daily intermediate check two hours after the sweep', () => {
    const parsed = ConfigSchema.parse(base());
    expect(parsed.schedules.intermediateRotation).toBe('cron(0 5 * * ? *)');
    const withoutClusters = base();
    delete withoutClusters['kubernetes']['clusters'];
    expect(() => parseConfig(withoutClusters)).toThrow(/kubernetes\.clusters: /);
  });

  it('keeps each cluster form\'s own fields and refuses duplicate cluster names or unknown auth forms', () => {
    const eks = { name: 'prod', auth: 'eks', endpoint: 'https://x.eks.amazonaws.com', caData: 'QUJD', region: 'eu-west-1' };
    const withClusters = (clusters: unknown[]) => {
      const config = base();
      config['kubernetes']['clusters'] = clusters;
      // The target policy names its clusters; point it at the first one given.
      config['kubernetes']['targets']['clusters'][0]['cluster'] = (clusters[0] as { name: string }).name;
      return config;
    };
    expect(parseConfig(withClusters([eks])).kubernetes.clusters).toEqual([eks]);
    expect(() => parseConfig(withClusters([eks, { ...eks }]))).toThrow(/kubernetes\.clusters: cluster names must be unique/);
    expect(() => parseConfig(withClusters([{ name: 'x', auth: 'magic' }]))).toThrow(/kubernetes\.clusters\.0\.auth/);
  });
});
