import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_CONFIG_PATH } from '../../bin/app';
import { loadConfig } from '../../lib/config';
import { EnvNames } from '../../functions/contracts/env';
import { FunctionIds, FunctionRegistry, Metrics, functionRoleName } from '../../functions/contracts/functions';
import { lambdaFunctions } from '../../sandbox/runner/template-resolver';
import { loadTemplate } from '../support/template';
import { runTimeParameter } from '../support/run-time-parameters';

const config = loadConfig(DEFAULT_CONFIG_PATH);
const raw = loadTemplate();
const template = Template.fromJSON(raw as never);

function certflowFunctions() {
  return lambdaFunctions(raw).filter((fn) => fn.functionId !== undefined);
}

describe('the Lambda functions', () => {
  it('are exactly one function per FunctionRegistry entry', () => {
    const ids = certflowFunctions().map((fn) => fn.functionId).sort();
    expect(ids).toEqual([...FunctionIds].sort());
  });

  it('are all nodejs24.x on arm64 with 256 MB and active tracing', () => {
    const all = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(all).length).toBeGreaterThanOrEqual(FunctionIds.length);
    for (const [logicalId, resource] of Object.entries(all)) {
      const properties = (resource as { Properties: Record<string, unknown> }).Properties;
      expect({ logicalId, runtime: properties['Runtime'] }).toEqual({ logicalId, runtime: 'nodejs24.x' });
      expect({ logicalId, architectures: properties['Architectures'] }).toEqual({ logicalId, architectures: ['arm64'] });
      expect({ logicalId, memory: properties['MemorySize'] }).toEqual({ logicalId, memory: 256 });
      expect({ logicalId, tracing: properties['TracingConfig'] }).toEqual({ logicalId, tracing: { Mode: 'Active' } });
    }
  });

  it.each(FunctionIds)('%s has the timeout its registry entry names', (functionId) => {
    const fn = certflowFunctions().find((candidate) => candidate.functionId === functionId);
    expect(fn?.timeoutSeconds).toBe(FunctionRegistry[functionId].timeoutSeconds);
  });

  it.each(FunctionIds)('%s carries the shared environment names', (functionId) => {
    const fn = certflowFunctions().find((candidate) => candidate.functionId === functionId);
    expect(fn?.environment).toMatchObject({
      [EnvNames.Function]: functionId,
      [EnvNames.ServiceName]: 'certflow',
      [EnvNames.MetricsNamespace]: Metrics.Namespace,
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it.each(FunctionIds.filter((id) => id.startsWith('Unseal')))('%s carries the unseal environment: cluster, nodes, key and share table', (functionId) => {
    const fn = certflowFunctions().find((candidate) => candidate.functionId === functionId);
    const keyId = Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('Shamir') } }))[0];
    const tableId = Object.keys(template.findResources('AWS::DynamoDB::Table', { Properties: { SSESpecification: { SSEType: 'KMS' } } }))[0];
    expect(fn?.environment[EnvNames.VaultClusterId]).toBe(config.vault.clusterId);
    // The node addresses are a run-time value: the function names their SSM parameter (run-time-values.ts).
    const nodes = runTimeParameter(raw, config.name, EnvNames.VaultNodes);
    expect(nodes.namedBy(fn!.logicalId)).toBe(true);
    expect(JSON.parse(nodes.value)).toEqual(config.vault.nodes);
    expect(fn?.environment[EnvNames.VaultNodes]).toBeUndefined();
    const rawVariables = (raw.Resources[fn!.logicalId]!.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    expect(rawVariables[EnvNames.UnsealKeyId]).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(rawVariables[EnvNames.ShareTable]).toEqual({ Ref: tableId });
  });

  it.each(FunctionIds)('%s may ssm:GetParameter exactly the parameters its environment names, and do nothing else with SSM', (functionId) => {
    const fn = certflowFunctions().find((candidate) => candidate.functionId === functionId)!;
    const resource = raw.Resources[fn.logicalId]!.Properties as { Role: { 'Fn::GetAtt': [string, string] }; Environment: { Variables: Record<string, unknown> } };
    const roleId = resource.Role['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy['Properties']['Roles']) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((policy) => policy['Properties']['PolicyDocument']['Statement'] as Array<{ Action: string | string[]; Resource: unknown }>)
      .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('ssm:')));
    const granted = statements.flatMap((statement) => [statement.Resource].flat().map((arn) => /"Ref":"([^"]+)"\}\]\]\}$/.exec(JSON.stringify(arn))?.[1]));
    const named = Object.entries(resource.Environment.Variables)
      .filter(([name]) => name.endsWith('_PARAMETER'))
      .map(([, value]) => (value as { Ref: string }).Ref);
    expect(statements.flatMap((statement) => [statement.Action].flat()).every((action) => action === 'ssm:GetParameter')).toBe(true);
    expect(granted.sort()).toEqual(named.sort());
  });

  it.each(['UnsealNode', 'Preflight'] as const)('%s carries the configured threshold and share count, so no node decides how many shares leave KMS', (functionId) => {
    const fn = certflowFunctions().find((candidate) => candidate.functionId === functionId);
    expect(fn?.environment[EnvNames.VaultThreshold]).toBe(String(config.vault.threshold));
    expect(fn?.environment[EnvNames.VaultShares]).toBe(String(config.vault.shares));
  });

  it('write to their own log groups, kept as long as config logs.retentionDays says (one year by default)', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const logGroups = template.findResources('AWS::Logs::LogGroup');
    for (const resource of Object.values(functions)) {
      const logGroupRef = (resource as { Properties: { LoggingConfig?: { LogGroup?: { Ref?: string } } } }).Properties.LoggingConfig?.LogGroup?.Ref;
      expect(logGroupRef).toBeDefined();
      expect(logGroups[logGroupRef!]?.['Properties']).toMatchObject({ RetentionInDays: 365 });
    }
    // The state machines' log groups too: every log group of the stack keeps a year.
    expect(new Set(Object.values(logGroups).map((group) => (group as { Properties: { RetentionInDays?: number } }).Properties.RetentionInDays))).toEqual(new Set([365]));
  });

  it('have roles with no managed policies (no AWSLambdaBasicExecutionRole)', () => {
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })]) } },
    });
    expect(Object.keys(roles)).toHaveLength(FunctionIds.length);
    for (const role of Object.values(roles)) expect(role['Properties']['ManagedPolicyArns']).toBeUndefined();
  });

  it.each(FunctionIds)('%s runs as its own role, named certflow-<deployment>-<FunctionId>', (functionId) => {
    const fn = certflowFunctions().find((candidate) => candidate.functionId === functionId)!;
    const roleRef = (raw.Resources[fn.logicalId]!.Properties!['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(raw.Resources[roleRef]!.Properties!['RoleName']).toBe(`certflow-${config.name}-${functionId}`);
  });

  it('give every function a different role', () => {
    const roles = certflowFunctions().map((fn) => JSON.stringify(raw.Resources[fn.logicalId]!.Properties!['Role']));
    expect(new Set(roles).size).toBe(FunctionIds.length);
  });

  it('keep role names within IAM\'s 64 characters for the longest deployment name, and tell cut names apart', () => {
    const long = 'a'.repeat(63);
    const other = `${'a'.repeat(62)}b`;
    for (const functionId of FunctionIds) {
      expect(functionRoleName(long, functionId).length).toBeLessThanOrEqual(64);
      expect(functionRoleName(long, functionId).endsWith(`-${functionId}`)).toBe(true);
      expect(functionRoleName(long, functionId)).not.toBe(functionRoleName(other, functionId));
    }
  });
});
