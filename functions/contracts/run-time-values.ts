import { EnvNames, PkiEnvNames } from './env';
import { RotationEnvNames } from './rotation-env';

/**
 * The settings whose values may change without a deployment (a replaced Vault node, the CA of
 * Vault's listeners, a cluster's endpoint, the declared target policy, the rollout patience): the stack keeps each in an SSM
 * parameter it declares, the function's environment names the parameter (`<VARIABLE>_PARAMETER`),
 * and the function reads it once per cold start with `ssm:GetParameter` on that parameter alone.
 * So the template says where every value comes from, and the sandbox fills in its own addresses
 * by writing the parameters, never by rewriting an environment. Credentials never travel here:
 * a cluster's token is a Secrets Manager secret that the clusters value names by ARN.
 */
export const RunTimeValueNames = [EnvNames.VaultNodes, PkiEnvNames.VaultAddress, EnvNames.VaultCaPem, RotationEnvNames.Clusters, RotationEnvNames.TargetPolicy, RotationEnvNames.MaxRolloutChecks] as const;
export type RunTimeValueName = (typeof RunTimeValueNames)[number];

/** The variable that names the parameter holding `variable`'s value. */
export function parameterVariableOf(variable: RunTimeValueName): string {
  return `${variable}_PARAMETER`;
}

/** The parameter of one run-time value of a deployment: `/certflow/<deployment>/<variable in kebab case>`. */
export function runTimeParameterName(deploymentName: string, variable: RunTimeValueName): string {
  const slug = variable.replace(/^CERTFLOW_/, '').toLowerCase().replace(/_/g, '-');
  return `/certflow/${deploymentName}/${slug}`;
}
