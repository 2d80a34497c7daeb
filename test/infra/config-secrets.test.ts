import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, DEFAULT_CONFIG_PATH } from '../../bin/app';
import { FunctionIds, functionsOf, vaultIdentityOf, type FunctionId } from '../../functions/contracts/functions';
import { EnvNames, PkiEnvNames } from '../../functions/contracts/env';
import { makeKeys, makeRoot } from '../support/pki-fixtures';
import { runTimeParameter } from '../support/run-time-parameters';
import type { CfnTemplate } from '../../sandbox/runner/template-resolver';

/**
 * Secrets by reference (issue 13 item 4): each secret the config names is readable by exactly the
 * functions whose environment carries it. Synthesized without bundling (no code runs here).
 */
const VAULT_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:certflow/approle-AbC123';
const CLUSTER_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:certflow/kubeconfig-XyZ789';

const scratch = mkdtempSync(join(tmpdir(), 'certflow-secrets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function synthesize(mutate: (config: Record<string, any>) => void): Template {
  const config = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as Record<string, any>;
  mutate(config);
  const configPath = join(scratch, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(configPath, JSON.stringify(config));
  const app = buildApp({ configPath, outdir: join(scratch, 'cdk.out'), bundling: false });
  return Template.fromStack(app.node.children.find((child): child is Stack => child instanceof Stack)!);
}

/** Which functions' roles may call GetSecretValue, and on what. */
function secretReaders(template: Template): Partial<Record<FunctionId, unknown[]>> {
  const raw = template.toJSON() as { Resources: Record<string, { Type: string; Properties: any }> };
  const roleOf = (functionId: FunctionId) =>
    Object.entries(raw.Resources).find(([, resource]) => resource.Type === 'AWS::IAM::Role' && resource.Properties.RoleName === `certflow-econgraph-${functionId}`)?.[0];
  const readers: Partial<Record<FunctionId, unknown[]>> = {};
  for (const functionId of FunctionIds) {
    const roleId = roleOf(functionId);
    const statements = Object.values(raw.Resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
      .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('secretsmanager:')));
    if (statements.length > 0) readers[functionId] = statements.flatMap((statement) => [statement.Resource].flat());
  }
  return readers;
}

describe('secrets and the Vault CA named in the config', () => {
  let caPem: string;
  let template: Template;
  beforeAll(async () => {
    const notBefore = new Date(Date.now() - 60_000);
    caPem = (await makeRoot({ name: 'CN=vault CA', key: await makeKeys('ec'), notBefore, notAfter: new Date(Date.now() + 86_400_000) })).pem;
    template = synthesize((config) => {
      config['vault']['caCertificate'] = caPem;
      config['vault']['auth'] = { method: 'approle', secretArn: VAULT_SECRET };
      config['kubernetes']['clusters'] = [{ name: 'primary', auth: 'kubeconfig-secret', secretArn: CLUSTER_SECRET }];
    });
  });

  it('lets exactly the functions with a Vault identity read the Vault login secret, and only the rotation functions and ExpiryTargets read a cluster secret', () => {
    const readers = secretReaders(template);
    const expected: Partial<Record<FunctionId, unknown[]>> = {};
    const vault = (functionId: FunctionId) => (vaultIdentityOf(functionId) ? [VAULT_SECRET] : []);
    for (const functionId of functionsOf('pki')) expected[functionId] = vault(functionId);
    for (const functionId of functionsOf('rotation')) expected[functionId] = [...vault(functionId), CLUSTER_SECRET];
    // The expiry sweep: each function reads only what its one job needs (ExpiryReport reads neither).
    expected.ExpiryIssuers = vault('ExpiryIssuers');
    expected.ExpiryTargets = [CLUSTER_SECRET];
    expect(readers).toEqual(expected);
    // Only GetSecretValue: no DescribeSecret, ListSecrets or wildcard action.
    const raw = JSON.stringify(template.toJSON());
    expect(new Set(raw.match(/"secretsmanager:[A-Za-z*]+"/g))).toEqual(new Set(['"secretsmanager:GetSecretValue"']));
  });

  it('pins the configured Vault CA in every function that talks to Vault, as a run-time value that starts as the config\'s PEM', () => {
    const raw = template.toJSON() as CfnTemplate;
    const functions = Object.entries(template.findResources('AWS::Lambda::Function')).map(([logicalId, fn]) => ({ logicalId, variables: fn['Properties']['Environment']['Variables'] as Record<string, unknown> }));
    // The node list, the API address and the CA are all read by reference (SSM), like the
    // Kubernetes cluster's caData: the sandbox (or an operator) replaces the CA by writing it.
    const talkToVault = functions.filter(({ variables }) => variables[`${EnvNames.VaultNodes}_PARAMETER`] !== undefined || variables[`${PkiEnvNames.VaultAddress}_PARAMETER`] !== undefined);
    const ca = runTimeParameter(raw, 'econgraph', EnvNames.VaultCaPem);

    expect(talkToVault.length).toBeGreaterThan(10);
    expect(ca.value).toBe(caPem);
    for (const { logicalId, variables } of talkToVault) {
      expect(ca.namedBy(logicalId)).toBe(true);
      expect(variables[EnvNames.VaultCaPem]).toBeUndefined();
    }
  });

  it('grants no secret read at all when Vault login is by IAM and the clusters are EKS', () => {
    const eks = { name: 'primary', auth: 'eks', endpoint: 'https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com', caData: 'Q0E=', region: 'eu-west-1' };
    expect(secretReaders(synthesize((config) => (config['kubernetes']['clusters'] = [eks])))).toEqual({});
  });
});
