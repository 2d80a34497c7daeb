import { parameterVariableOf, runTimeParameterName, type RunTimeValueName } from '../../functions/contracts/run-time-values';
import { resolveValue, type CfnTemplate } from '../../sandbox/runner/template-resolver';

/**
 * A run-time value as the template declares it: the SSM parameter of `variable`, the value it
 * starts with (intrinsics resolved to the resolver's fakes), and whether `logicalId`'s function
 * names it in its environment.
 */
export function runTimeParameter(raw: CfnTemplate, deploymentName: string, variable: RunTimeValueName) {
  const name = runTimeParameterName(deploymentName, variable);
  const entry = Object.entries(raw.Resources).find(([, resource]) => resource.Type === 'AWS::SSM::Parameter' && resource.Properties?.['Name'] === name);
  if (!entry) throw new Error(`the template declares no parameter ${name}`);
  const [logicalId, resource] = entry;
  return {
    logicalId,
    name,
    value: String(resolveValue(raw, resource.Properties!['Value'])),
    /** Whether the function's raw environment names this parameter. */
    namedBy(functionLogicalId: string): boolean {
      const variables = (raw.Resources[functionLogicalId]!.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
      return JSON.stringify(variables[parameterVariableOf(variable)]) === JSON.stringify({ Ref: logicalId });
    },
  };
}
