import { fillRunTimeValues, type SandboxRunTimeValues } from '../../sandbox/compose/run-time-values';

/** The SSM parameters a template declared (name -> value), and the writes the sandbox made. */
function fakeServices(declared: Record<string, string>) {
  const values = new Map(Object.entries(declared));
  const writes: string[] = [];
  return {
    writes,
    values,
    services: {
      ssm: { parameterValue: (name: string) => values.get(name), putParameter: (name: string, value: string) => (writes.push(name), values.set(name, value)) },
      secretsManager: { putSecretValue: () => undefined },
    } as never,
  };
}

const VALUES: SandboxRunTimeValues = {
  vaultAddress: 'https://127.0.0.1:8200',
  vaultCaCertificate: 'PEM',
  targetPolicy: {},
  maxRolloutChecks: 25,
  cluster: { server: 'https://127.0.0.1:6443', token: 'token', caData: '' },
};

describe('the run-time values the sandbox fills for a config that discovers its Vault nodes', () => {
  it('fills the template of a discovery config without any nodes parameter', () => {
    const { services, writes, values } = fakeServices({ '/certflow/econgraph/vault-address': 'x', '/certflow/econgraph/vault-ca-pem': 'x' });
    fillRunTimeValues(services, 'econgraph', [], VALUES);
    expect(writes.sort()).toEqual(['/certflow/econgraph/vault-address', '/certflow/econgraph/vault-ca-pem']);
    expect(values.get('/certflow/econgraph/vault-address')).toBe('https://127.0.0.1:8200');
  });

  it('refuses a template that declares the nodes parameter, before writing anything, since its functions would not look for pods', () => {
    const { services, writes } = fakeServices({ '/certflow/econgraph/vault-nodes': '[]', '/certflow/econgraph/vault-address': 'x' });
    expect(() => fillRunTimeValues(services, 'econgraph', [], VALUES)).toThrow(/declares CERTFLOW_VAULT_NODES but the config discovers its Vault nodes/);
    expect(writes).toEqual([]);
  });
});
