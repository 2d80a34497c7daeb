import { SFNClient } from '@aws-sdk/client-sfn';
import { SANDBOX_CREDENTIALS, SANDBOX_REGION } from '../../sandbox/compose/sandbox-constants';
import { readSandboxState } from './sandbox-state';
import { CliError, ExitCodes } from './cli-error';
import { WORKFLOW_NAMES, type WorkflowName } from './workflow-names';

/**
 * certflow's three workflows as the CLI addresses them: by the logical-id prefix of their state
 * machine in the template (the sandbox), or by the stack output / environment variable that names
 * their ARN (AWS).
 */
export const WORKFLOWS: Record<WorkflowName, { title: string; logicalIdPrefix: string; env: string; output: string }> = {
  unseal: { title: 'Unseal', logicalIdPrefix: 'UnsealWorkflow', env: 'CERTFLOW_UNSEAL_STATE_MACHINE_ARN', output: 'UnsealStateMachineArn' },
  rotation: { title: 'Rotation', logicalIdPrefix: 'RotationWorkflow', env: 'CERTFLOW_ROTATION_STATE_MACHINE_ARN', output: 'RotationStateMachineArn' },
  compromise: { title: 'Compromise', logicalIdPrefix: 'CompromiseWorkflow', env: 'CERTFLOW_COMPROMISE_STATE_MACHINE_ARN', output: 'CompromiseStateMachineArn' },
  expiry: { title: 'ExpirySweep', logicalIdPrefix: 'ExpiryWorkflow', env: 'CERTFLOW_EXPIRY_STATE_MACHINE_ARN', output: 'ExpiryStateMachineArn' },
};
export { WORKFLOW_NAMES, type WorkflowName };

export interface WorkflowTarget {
  sfn: SFNClient;
  /** The state machine of each workflow that is known (all three in the sandbox). */
  stateMachineArns: Partial<Record<WorkflowName, string>>;
  /** How long to wait between DescribeExecution polls. */
  pollMs: number;
}

/**
 * `--local`: the Step Functions emulator of `certflow sandbox` (from its state file). Otherwise the
 * default AWS credential chain, with each workflow's ARN from its flag or environment variable.
 */
export function workflowTarget(options: { configPath: string; local: boolean; stateMachineArns?: Partial<Record<WorkflowName, string>> }): WorkflowTarget {
  if (options.local) {
    const state = readSandboxState({ configPath: options.configPath });
    if (!state.stepFunctionsEndpoint || !state.stateMachineArns) {
      throw new CliError('the running sandbox has no Step Functions endpoint (it predates `certflow rotate`): restart `certflow sandbox`', ExitCodes.Environment);
    }
    const arns: Partial<Record<WorkflowName, string>> = {};
    for (const name of WORKFLOW_NAMES) {
      const arn = Object.entries(state.stateMachineArns).find(([logicalId]) => logicalId.startsWith(WORKFLOWS[name].logicalIdPrefix))?.[1];
      if (arn) arns[name] = arn;
    }
    const sfn = new SFNClient({ region: SANDBOX_REGION, credentials: SANDBOX_CREDENTIALS, endpoint: state.stepFunctionsEndpoint, maxAttempts: 1 });
    // A local run ends in seconds and a DescribeExecution on loopback costs nothing: look often.
    return { sfn, stateMachineArns: arns, pollMs: 100 };
  }
  const arns: Partial<Record<WorkflowName, string>> = {};
  for (const name of WORKFLOW_NAMES) {
    const arn = options.stateMachineArns?.[name] ?? process.env[WORKFLOWS[name].env];
    if (arn) arns[name] = arn;
  }
  return { sfn: new SFNClient(regionFromArns(Object.values(arns))), stateMachineArns: arns, pollMs: 2000 };
}

/** An ARN names its region: use it when the environment names none, so no --region is needed. */
export function regionFromArns(arns: readonly (string | undefined)[]): { region?: string } {
  if (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION) return {};
  const region = arns.map((arn) => arn?.split(':')[3]).find((part) => part && /^[a-z]{2}(-[a-z]+)+-\d$/.test(part));
  return region ? { region } : {};
}

/** Which workflow an execution ARN belongs to, by its state machine's name. */
export function workflowOfExecution(executionArn: string, known: Partial<Record<WorkflowName, string>>): WorkflowName | undefined {
  const stateMachineName = executionArn.split(':')[6];
  for (const name of WORKFLOW_NAMES) {
    const arn = known[name];
    if (arn && arn.split(':')[6] === stateMachineName) return name;
    if (stateMachineName?.startsWith(WORKFLOWS[name].logicalIdPrefix)) return name;
  }
  return undefined;
}

export function requireArn(target: WorkflowTarget, workflow: WorkflowName): string {
  const arn = target.stateMachineArns[workflow];
  if (!arn) {
    const spec = WORKFLOWS[workflow];
    throw new CliError(`the ${spec.title} state machine's ARN is needed against AWS: pass --state-machine-arn (the ${spec.output} output of the stack) or set ${spec.env}`, ExitCodes.Usage);
  }
  return arn;
}
