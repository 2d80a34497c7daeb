import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { RotationRequestSchema } from '../../../functions/contracts/rotation-payloads';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';
import { printRun, readRunStatus, rotationTarget } from './status';
import { confirm } from '../confirm';

export interface RotateOptions {
  /** The deployment config (validated; a local sandbox must have been started with it). */
  configPath: string;
  local: boolean;
  /** Rotate the intermediate even when it is not due. */
  intermediate: boolean;
  /** Only these services; every target otherwise. */
  services?: string[];
  wait: boolean;
  stateMachineArn?: string;
  /** Skip the confirmation a terminal gets before a forced new intermediate. */
  yes?: boolean;
}

/**
 * `certflow rotate`: StartExecution of the Rotation state machine with a `cli` request, on the
 * running sandbox (`--local`) or on AWS. `--wait` follows it and exits 1 unless it succeeded.
 */
export async function rotate(options: RotateOptions, out: Output): Promise<number> {
  const request = RotationRequestSchema.safeParse({ trigger: 'cli', forceIntermediate: options.intermediate, ...(options.services?.length ? { services: options.services } : {}) });
  if (!request.success) {
    const issue = request.error.issues[0]!;
    throw new CliError(`invalid rotation request: ${issue.path.join('.') || '(request)'}: ${issue.message}`, ExitCodes.Usage);
  }
  if (options.intermediate) await confirm('Force a new intermediate CA now? Every service certificate will be reissued under it.', { yes: options.yes ?? false });
  const target = rotationTarget(options);
  try {
    if (!target.stateMachineArn) {
      throw new CliError('--state-machine-arn (or CERTFLOW_ROTATION_STATE_MACHINE_ARN) is required against AWS: the RotationStateMachineArn output of the stack', ExitCodes.Usage);
    }
    // Only what a caller may ask for: the defaults (forceRenewal false) are the state machine's to apply.
    const input = { trigger: 'cli', forceIntermediate: options.intermediate, ...(options.services?.length ? { services: options.services } : {}) };
    const started = await target.sfn.send(new StartExecutionCommand({ stateMachineArn: target.stateMachineArn, input: JSON.stringify(input) }));
    const executionArn = started.executionArn!;
    // The run's name is what `certflow status <name>` takes; the whole ARN (wider than a line) in -o wide.
    const name = executionArn.split(':').at(-1)!;
    if (!options.wait) {
      out.result({ executionArn, startDate: started.startDate?.toISOString(), input });
      out.line(`started Rotation run ${name}${out.wide ? ` (${executionArn})` : ''}`);
      out.line(`Follow it with \`certflow status ${name}${options.local ? ' --local' : ''} --watch\`.`);
      return ExitCodes.Ok;
    }
    out.line(`started Rotation run ${name}${out.wide ? ` (${executionArn})` : ''}`);
    let run = await readRunStatus(target.sfn, executionArn);
    while (run.status === 'RUNNING') {
      out.progress(`${run.name}: in ${run.current ?? 'its first state'} (${run.phases.filter((phase) => phase.status === 'done').length} phases done)`);
      await new Promise((resolve) => setTimeout(resolve, target.pollMs));
      run = await readRunStatus(target.sfn, executionArn);
    }
    printRun(run, out);
    return run.status === 'SUCCEEDED' ? ExitCodes.Ok : ExitCodes.WorkflowFailed;
  } finally {
    target.sfn.destroy();
  }
}
