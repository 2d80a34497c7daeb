import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Env } from '../contracts/env';
import { ConfigError } from '../contracts/errors';
import { parameterVariableOf, RunTimeValueNames } from '../contracts/run-time-values';
import { awsCallError } from './aws/aws-call-error';
import { ssmClientFromEnv } from './aws/ssm-client';

/**
 * The environment a function works with: its own, plus each run-time value (contracts/
 * run-time-values.ts) read from the SSM parameter its `<VARIABLE>_PARAMETER` names. Called once
 * per cold start; the parameters are read in parallel, each with `ssm:GetParameter` on itself. A
 * variable given directly (the CLI against AWS builds its environment from the config) is kept.
 */
export async function resolveRunTimeValues(env: Env, client?: SSMClient): Promise<Env> {
  const wanted = RunTimeValueNames.filter((variable) => env[parameterVariableOf(variable)] !== undefined && env[variable] === undefined);
  if (wanted.length === 0) return env;
  const ssm = client ?? ssmClientFromEnv(env);
  try {
    const values = await Promise.all(wanted.map(async (variable) => [variable, await readParameter(ssm, env[parameterVariableOf(variable)]!)] as const));
    return { ...env, ...Object.fromEntries(values) };
  } finally {
    if (!client) ssm.destroy();
  }
}

async function readParameter(ssm: SSMClient, name: string): Promise<string> {
  let value: string | undefined;
  try {
    value = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  } catch (error) {
    throw awsCallError(`SSM GetParameter ${name}`, error, { parameter: name });
  }
  if (value === undefined) throw new ConfigError(`SSM parameter ${name} has no value`, { details: { parameter: name } });
  return value;
}
