import { readFileSync } from 'node:fs';
import { makeHandler as makeDiscover } from '../../functions/handlers/unseal-discover.handler';
import { makeHandler as makeNode } from '../../functions/handlers/unseal-node.handler';
import { makeHandler as makeReport } from '../../functions/handlers/unseal-report.handler';
import { InvalidInputError } from '../../functions/contracts/errors';

/**
 * The handlers' edge: every bad payload is an InvalidInputError naming the field, raised before
 * any client is built or any node is contacted (the environment here points nowhere).
 */
const env = {
  CERTFLOW_VAULT_CLUSTER_ID: 'econgraph-vault',
  CERTFLOW_VAULT_NODES: JSON.stringify([{ id: 'vault-0', url: 'https://127.0.0.1:9' }]),
  // The example CA of the seed config: the environment must pin one, and nothing is contacted here.
  CERTFLOW_VAULT_CA_PEM: (JSON.parse(readFileSync('config/econgraph.json', 'utf8')) as { vault: { caCertificate: string } }).vault.caCertificate,
  CERTFLOW_VAULT_THRESHOLD: '3',
  CERTFLOW_VAULT_SHARES: '5',
  CERTFLOW_UNSEAL_KEY_ID: 'alias/certflow-unseal',
  CERTFLOW_SHARE_TABLE: 'shares',
  AWS_REGION: 'us-east-1',
};

describe('the unseal handlers refuse bad payloads with a typed error naming the field', () => {
  it.each([
    ['UnsealDiscover without a run id', () => makeDiscover(env)({ request: {} }), /runId/],
    ['UnsealDiscover with a run id that is not an execution name', () => makeDiscover(env)({ runId: 'a b', request: {} }), /runId/],
    ['UnsealDiscover with an unknown trigger', () => makeDiscover(env)({ runId: 'r1', request: { trigger: 'cron' } }), /request\.trigger/],
    ['UnsealDiscover with an unexpected request field', () => makeDiscover(env)({ runId: 'r1', request: { shares: ['x'] } }), /request/],
    ['UnsealNode without a node', () => makeNode(env)({ runId: 'r1' }), /node/],
    ['UnsealNode with a node URL that is not a URL', () => makeNode(env)({ runId: 'r1', node: { id: 'vault-0', url: 'vault-0' } }), /node\.url/],
    ['UnsealReport with results that are not a list', () => makeReport(env)({ runId: 'r1', trigger: 'cli', results: 'all good' }), /results/],
  ])('%s', async (_name, call, field) => {
    const failure = call();
    await expect(failure).rejects.toBeInstanceOf(InvalidInputError);
    await expect(failure).rejects.toThrow(field);
  });

  it('refuses a node that is not configured, so a payload cannot aim the shares at another URL', async () => {
    const call = makeNode(env)({ runId: 'r1', node: { id: 'vault-0', url: 'https://attacker.example:8200' } });
    await expect(call).rejects.toMatchObject({ name: 'NodeNotFoundError' });
  });

  it.each([
    ['an http:// node URL', { CERTFLOW_VAULT_NODES: JSON.stringify([{ id: 'vault-0', url: 'http://127.0.0.1:9' }]) }, /CERTFLOW_VAULT_NODES/],
    ['no pinned Vault CA', { CERTFLOW_VAULT_CA_PEM: undefined }, /CERTFLOW_VAULT_CA_PEM/],
  ])('refuses to start with %s in its environment, naming the variable and contacting nothing', async (_name, change, variable) => {
    const call = makeDiscover({ ...env, ...change } as Record<string, string>)({ runId: 'r1', request: {} });
    await expect(call).rejects.toThrow(variable);
  });

  it('refuses to start when its environment is invalid, naming the variable', async () => {
    const call = makeDiscover({ ...env, CERTFLOW_VAULT_NODES: 'not json' })({ runId: 'r1', request: {} });
    await expect(call).rejects.toThrow(/CERTFLOW_VAULT_NODES/);
  });
});
