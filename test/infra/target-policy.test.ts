import { DEFAULT_CONFIG_PATH } from '../../bin/app';
import { functionsOf } from '../../functions/contracts/functions';
import { RotationEnvNames } from '../../functions/contracts/rotation-env';
import { RotationEnvSchema } from '../../functions/contracts/rotation-env-schema';
import { loadConfig } from '../../lib/config';
import { lambdaFunctions } from '../../sandbox/runner/template-resolver';
import { loadTemplate } from '../support/template';
import { runTimeParameter } from '../support/run-time-parameters';

const config = loadConfig(DEFAULT_CONFIG_PATH);
const raw = loadTemplate();
const variablesOf = (logicalId: string) => (raw.Resources[logicalId]!.Properties as { Environment?: { Variables: Record<string, unknown> } }).Environment?.Variables ?? {};

describe('the target policy in the template', () => {
  it.each(functionsOf('rotation'))('reaches %s exactly as the config declares it, and parses with the functions’ own schema', (functionId) => {
    const fn = lambdaFunctions(raw).find((candidate) => candidate.functionId === functionId)!;
    // The policy is a run-time value: the function names the SSM parameter that holds it.
    const parameter = runTimeParameter(raw, config.name, RotationEnvNames.TargetPolicy);
    expect(parameter.namedBy(fn.logicalId)).toBe(true);
    const text = parameter.value;

    expect(JSON.parse(text)).toEqual(config.kubernetes.targets);
    expect(RotationEnvSchema.shape[RotationEnvNames.TargetPolicy].parse(text)).toEqual(config.kubernetes.targets);
  });

  it('keeps every function environment within Lambda’s 4 KB limit (names and values, with the policy)', () => {
    const sizes = lambdaFunctions(raw).map((fn) => {
      // Tokens (Refs) resolve to ARNs and names of about 100 characters: count them as such.
      const entries = Object.entries(variablesOf(fn.logicalId)).map(([name, value]) => name.length + (typeof value === 'string' ? value.length : 100));
      return { functionId: fn.functionId, bytes: entries.reduce((sum, size) => sum + size, 0) };
    });

    expect(sizes.filter((entry) => entry.bytes > 4096)).toEqual([]);
  });
});
