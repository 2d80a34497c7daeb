import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_CONFIG_PATH } from '../../bin/app';
import { loadConfig } from '../../lib/config';
import { CompromiseDetailTypes, CompromiseSource } from '../../functions/contracts/compromise';
import { PreemptEnvNames, type FunctionId } from '../../functions/contracts/functions';
import { RotationLock, RotationLockPhase } from '../../functions/contracts/rotation-payloads';
import { AllCompromiseStateNames, CompromiseApprovalErrors, CompromiseErrors, CompromiseStates } from '../../lib/constructs/compromise-states';
import { TerminalRotationErrors } from '../../lib/constructs/retry-policies';
import { lambdaFunctions } from '../../sandbox/runner/template-resolver';
import { listTaskStates, type AslMachine } from '../../sandbox/runner/task-walker';
import { loadTemplate, stateMachineDefinitions } from '../support/template';

// asl-validator 4 ships no types.
type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = require('asl-validator') as AslValidator;

type State = Record<string, unknown> & {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  Choices?: Array<{ Next: string }>;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Parameters?: Record<string, unknown>;
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
};

const raw = loadTemplate();
const template = Template.fromJSON(raw as never);
const definitions = stateMachineDefinitions();
const functionIdByArn = new Map(lambdaFunctions(raw).map((fn) => [fn.arn, fn.functionId as FunctionId]));
const [logicalId, definition] = (() => {
  const found = Object.entries(definitions).filter(([id]) => id.startsWith('CompromiseWorkflow'));
  if (found.length !== 1) throw new Error(`expected one CompromiseWorkflow state machine, found ${found.length}`);
  return found[0]!;
})();
function allStates(machine: { States: Record<string, State> } = definition as never): Array<[string, State]> {
  return Object.entries(machine.States).flatMap(([name, s]) => [[name, s] as [string, State], ...(s.ItemProcessor ? allStates(s.ItemProcessor) : [])]);
}
const byName = new Map(allStates());
const state = (name: string): State => {
  const found = byName.get(name);
  if (!found) throw new Error(`no state ${name}`);
  return found;
};

describe('the CompromiseResponse state machine definition', () => {
  it('contains every state CompromiseStates names, each once across the whole definition', () => {
    const names = allStates().map(([name]) => name);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
    expect([...names].sort()).toEqual([...AllCompromiseStateNames].sort());
    expect(() => listTaskStates(definition as unknown as AslMachine)).not.toThrow();
  });

  it('is valid Amazon States Language (asl-validator), JSONPath, with inline Maps only', () => {
    const result = aslValidator(structuredClone(definition));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
    expect(definition['QueryLanguage'] ?? 'JSONPath').toBe('JSONPath');
    expect(JSON.stringify(definition)).not.toMatch(/\.sync|JSONata|ItemReader/);
    // One callback task only: the intermediate report's approval.
    expect(allStates().filter(([, s]) => s.Resource?.endsWith('.waitForTaskToken')).map(([name]) => name)).toEqual([CompromiseStates.AwaitApproval]);
  });

  it('starts by validating the whole event', () => {
    expect(definition.StartAt).toBe(CompromiseStates.ValidateReport);
    expect(state(CompromiseStates.ValidateReport).Parameters?.['Payload.$']).toBe('$');
  });

  it('invokes the registry function each Lambda state stands for', () => {
    const expected: Record<string, FunctionId> = {
      [CompromiseStates.ValidateReport]: 'CompromiseValidate',
      [CompromiseStates.PreemptRotation]: 'PreemptRotation',
      [CompromiseStates.Preflight]: 'Preflight',
      [CompromiseStates.PlanCompromise]: 'CompromisePlan',
      [CompromiseStates.PrepareNewIntermediate]: 'PrepareIntermediate',
      [CompromiseStates.ActivateNewIntermediate]: 'ActivateIssuer',
      [CompromiseStates.ReissueBatch]: 'RenewBatch',
      [CompromiseStates.CheckReissue]: 'CheckBatch',
      [CompromiseStates.VerifyReissued]: 'VerifyBatch',
      [CompromiseStates.RevokeCompromised]: 'CompromiseRevoke',
      [CompromiseStates.RevokeCompromisedIssuer]: 'CompromiseRevoke',
      [CompromiseStates.RevokeCompromisedIssuerBySerial]: 'CompromiseRevoke',
      [CompromiseStates.ReportContained]: 'CompromiseReport',
    };
    const actual = Object.fromEntries(
      allStates()
        .filter(([, s]) => s.Resource === 'arn:aws:states:::lambda:invoke')
        .map(([name, s]) => [name, functionIdByArn.get(String(s.Parameters?.['FunctionName']))]),
    );
    expect(actual).toEqual(expected);
  });

  it('plans (the gate) before the lock, and takes the lock over a rotation but never from another response, then preempts', () => {
    const put = state(CompromiseStates.TakeLock);
    expect(put.Resource).toBe('arn:aws:states:::dynamodb:putItem');
    // A rotation's lock is taken over, unless it is marked rolling back: the response then waits.
    expect(put.Parameters?.['ConditionExpression']).toBe(
      'attribute_not_exists(pk) OR #owner = :owner OR ((attribute_not_exists(#holder) OR #holder <> :compromise) AND (attribute_not_exists(#phase) OR #phase <> :rollingBack))',
    );
    expect(put.Parameters?.['ExpressionAttributeValues']).toMatchObject({ ':rollingBack': { S: RotationLockPhase.rollingBack } });
    expect(put.Parameters?.['ExpressionAttributeNames']).toMatchObject({ '#phase': RotationLockPhase.attribute });
    expect(put.Parameters?.['Item']).toEqual(expect.objectContaining({ pk: { S: RotationLock.pk }, sk: { S: RotationLock.sk }, owner: { 'S.$': '$$.Execution.Id' }, holder: { S: 'compromise' }, scopeKey: { 'S.$': '$.plan.scopeKey' } }));
    expect(put.Catch?.find((c) => c.ErrorEquals.includes('DynamoDB.ConditionalCheckFailedException'))?.Next).toBe(CompromiseStates.ReadHeldLock);
    expect(state(CompromiseStates.TakeLock).Next).toBe(CompromiseStates.PreemptRotation);
    expect(state(CompromiseStates.PlanCompromise).Next).toBe(CompromiseStates.ScopeAccepted);
    expect(state(CompromiseStates.ScopeAccepted).Default).toBe(CompromiseStates.ScopeRejectedDetail);
    expect(state(CompromiseStates.ReportValid).Choices?.[0]?.Next).toBe(CompromiseStates.PlanCompromise);
    expect(state(CompromiseStates.SameScopeRunning).Default).toBe(CompromiseStates.WaitForLock);
    expect(state(CompromiseStates.WaitForLock).Next).toBe(CompromiseStates.TakeLock);
  });

  it('holds an intermediate report for an approval before the lock: a denial is Rejected, a timeout fails (alarmed) with nothing changed', () => {
    const config = loadConfig(DEFAULT_CONFIG_PATH);
    expect(config.compromise.intermediateApproval.automatic).toBe(false);
    expect(state(CompromiseStates.ScopeAccepted).Choices?.[0]?.Next).toBe(CompromiseStates.NeedsApproval);
    expect(state(CompromiseStates.NeedsApproval)).toEqual(expect.objectContaining({ Default: CompromiseStates.TakeLock, Choices: [expect.objectContaining({ Variable: '$.plan.scope', StringEquals: 'intermediate', Next: CompromiseStates.ReadLockBeforeApproval })] }));
    // Before waiting: the same scope running (the lock) or waiting (a claim) refuses this report at once.
    expect(state(CompromiseStates.ReadLockBeforeApproval).Next).toBe(CompromiseStates.SameScopeRunningBeforeApproval);
    expect(state(CompromiseStates.SameScopeRunningBeforeApproval)).toEqual(expect.objectContaining({ Default: CompromiseStates.ClaimPendingScope, Choices: [expect.objectContaining({ Next: CompromiseStates.DuplicateOf })] }));
    const claim = state(CompromiseStates.ClaimPendingScope);
    expect(claim.Parameters?.['ConditionExpression']).toBe('attribute_not_exists(pk) OR #owner = :owner');
    expect(claim.Next).toBe(CompromiseStates.ApprovalRequest);
    expect(claim.Catch?.find((c) => c.ErrorEquals.includes('DynamoDB.ConditionalCheckFailedException'))?.Next).toBe(CompromiseStates.ReadPendingClaim);
    expect(state(CompromiseStates.PendingClaimHeld)).toEqual(expect.objectContaining({ Default: CompromiseStates.ClaimPendingScope, Choices: [expect.objectContaining({ Next: CompromiseStates.DuplicatePendingOf })] }));
    expect(state(CompromiseStates.DuplicatePendingOf).Next).toBe(CompromiseStates.RecordDuplicate);
    expect(state(CompromiseStates.ApprovalRequest).Next).toBe(CompromiseStates.RecordPendingApproval);
    expect(state(CompromiseStates.RecordPendingApproval).Next).toBe(CompromiseStates.AwaitApproval);
    const wait = state(CompromiseStates.AwaitApproval);
    expect(wait.Resource).toBe('arn:aws:states:::events:putEvents.waitForTaskToken');
    expect(wait['TimeoutSeconds']).toBe(config.compromise.intermediateApproval.timeoutMinutes * 60);
    expect(wait.Retry ?? []).toEqual([]);
    // Every ending of the wait releases the scope's claim first (conditional on owning it).
    expect(wait.Next).toBe(CompromiseStates.ReleaseClaimApproved);
    expect(state(CompromiseStates.ReleaseClaimApproved).Next).toBe(CompromiseStates.TakeLock);
    for (const name of [CompromiseStates.ReleaseClaimApproved, CompromiseStates.ReleaseClaimDenied, CompromiseStates.ReleaseClaimTimedOut, CompromiseStates.ReleaseClaimFailed]) {
      expect(state(name).Parameters?.['ConditionExpression']).toBe('#owner = :owner');
    }
    const entry = (wait.Parameters?.['Entries'] as Array<{ DetailType: string; Detail: Record<string, unknown> }>)[0]!;
    expect(entry.DetailType).toBe(CompromiseDetailTypes.ApprovalRequested);
    expect(entry.Detail['taskToken.$']).toBe('$$.Task.Token');
    const catchOf = (error: string) => wait.Catch?.find((c) => c.ErrorEquals.includes(error))?.Next;
    expect(catchOf(CompromiseApprovalErrors.Denied)).toBe(CompromiseStates.ReleaseClaimDenied);
    expect(state(CompromiseStates.ReleaseClaimDenied).Next).toBe(CompromiseStates.ApprovalDenied);
    expect(catchOf('States.Timeout')).toBe(CompromiseStates.ReleaseClaimTimedOut);
    expect(state(CompromiseStates.ReleaseClaimTimedOut).Next).toBe(CompromiseStates.EmitApprovalTimedOut);
    expect(catchOf('States.ALL')).toBe(CompromiseStates.ReleaseClaimFailed);
    expect(state(CompromiseStates.ReleaseClaimFailed).Next).toBe(CompromiseStates.EmitResponseFailed);
    expect(wait.Catch?.map((c) => c.ErrorEquals[0]).at(-1)).toBe('States.ALL');
    expect(state(CompromiseStates.EmitApprovalTimedOut).Next).toBe(CompromiseStates.ApprovalTimedOut);
    expect(state(CompromiseStates.ApprovalTimedOut)).toEqual(expect.objectContaining({ Type: 'Fail', Error: CompromiseErrors.ApprovalTimedOut }));
    // The execution outlives the wait by the response's own hour.
    expect(definition['TimeoutSeconds']).toBe(3600 + config.compromise.intermediateApproval.timeoutMinutes * 60);
  });

  it('releases the lock on both endings, conditional on this execution owning it', () => {
    for (const name of [CompromiseStates.ReleaseCompromiseLock, CompromiseStates.ReleaseLockAfterResponseFailure]) {
      expect(state(name).Resource).toBe('arn:aws:states:::dynamodb:deleteItem');
      expect(state(name).Parameters?.['ConditionExpression']).toBe('#owner = :owner');
    }
  });

  it('catches every failure into EmitResponseFailed, and no Catch leads to a restore or rollback state', () => {
    const catches = allStates().flatMap(([name, s]) => (s.Catch ?? []).map((c) => ({ name, next: c.Next, errors: c.ErrorEquals })));
    expect(catches.filter((c) => /Restore|Rollback|RolledBack/i.test(c.next))).toEqual([]);
    expect(allStates().map(([name]) => name).filter((name) => /Restore|Rollback/i.test(name))).toEqual([]);
    const lambdaTasks = Object.entries(definition.States as Record<string, State>).filter(([, s]) => s.Resource === 'arn:aws:states:::lambda:invoke' || s.Type === 'Map');
    for (const [name, s] of lambdaTasks) {
      expect({ name, catch: s.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'))?.Next }).toEqual({ name, catch: CompromiseStates.EmitResponseFailed });
    }
    expect(state(CompromiseStates.TakeLock).Catch?.find((c) => c.ErrorEquals.includes('States.ALL'))?.Next).toBe(CompromiseStates.EmitResponseFailed);
    expect(state(CompromiseStates.ResponseFailed)).toEqual(expect.objectContaining({ Type: 'Fail', Error: CompromiseErrors.ResponseFailed }));
  });

  it('rejects an invalid report with a Compromise Rejected event and a Succeed', () => {
    const choice = state(CompromiseStates.ReportValid);
    expect(choice.Default).toBe(CompromiseStates.EmitRejected);
    const entry = (state(CompromiseStates.EmitRejected).Parameters?.['Entries'] as Array<Record<string, unknown>>)[0]!;
    expect(entry).toEqual(expect.objectContaining({ DetailType: CompromiseDetailTypes.Rejected, 'Detail.$': '$.validation.rejectedDetail', Source: 'certflow' }));
    expect(state(CompromiseStates.Rejected).Type).toBe('Succeed');
  });

  it('reissues in an inline Map over the plan’s batches with no canary, and retries only transient errors', () => {
    const map = state(CompromiseStates.Reissue);
    expect(map.Type).toBe('Map');
    expect(map['ItemsPath']).toBe('$.plan.batchIds');
    expect(Object.keys(map.ItemProcessor!.States).sort()).toEqual(
      [CompromiseStates.ReissueBatch, CompromiseStates.WaitReissue, CompromiseStates.CheckReissue, CompromiseStates.ReissueDone, CompromiseStates.VerifyReissued, CompromiseStates.ReissueTimedOut].sort(),
    );
    expect(allStates().map(([name]) => name).filter((name) => /Canary/.test(name))).toEqual([]);
    const retried = new Set(allStates().flatMap(([, s]) => (s.Retry ?? []).flatMap((r) => r.ErrorEquals)));
    expect(TerminalRotationErrors.filter((error) => retried.has(error))).toEqual([]);
    expect(retried.has('States.ALL')).toBe(false);
  });
});

describe('the CompromiseResponse resources', () => {
  it('starts the state machine from Compromise Reported events (source certflow.security) on the certflow bus', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.anyValue(),
      EventPattern: { source: [CompromiseSource], 'detail-type': [CompromiseDetailTypes.Reported] },
      Targets: Match.arrayWith([Match.objectLike({ Arn: { Ref: logicalId }, DeadLetterConfig: Match.anyValue() })]),
    });
  });

  it('lets only the reporter principals put reports on the bus', () => {
    const policies = template.findResources('AWS::Events::EventBusPolicy');
    const statements = Object.values(policies).map((policy) => (policy as { Properties: { Statement?: Record<string, unknown> } }).Properties.Statement);
    expect(statements).toEqual(
      expect.arrayContaining([expect.objectContaining({ Sid: expect.stringContaining('CompromiseReportersPutEvents'), Action: 'events:PutEvents', Condition: { StringEquals: { 'events:source': CompromiseSource } }, Principal: { AWS: expect.anything() } })]),
    );
  });

  it('denies every principal that is not a named reporter, explicitly, so no identity policy in the account can grant a report', () => {
    // The seed names role/econgraph-security-reporter: a role of the deployment account, whatever account that is.
    expect(loadConfig(DEFAULT_CONFIG_PATH).compromise.reporterPrincipals).toEqual(['role/econgraph-security-reporter']);
    const reporterArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/econgraph-security-reporter']] };
    const statements = Object.values(template.findResources('AWS::Events::EventBusPolicy')).map((policy) => (policy as { Properties: { Statement?: Record<string, any> } }).Properties.Statement!);
    const deny = statements.find((statement) => statement['Effect'] === 'Deny');

    expect(deny).toEqual(
      expect.objectContaining({
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Condition: { StringEquals: { 'events:source': CompromiseSource }, ArnNotEquals: { 'aws:PrincipalArn': [reporterArn] } },
      }),
    );
    expect(statements.filter((statement) => statement['Effect'] === 'Allow').flatMap((statement) => [statement['Principal']['AWS']].flat())).toEqual([reporterArn]);
  });

  it('alarms on failed executions with a runbook that forbids restoring the compromised issuer', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId } }],
      AlarmDescription: Match.stringLikeRegexp('do NOT restore the old one'),
    });
  });

  it('gives only PreemptRotation the Rotation state machine’s ARN, and outputs the compromise machine’s', () => {
    const withArn = lambdaFunctions(raw).filter((fn) => PreemptEnvNames.RotationStateMachineArn in fn.environment);
    expect(withArn.map((fn) => fn.functionId)).toEqual(['PreemptRotation']);
    template.hasOutput('CompromiseStateMachineArn', { Value: { Ref: logicalId } });
  });
});
