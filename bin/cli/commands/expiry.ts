import { SFNClient, StartExecutionCommand, DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import type { ExpiryReportOutput } from '../../../functions/contracts/expiry';
import { readSandboxState } from '../sandbox-state';
import { runnerForRunningSandbox } from '../local-session';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';

export interface ExpiryOptions {
  configPath: string;
  local: boolean;
  stateMachineArn?: string;
  wait: boolean;
}

/**
 * `certflow expiry`: runs the expiry sweep now. `--local` runs the synthesized state machine on
 * the running sandbox; otherwise StartExecution on the deployed one (the ExpiryStateMachineArn
 * output). It changes nothing; it exits non-zero when an alarm threshold is met.
 */
export async function expiry(options: ExpiryOptions, out: Output): Promise<number> {
  const input = { trigger: 'cli' };
  if (options.local) {
    const runner = runnerForRunningSandbox(readSandboxState({ configPath: options.configPath }), devNull());
    out.progress('running the ExpirySweep state machine on the sandbox');
    const execution = await runner.run(runner.find('ExpiryWorkflow'), input);
    return show(out, execution.name, execution.status, execution.output as ExpiryReportOutput | undefined, execution.error);
  }
  const stateMachineArn = options.stateMachineArn ?? process.env.CERTFLOW_EXPIRY_STATE_MACHINE_ARN;
  if (!stateMachineArn) throw new CliError('--state-machine-arn (or CERTFLOW_EXPIRY_STATE_MACHINE_ARN) is required against AWS: the ExpiryStateMachineArn output of the stack', ExitCodes.Usage);
  const sfn = new SFNClient({});
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  out.line(`started ${started.executionArn}`);
  if (!options.wait) {
    out.result({ executionArn: started.executionArn });
    return ExitCodes.Ok;
  }
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    if (described.status !== 'RUNNING') return show(out, started.executionArn ?? '', described.status ?? 'FAILED', described.output ? (JSON.parse(described.output) as ExpiryReportOutput) : undefined, described.error);
    out.progress(`waiting for ${started.executionArn}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function show(out: Output, name: string, status: string, report: ExpiryReportOutput | undefined, error: string | undefined): number {
  out.result({ execution: name, status, error, ...(report ? { breaches: report.breaches, unhealthy: report.unhealthy, certificates: report.certificates, events: report.events.map((event) => event.detail) } : {}) });
  out.line(`ExpirySweep ${name}: ${status}${error ? ` (${error})` : ''}`);
  if (!report) return ExitCodes.WorkflowFailed;
  out.table([['certificate', 'role', 'copy', 'serial', 'not after', 'days left'], ...report.certificates.map((entry) => [entry.id, entry.role, entry.copy, entry.serial, entry.notAfter, entry.daysLeft.toFixed(2)])]);
  for (const breach of report.breaches) out.line(`${breach.alarm}: ${breach.id}: ${breach.detail}`);
  if (status !== 'SUCCEEDED') return ExitCodes.WorkflowFailed;
  return report.breaches.length ? ExitCodes.WorkflowFailed : ExitCodes.Ok;
}

/** Handler log lines are for CloudWatch; on the CLI they would bury the answer. */
function devNull(): NodeJS.WritableStream {
  const { Writable } = require('node:stream') as typeof import('node:stream');
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}
