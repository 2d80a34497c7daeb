import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { loadStackOutputs, STACK_OUTPUT_ENV } from '../../bin/cli/stack-outputs';
import { EnvNames } from '../../functions/contracts/env';
import { StackOutputs } from '../../lib/certflow-stack';
import { loadTemplate } from '../support/template';

/** `certflow --stack` reads these outputs: each must be one the synthesized stack really has. */
describe('the stack outputs the CLI reads', () => {
  it('are every one an output of the synthesized template, named as the stack names them', () => {
    const outputs = Object.keys((loadTemplate() as { Outputs?: Record<string, unknown> }).Outputs ?? {});

    for (const name of Object.keys(STACK_OUTPUT_ENV)) {
      expect({ name, declared: name in StackOutputs, synthesized: outputs.includes(name) }).toEqual({ name, declared: true, synthesized: true });
    }
  });
});

describe('certflow --stack', () => {
  const variables = Object.values(STACK_OUTPUT_ENV);
  let saved: Record<string, string | undefined>;
  beforeEach(() => {
    saved = Object.fromEntries(variables.map((name) => [name, process.env[name]]));
    for (const name of variables) delete process.env[name];
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  });

  /** A CloudFormation client that answers DescribeStacks from a list of outputs, or fails with `error`. */
  function describing(outputs: Array<{ OutputKey: string; OutputValue: string }>, error?: Error) {
    const sent: unknown[] = [];
    const client = {
      config: { region: async () => 'eu-west-1' },
      destroy() {},
      async send(command: { input: unknown }) {
        sent.push(command.input);
        if (error) throw error;
        return { Stacks: [{ Outputs: outputs }] };
      },
    };
    return { client: client as unknown as CloudFormationClient, sent };
  }

  it('fills the variables vault-init and pause read from the stack\'s outputs, and a variable already set wins', async () => {
    process.env[EnvNames.LedgerTable] = 'ledger-set-by-the-operator';
    const { client, sent } = describing([
      { OutputKey: 'ShareTableName', OutputValue: 'shares-table' },
      { OutputKey: 'LedgerTableName', OutputValue: 'ledger-table' },
      { OutputKey: 'UnsealKeyArn', OutputValue: 'arn:aws:kms:eu-west-1:111122223333:key/k' },
      { OutputKey: 'NotAnOutputCertflowReads', OutputValue: 'ignored' },
    ]);

    await loadStackOutputs('certflow-econgraph', client);

    expect(sent).toEqual([{ StackName: 'certflow-econgraph' }]);
    expect({ shares: process.env[EnvNames.ShareTable], ledger: process.env[EnvNames.LedgerTable], key: process.env[EnvNames.UnsealKeyId] }).toEqual({
      shares: 'shares-table',
      ledger: 'ledger-set-by-the-operator',
      key: 'arn:aws:kms:eu-west-1:111122223333:key/k',
    });
  });

  it('says in one line that the stack does not exist in the region it asked, with exit code 4', async () => {
    const missing = Object.assign(new Error('Stack with id certflow-x does not exist'), { name: 'ValidationError' });

    await expect(loadStackOutputs('certflow-x', describing([], missing).client)).rejects.toMatchObject({
      exitCode: 4,
      message: 'no stack certflow-x in eu-west-1: deploy it first, or pass --region/--profile for where it is',
    });
  });
});
