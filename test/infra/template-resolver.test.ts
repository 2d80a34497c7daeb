import { lambdaFunctions, listStateMachines, resolveDefinition, resolveValue, TemplateResolveError, type CfnTemplate } from '../../sandbox/runner/template-resolver';

const template: CfnTemplate = {
  Resources: {
    Fn: { Type: 'AWS::Lambda::Function', Properties: { Timeout: 30, Environment: { Variables: { CERTFLOW_FUNCTION: 'UnsealNode', TABLE: { Ref: 'Table' }, KEY: { 'Fn::GetAtt': ['Key', 'Arn'] }, REGION: { Ref: 'AWS::Region' } } } } },
    Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Key: { Type: 'AWS::KMS::Key', Properties: {} },
    Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'certflow-test' } },
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:',
              { Ref: 'AWS::Partition' },
              ':states:::lambda:invoke","Parameters":{"FunctionName":"',
              { 'Fn::GetAtt': ['Fn', 'Arn'] },
              '","Bus":"',
              { Ref: 'Bus' },
              '","Account":"',
              { 'Fn::Sub': '${AWS::AccountId}-${Table}' },
              '"},"End":true}}}',
            ],
          ],
        },
      },
    },
  },
};

describe('the template resolver', () => {
  it('lists the state machines by logical id', () => {
    expect(listStateMachines(template)).toEqual(['Machine']);
  });

  it('evaluates Fn::Join, Ref, Fn::GetAtt and Fn::Sub into a parsed definition with fake ARNs', () => {
    const definition = resolveDefinition(template, 'Machine');
    expect(definition.States['A']).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:Fn', Bus: 'certflow-test', Account: '000000000000-Table' },
      End: true,
    });
  });

  it('takes the region, the account and resource names from the options', () => {
    const definition = resolveDefinition(template, 'Machine', { region: 'eu-west-1', accountId: '111122223333', refs: { Table: 'shares', Fn: 'unseal-node' } });
    expect(definition.States['A']!['Parameters']).toEqual({
      FunctionName: 'arn:aws:lambda:eu-west-1:111122223333:function:unseal-node',
      Bus: 'certflow-test',
      Account: '111122223333-shares',
    });
  });

  it('gives each function the same fake ARN the definitions use, and its raw environment', () => {
    const [fn] = lambdaFunctions(template);
    expect(fn).toEqual({
      logicalId: 'Fn',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:Fn',
      functionId: 'UnsealNode',
      timeoutSeconds: 30,
      environment: {
        CERTFLOW_FUNCTION: 'UnsealNode',
        TABLE: { Ref: 'Table' },
        KEY: 'arn:aws:kms:us-east-1:000000000000:key/Key',
        REGION: 'us-east-1',
      },
    });
  });

  it('resolves environment Refs that options.refs names', () => {
    const [fn] = lambdaFunctions(template, { refs: { Table: 'shares' } });
    expect(fn!.environment['TABLE']).toBe('shares');
  });

  it('refuses what it cannot evaluate, naming it', () => {
    expect(() => resolveValue(template, { 'Fn::ImportValue': 'x' })).toThrow(TemplateResolveError);
    expect(() => resolveValue(template, { Ref: 'Missing' })).toThrow(/Ref Missing/);
    expect(() => resolveDefinition(template, 'Table')).toThrow(/not a state machine/);
  });
});
