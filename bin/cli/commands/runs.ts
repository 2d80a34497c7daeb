import { ListExecutionsCommand, type ExecutionListItem } from '@aws-sdk/client-sfn';
import { ExitCodes } from '../cli-error';
import type { Output } from '../output';
import { requireArn, workflowTarget, WORKFLOWS, WORKFLOW_NAMES, type WorkflowName } from '../workflows';

export interface RunsOptions {
  configPath: string;
  local: boolean;
  /** Only this workflow; every workflow whose state machine is known otherwise. */
  workflow?: WorkflowName;
  limit: number;
  stateMachineArn?: string;
}

export interface RunListing {
  workflow: string;
  name: string;
  status: string;
  startDate?: string;
  stopDate?: string;
  executionArn: string;
}

/**
 * `certflow runs`: the latest executions of the Unseal, Rotation and Compromise workflows, newest
 * first (ListExecutions). Names are whole, so each can be given to `certflow status`.
 */
export async function runs(options: RunsOptions, out: Output): Promise<number> {
  const target = workflowTarget({ ...options, ...(options.workflow && options.stateMachineArn ? { stateMachineArns: { [options.workflow]: options.stateMachineArn } } : {}) });
  try {
    const workflows = options.workflow ? [options.workflow] : WORKFLOW_NAMES.filter((name) => target.stateMachineArns[name]);
    if (workflows.length === 0) requireArn(target, 'rotation');
    const listings: RunListing[] = [];
    for (const workflow of workflows) {
      const stateMachineArn = requireArn(target, workflow);
      const page = await target.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: options.limit }));
      listings.push(...(page.executions ?? []).map((execution) => listing(WORKFLOWS[workflow].title, execution)));
    }
    listings.sort((a, b) => (b.startDate ?? '').localeCompare(a.startDate ?? ''));
    const shown = listings.slice(0, options.limit);
    out.result(shown);
    if (shown.length === 0) out.line('no runs yet');
    else out.table([['workflow', 'run', 'status', 'started', 'took'], ...shown.map((run) => [run.workflow, run.name, run.status, run.startDate?.replace(/\.\d+Z$/, 'Z') ?? '', took(run)])]);
    return ExitCodes.Ok;
  } finally {
    target.sfn.destroy();
  }
}

function listing(workflow: string, execution: ExecutionListItem): RunListing {
  return {
    workflow,
    name: execution.name ?? '',
    status: execution.status ?? 'UNKNOWN',
    executionArn: execution.executionArn ?? '',
    ...(execution.startDate ? { startDate: execution.startDate.toISOString() } : {}),
    ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
  };
}

function took(run: RunListing): string {
  if (!run.startDate || !run.stopDate) return run.status === 'RUNNING' ? 'running' : '';
  const ms = Date.parse(run.stopDate) - Date.parse(run.startDate);
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
