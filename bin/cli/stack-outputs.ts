import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { EnvNames } from '../../functions/contracts/env';
import { CliError, ExitCodes } from './cli-error';

/**
 * `--stack <name>`: the deployed stack's outputs stand in for the ARNs and names a command needs,
 * so none is pasted by hand. Each output fills the environment variable the commands already read
 * (a flag or a variable set by the operator still wins).
 */
export const STACK_OUTPUT_ENV: Readonly<Record<string, string>> = {
  UnsealStateMachineArn: 'CERTFLOW_UNSEAL_STATE_MACHINE_ARN',
  RotationStateMachineArn: 'CERTFLOW_ROTATION_STATE_MACHINE_ARN',
  CompromiseStateMachineArn: 'CERTFLOW_COMPROMISE_STATE_MACHINE_ARN',
  ExpiryStateMachineArn: 'CERTFLOW_EXPIRY_STATE_MACHINE_ARN',
  EventBusName: 'CERTFLOW_EVENT_BUS',
  // vault-init and pause|resume read the functions' own variable names (functions/contracts/env.ts).
  ShareTableName: EnvNames.ShareTable,
  LedgerTableName: EnvNames.LedgerTable,
  UnsealKeyArn: EnvNames.UnsealKeyId,
  // `plan --stack` invokes this function with a dry-run input.
  PlanFunctionName: 'CERTFLOW_PLAN_FUNCTION',
};

export async function loadStackOutputs(stackName: string, client: CloudFormationClient = new CloudFormationClient({})): Promise<Record<string, string>> {
  let outputs: Array<{ OutputKey?: string; OutputValue?: string }>;
  try {
    const described = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = described.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (/does not exist/.test(message)) {
      throw new CliError(`no stack ${stackName} in ${(await client.config.region()) || 'this region'}: deploy it first, or pass --region/--profile for where it is`, ExitCodes.Environment);
    }
    throw error;
  } finally {
    client.destroy();
  }
  const applied: Record<string, string> = {};
  for (const output of outputs) {
    const variable = output.OutputKey ? STACK_OUTPUT_ENV[output.OutputKey] : undefined;
    if (!variable || !output.OutputValue) continue;
    process.env[variable] ??= output.OutputValue;
    applied[variable] = process.env[variable]!;
  }
  return applied;
}
