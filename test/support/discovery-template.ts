import { EnvNames } from '../../functions/contracts/env';
import { RotationEnvNames } from '../../functions/contracts/rotation-env';
import { parameterVariableOf, runTimeParameterName } from '../../functions/contracts/run-time-values';
import type { CertflowConfig } from '../../lib/config';
import type { CfnTemplate } from '../../sandbox/runner/template-resolver';

type Resource = { Type: string; Properties?: Record<string, any> };
type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

/**
 * The run's synthesized template as lib/certflow-stack.ts makes it for a config with
 * `vault.discovery` instead of `vault.nodes`, derived rather than synthesized.
 *
 * Why derived: a second synthesis costs about 3 s without bundling (test/infra/config-secrets.test.ts)
 * plus loading aws-cdk-lib into the worker, and 30-60 s with its bundles on a fresh clone, more than
 * the whole test-time budget of this item. The bundles do not depend on the config (it reaches the
 * functions only through their environment), so the run's bundles are the ones a discovery
 * synthesis would make. What the stack changes for discovery is exactly this (certflow-stack.ts,
 * `unsealEnvironment` and the `grantSecretReads` of the unseal functions):
 * - every function that had the Vault nodes parameter instead gets `CERTFLOW_VAULT_DISCOVERY` (the
 *   config's JSON) and the Clusters parameter, and may read that parameter;
 * - the unseal functions may read the discovery cluster's token secret (as the rotation functions do);
 * - there is no Vault nodes parameter, and no grant on it.
 * Each change is made on the template's own resources (the grants copied from a rotation function's
 * policy), and the derivation throws when something it expects is missing, so a change in the stack
 * makes it fail rather than drift silently.
 */
export function discoveryTemplate(source: CfnTemplate, config: CertflowConfig): CfnTemplate {
  const discovery = config.vault.discovery;
  if (!discovery) throw new Error('discoveryTemplate needs a config with vault.discovery');
  const template = structuredClone(source) as CfnTemplate & { Resources: Record<string, Resource> };
  const resources = template.Resources;
  const parameterId = (variable: string) => {
    const name = runTimeParameterName(config.name, variable as never);
    const entry = Object.entries(resources).find(([, resource]) => resource.Type === 'AWS::SSM::Parameter' && resource.Properties?.['Name'] === name);
    if (!entry) throw new Error(`the template declares no parameter ${name}`);
    return entry[0];
  };
  const nodesId = parameterId(EnvNames.VaultNodes);
  const clustersId = parameterId(RotationEnvNames.Clusters);
  const nodesVariable = parameterVariableOf(EnvNames.VaultNodes);
  const clustersVariable = parameterVariableOf(RotationEnvNames.Clusters);

  const policiesOf = (functionResource: Resource) => {
    const roleId = functionResource.Properties!['Role']['Fn::GetAtt'][0] as string;
    return Object.values(resources).filter((resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties!['Roles']).includes(JSON.stringify({ Ref: roleId })));
  };
  const statementsOf = (functionResource: Resource): Statement[] => policiesOf(functionResource).flatMap((policy) => policy.Properties!['PolicyDocument']['Statement'] as Statement[]);
  const functions = Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
  const variablesOf = (resource: Resource) => resource.Properties!['Environment']['Variables'] as Record<string, unknown>;

  // The cluster-secret grants of a function that already reaches the cluster (a rotation function).
  const donor = functions.find((resource) => variablesOf(resource)[clustersVariable] !== undefined && variablesOf(resource)[nodesVariable] !== undefined);
  if (!donor) throw new Error('no function of the template reads both the Vault nodes and the clusters');
  const secretGrants = statementsOf(donor).filter(
    (statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue') || (JSON.stringify(statement.Condition ?? {}).includes('secretsmanager.') && [statement.Action].flat().includes('kms:Decrypt')),
  );
  if (secretGrants.length === 0) throw new Error(`${String(variablesOf(donor)['CERTFLOW_FUNCTION'])} has no cluster-secret grant to copy`);

  for (const resource of functions) {
    const variables = variablesOf(resource);
    if (variables[nodesVariable] === undefined) continue;
    const hadClusters = variables[clustersVariable] !== undefined;
    delete variables[nodesVariable];
    variables[EnvNames.VaultDiscovery] = JSON.stringify(discovery);
    variables[clustersVariable] = { Ref: clustersId };
    const policies = policiesOf(resource);
    for (const policy of policies) {
      const statements = policy.Properties!['PolicyDocument']['Statement'] as Statement[];
      for (const statement of statements) {
        if (!JSON.stringify(statement.Resource).includes(JSON.stringify({ Ref: nodesId }))) continue;
        const readsNodes = (entry: unknown) => JSON.stringify(entry).includes(JSON.stringify({ Ref: nodesId }));
        const entries = [statement.Resource].flat();
        statement.Resource = hadClusters
          ? entries.filter((entry) => !readsNodes(entry))
          : entries.map((entry) => (readsNodes(entry) ? JSON.parse(JSON.stringify(entry).replace(JSON.stringify({ Ref: nodesId }), JSON.stringify({ Ref: clustersId }))) : entry));
      }
      if (!hadClusters && policy === policies.find((candidate) => candidate.Properties!['PolicyName'] !== undefined && JSON.stringify(candidate).includes('ssm:GetParameter'))) statements.push(...structuredClone(secretGrants));
    }
    if (!hadClusters && !statementsOf(resource).some((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))) {
      throw new Error(`${String(variables['CERTFLOW_FUNCTION'])}: found no policy to add the cluster-secret grant to`);
    }
  }
  delete resources[nodesId];
  if (JSON.stringify(template).includes(JSON.stringify({ Ref: nodesId }))) throw new Error(`something else in the template still names ${nodesId}`);
  return template;
}
