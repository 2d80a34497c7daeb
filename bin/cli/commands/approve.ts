import { userInfo } from 'node:os';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { CompromiseApprovalErrors, CompromiseDetailTypes, CompromiseStates } from '../../../lib/constructs/compromise-states';
import { confirm } from '../confirm';
import { requireArn, workflowTarget } from '../workflows';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';

export interface ApprovalOptions {
  configPath: string;
  local: boolean;
  /** The CompromiseResponse run: its execution ARN, or its name. */
  execution: string;
  /** Against AWS: the CompromiseStateMachineArn output (or CERTFLOW_COMPROMISE_STATE_MACHINE_ARN). */
  stateMachineArn?: string;
  /** Skip the confirmation a terminal gets. */
  yes?: boolean;
  /** Who decides (default cli:<user>); recorded in the execution's history. */
  decidedBy?: string;
}

/** The approval request as the AwaitApproval task sent it (the blast radius, and the token). Read, never trusted further. */
const ApprovalRequestDetail = z.object({
  runId: z.string(),
  taskToken: z.string().min(1).max(2048),
  request: z.object({
    scope: z.string(),
    issuerId: z.string().optional(),
    reportedBy: z.string().optional(),
    services: z.array(z.string()).default([]),
    targets: z.number().optional(),
    serialsToRevoke: z.number().optional(),
  }),
});
type ApprovalRequestDetail = z.infer<typeof ApprovalRequestDetail>;

/**
 * `certflow approve <run>`: lets a CompromiseResponse run that waits for dual control (an
 * `intermediate` report) go on. The task token is read from the run's history (the AwaitApproval
 * task's parameters), as on AWS; SendTaskSuccess is the operator's IAM action.
 */
export async function approve(options: ApprovalOptions, out: Output): Promise<number> {
  return decide(options, out, 'approve');
}

/** `certflow deny <run>`: refuses the report; the run ends Rejected and nothing is changed. */
export async function deny(options: ApprovalOptions, out: Output): Promise<number> {
  return decide(options, out, 'deny');
}

async function decide(options: ApprovalOptions, out: Output, decision: 'approve' | 'deny'): Promise<number> {
  const target = workflowTarget({ configPath: options.configPath, local: options.local, ...(options.stateMachineArn ? { stateMachineArns: { compromise: options.stateMachineArn } } : {}) });
  try {
    const executionArn = options.execution.startsWith('arn:') ? options.execution : `${requireArn(target, 'compromise').replace(':stateMachine:', ':execution:')}:${options.execution}`;
    const described = await target.sfn.send(new DescribeExecutionCommand({ executionArn })).catch((error: Error) => {
      if (error.name === 'ExecutionDoesNotExist') throw new CliError(`no such CompromiseResponse run: ${options.execution}; list them with \`certflow runs --workflow compromise\``, ExitCodes.Usage);
      throw error;
    });
    if (described.status !== 'RUNNING') throw new CliError(`${described.name} is ${described.status}, not waiting for an approval: nothing was sent`, ExitCodes.Refused);
    const pending = await pendingApproval(target.sfn, executionArn);
    if (!pending) throw new CliError(`${described.name} is not waiting for an approval (only an intermediate report does): nothing was sent`, ExitCodes.Refused);
    const { request } = pending;
    const radius = `revoke intermediate ${request.issuerId ?? '(unknown)'}, reissue ${request.targets ?? '?'} targets of ${request.services.length} services (${request.services.join(', ')}), revoke ${request.serialsToRevoke ?? '?'} serials; reported by ${request.reportedBy ?? '(unknown)'}`;
    out.line(`${described.name} waits for an approval: ${radius}`);
    const decidedBy = options.decidedBy ?? `cli:${userInfo().username}`;
    await confirm(decision === 'approve' ? `Approve this response (${radius})?` : 'Deny this report? The run ends Rejected and nothing is changed.', { yes: options.yes ?? false });
    const send = (): Promise<unknown> =>
      decision === 'approve'
        ? target.sfn.send(new SendTaskSuccessCommand({ taskToken: pending.taskToken, output: JSON.stringify({ approvedBy: decidedBy, approvedAt: new Date().toISOString() }) }))
        : target.sfn.send(new SendTaskFailureCommand({ taskToken: pending.taskToken, error: CompromiseApprovalErrors.Denied, cause: `denied by ${decidedBy}` }));
    await send().catch((error: Error) => {
      if (error.name === 'TaskTimedOut' || error.name === 'InvalidToken' || error.name === 'TaskDoesNotExist') {
        throw new CliError(`${described.name} no longer waits for this approval (${error.name}): nothing was changed by this command`, ExitCodes.Refused);
      }
      throw error;
    });
    out.result({ executionArn, decision, decidedBy, request });
    out.line(decision === 'approve' ? `approved ${described.name}: the response goes on (follow it with \`certflow status --workflow compromise ${described.name}\`)` : `denied ${described.name}: it ends Rejected, nothing changed`);
    return ExitCodes.Ok;
  } finally {
    target.sfn.destroy();
  }
}

/** The latest AwaitApproval task of the run, if it has not ended: its request and token. */
async function pendingApproval(sfn: SFNClient, executionArn: string): Promise<ApprovalRequestDetail | undefined> {
  const events = (await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1000 }))).events ?? [];
  for (const event of events) {
    const name = event.stateExitedEventDetails?.name;
    if (event.type === 'TaskStateExited' && name === CompromiseStates.AwaitApproval) return undefined;
    if (event.type !== 'TaskScheduled' || !event.taskScheduledEventDetails?.parameters) continue;
    const parameters = parseJson(event.taskScheduledEventDetails.parameters) as { Entries?: Array<{ DetailType?: string; Detail?: unknown }> } | undefined;
    const entry = parameters?.Entries?.find((candidate) => candidate.DetailType === CompromiseDetailTypes.ApprovalRequested);
    if (!entry) continue;
    const parsed = ApprovalRequestDetail.safeParse(typeof entry.Detail === 'string' ? parseJson(entry.Detail) : entry.Detail);
    return parsed.success ? parsed.data : undefined;
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
