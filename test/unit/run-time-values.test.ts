import type { SSMClient } from '@aws-sdk/client-ssm';
import { resolveRunTimeValues } from '../../functions/adapters/run-time-values';
import { ConfigError } from '../../functions/contracts/errors';
import { onceAsync } from '../../functions/handlers/kit/handler-kit';

/** An SSM client that answers GetParameter from a map, or fails as AWS does. */
function fakeSsm(values: Record<string, string>, failure?: Error): SSMClient & { names: string[] } {
  const names: string[] = [];
  return {
    names,
    send: async (command: { input: { Name: string } }) => {
      names.push(command.input.Name);
      if (failure) throw failure;
      const value = values[command.input.Name];
      if (value === undefined) throw Object.assign(new Error('not found'), { name: 'ParameterNotFound', $metadata: { httpStatusCode: 400 } });
      return { Parameter: { Name: command.input.Name, Value: value } };
    },
  } as unknown as SSMClient & { names: string[] };
}

describe('run-time values read at cold start', () => {
  it('reads each parameter the environment names into its variable, and keeps the rest of the environment', async () => {
    const ssm = fakeSsm({ '/certflow/x/vault-nodes': '[{"id":"vault-0","url":"https://v0:8200"}]', '/certflow/x/vault-address': 'https://vault:8200' });
    const env = await resolveRunTimeValues({ CERTFLOW_VAULT_NODES_PARAMETER: '/certflow/x/vault-nodes', CERTFLOW_VAULT_ADDRESS_PARAMETER: '/certflow/x/vault-address', OTHER: 'kept' }, ssm);
    expect(env).toMatchObject({ CERTFLOW_VAULT_NODES: '[{"id":"vault-0","url":"https://v0:8200"}]', CERTFLOW_VAULT_ADDRESS: 'https://vault:8200', OTHER: 'kept' });
    expect(ssm.names.sort()).toEqual(['/certflow/x/vault-address', '/certflow/x/vault-nodes']);
  });

  it('keeps a value given directly and reads nothing for it (the CLI against AWS builds its environment from the config)', async () => {
    const ssm = fakeSsm({});
    const env = await resolveRunTimeValues({ CERTFLOW_VAULT_ADDRESS: 'https://direct:8200', CERTFLOW_VAULT_ADDRESS_PARAMETER: '/certflow/x/vault-address' }, ssm);
    expect(env.CERTFLOW_VAULT_ADDRESS).toBe('https://direct:8200');
    expect(ssm.names).toEqual([]);
  });

  it('turns a refused read into a ConfigError that names the parameter, never its value', async () => {
    const denied = Object.assign(new Error('User: x is not authorized to perform: ssm:GetParameter'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    const error = await resolveRunTimeValues({ CERTFLOW_CLUSTERS_PARAMETER: '/certflow/x/clusters' }, fakeSsm({}, denied)).catch((failure: Error) => failure);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('SSM GetParameter /certflow/x/clusters was refused: AccessDeniedException');
  });

  it('builds a cold start\'s dependencies once, and tries again after a failed build instead of keeping the failure', async () => {
    let builds = 0;
    const runtime = onceAsync(async () => {
      builds += 1;
      if (builds === 1) throw new Error('SSM blipped');
      return builds;
    });
    await expect(runtime()).rejects.toThrow('SSM blipped');
    await expect(runtime()).resolves.toBe(2);
    await expect(runtime()).resolves.toBe(2);
    expect(builds).toBe(2);
  });
});
