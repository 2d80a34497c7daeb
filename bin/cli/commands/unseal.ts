import { SFNClient, StartExecutionCommand, DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { regionFromArns } from '../workflows';
import { readSandboxState } from '../sandbox-state';
import { runnerForRunningSandbox } from '../local-session';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';

export interface UnsealOptions {
  /** The deployment config (validated; a local sandbox must have been started with it). */
  configPath: string;
  local: boolean;
  nodeIds?: string[];
  stateMachineArn?: string;
  wait: boolean;
}

interface NodeResult {
  nodeId: string;
  outcome: string;
  sealed?: boolean;
  error?: string;
  message?: string;
}

/**
 * `certflow unseal`: runs the Unseal workflow on demand. `--local` runs the synthesized state
 * machine against a running sandbox; otherwise StartExecution on the deployed one.
 */
export async function unseal(options: UnsealOptions, out: Output): Promise<number> {
  const input = { trigger: 'cli', ...(options.nodeIds?.length ? { nodeIds: options.nodeIds } : {}) };
  if (options.local) {
    const runner = runnerForRunningSandbox(readSandboxState({ configPath: options.configPath }), devNull());
    out.progress('running the Unseal state machine on the sandbox');
    const execution = await runner.run(runner.find('UnsealWorkflow'), input);
    const nodes = ((execution.output as { nodes?: NodeResult[] } | undefined)?.nodes ?? []);
    out.result({ execution: execution.name, status: execution.status, error: execution.error, nodes });
    out.line(`Unseal ${execution.name}: ${execution.status}${execution.error ? ` (${execution.error})` : ''}`);
    out.table([['node', 'outcome', 'sealed', 'error'], ...nodes.map((node) => [node.nodeId, node.outcome, String(node.sealed ?? '?'), node.error ?? ''])]);
    if (execution.status !== 'SUCCEEDED' && nodes.length === 0 && execution.cause) out.line(reason(execution.cause));
    return execution.status === 'SUCCEEDED' ? ExitCodes.Ok : ExitCodes.WorkflowFailed;
  }

  const stateMachineArn = options.stateMachineArn ?? process.env.CERTFLOW_UNSEAL_STATE_MACHINE_ARN;
  if (!stateMachineArn) {
    throw new CliError('--state-machine-arn (or CERTFLOW_UNSEAL_STATE_MACHINE_ARN) is required against AWS: the UnsealStateMachineArn output of the stack', ExitCodes.Usage);
  }
  // The ARN names its region: no --region needed when the environment sets none.
  const sfn = new SFNClient(regionFromArns([stateMachineArn]));
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  const name = started.executionArn?.split(':').at(-1) ?? '';
  out.line(`started Unseal run ${name}${out.wide ? ` (${started.executionArn})` : ''}; follow it with \`certflow status --workflow unseal ${name}\``);
  if (!options.wait) {
    out.result({ executionArn: started.executionArn });
    return ExitCodes.Ok;
  }
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    if (described.status !== 'RUNNING') {
      out.result({ executionArn: started.executionArn, status: described.status, error: described.error, output: described.output ? JSON.parse(described.output) : undefined });
      out.line(`${described.status}${described.error ? ` (${described.error})` : ''}`);
      return described.status === 'SUCCEEDED' ? ExitCodes.Ok : ExitCodes.WorkflowFailed;
    }
    out.progress(`waiting for Unseal run ${name}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** A Lambda failure's Cause is JSON {errorType, errorMessage}; print the message. */
function reason(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorType?: string; errorMessage?: string };
    return parsed.errorMessage ? `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage}` : cause;
  } catch {
    return cause;
  }
}

/** Handler log lines are for CloudWatch; on the CLI they would bury the answer. */
function devNull(): NodeJS.WritableStream {
  const { Writable } = require('node:stream') as typeof import('node:stream');
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}
