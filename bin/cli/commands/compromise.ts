import { declaredServiceNames } from '../../../functions/domain/target-policy';
import { userInfo } from 'node:os';
import { loadConfig } from '../../../lib/config';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { confirm } from '../confirm';
import { requireArn, workflowTarget } from '../workflows';
import { exitCodeOf, printRun, readRunStatus, type RunStatus } from './status';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CompromiseDetailTypes, CompromiseReportSchema, CompromiseSource, type CompromiseReport } from '../../../functions/contracts/compromise';
import { SANDBOX_ACCOUNT, SANDBOX_REGION } from '../../../sandbox/compose/sandbox-constants';
import { reporterRoleArns } from '../../../sandbox/iam/sandbox-identities';
import { credentialsForRole } from '../../../sandbox/iam/role-credentials';
import { readSandboxState } from '../sandbox-state';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';

export interface CompromiseOptions {
  /** The deployment config (validated; a local sandbox must have been started with it). */
  configPath: string;
  local: boolean;
  services?: string[];
  serials?: string[];
  /** The compromised intermediate's issuer id. */
  intermediate?: string;
  reason?: string;
  reportedBy?: string;
  ticket?: string;
  eventBus?: string;
  /** Follow the response the report starts until it ends (Contained, Rejected or failed). */
  wait?: boolean;
  /** Skip the confirmation a terminal gets. */
  yes?: boolean;
}

/**
 * `certflow compromise`: reports a key compromise as the `Compromise Reported` event on the
 * certflow bus. The report is validated with the same schema the response validates with,
 * before anything is sent: a bad flag exits 2 naming the field and puts no event.
 */
export async function compromise(options: CompromiseOptions, out: Output): Promise<number> {
  const detail = compromiseReport(options);
  // The config says which services certflow manages: a report naming another is a typo or worse,
  // and is refused here before anything is sent (the response's gate refuses it again).
  const declared = declaredServiceNames(loadConfig(options.configPath).kubernetes.targets);
  const unknown = (options.services ?? []).filter((service) => !declared.has(service));
  if (unknown.length > 0) {
    throw new CliError(`not a service of ${options.configPath}: ${unknown.join(', ')} (declared: ${[...declared].sort().join(', ')}); nothing was sent`, ExitCodes.Usage);
  }
  await confirm(`Report a compromise of ${describeScope(detail)} (${detail.reason})? certflow will revoke and reissue.`, { yes: options.yes ?? false });
  const { client, bus } = eventBusTarget(options);
  const sentAt = new Date();
  try {
    const put = await client.send(new PutEventsCommand({ Entries: [{ EventBusName: bus, Source: CompromiseSource, DetailType: CompromiseDetailTypes.Reported, Detail: JSON.stringify(detail) }] }));
    const entry = put.Entries?.[0];
    if (!entry?.EventId || put.FailedEntryCount) {
      throw new CliError(`EventBridge did not accept the report: ${entry?.ErrorCode ?? 'no event id'}${entry?.ErrorMessage ? `: ${entry.ErrorMessage}` : ''}`, ExitCodes.Environment);
    }
    const reported = { eventId: entry.EventId, bus, source: CompromiseSource, detailType: CompromiseDetailTypes.Reported, detail };
    if (!options.wait) {
      out.result(reported);
      out.line(`reported: event ${entry.EventId} on ${bus} (${CompromiseDetailTypes.Reported}, ${describeScope(detail)}, reason ${detail.reason})`);
      out.line('Follow the response with `certflow runs --workflow compromise` and `certflow status --workflow compromise`.');
      return ExitCodes.Ok;
    }
    out.line(`reported: event ${entry.EventId} on ${bus}; waiting for the response it starts`);
    const run = await followResponse(options, entry.EventId, sentAt, out);
    out.result({ ...reported, run });
    printRun(run, out, 'Compromise', { document: false });
    const outcome = (run.output as { contained?: { outcome?: string } } | undefined)?.contained?.outcome;
    if (outcome) out.line(`outcome: ${outcome}`);
    return exitCodeOf(run.status);
  } finally {
    client.destroy();
  }
}

/** The event detail from the flags, validated; exactly one scope flag kind. */
export function compromiseReport(options: CompromiseOptions): CompromiseReport {
  const scopes = [options.services?.length ? 'services' : undefined, options.serials?.length ? 'serials' : undefined, options.intermediate !== undefined ? 'intermediate' : undefined].filter(Boolean);
  if (scopes.length !== 1) {
    throw new CliError(`scope: give exactly one of --service <name>..., --serial <serial>... or --intermediate <issuer-id> (got ${scopes.length === 0 ? 'none' : scopes.join(' and ')})`, ExitCodes.Usage);
  }
  if (options.reason === undefined) throw new CliError(`reason: --reason is required, one of the RFC 5280 reasons (keyCompromise, cACompromise, ...)`, ExitCodes.Usage);
  const scope = options.services?.length
    ? { kind: 'services', services: options.services }
    : options.serials?.length
      ? { kind: 'serials', serials: options.serials }
      : { kind: 'intermediate', issuerId: options.intermediate };
  const parsed = CompromiseReportSchema.safeParse({
    scope,
    reason: options.reason,
    reportedBy: options.reportedBy ?? defaultReporter(),
    ...(options.ticket !== undefined ? { ticket: options.ticket } : {}),
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(report)'}: ${issue.message}`);
    throw new CliError(`invalid compromise report, nothing was sent: ${issues.join('; ')}`, ExitCodes.Usage);
  }
  return parsed.data;
}

function eventBusTarget(options: CompromiseOptions): { client: EventBridgeClient; bus: string } {
  if (options.local) {
    const state = readSandboxState({ configPath: options.configPath });
    const endpoint = state.awsEnv.AWS_ENDPOINT_URL_EVENTBRIDGE;
    if (!endpoint || !state.eventBusName) throw new CliError('the running sandbox recorded no certflow bus (it predates `certflow compromise`): restart `certflow sandbox`', ExitCodes.Environment);
    // A report is sent as a named reporter, as a security engineer would after assuming that role:
    // the bus policy refuses everyone else, the sandbox's operator included.
    const reporter = reporterRoleArns(loadConfig(options.configPath).compromise.reporterPrincipals, SANDBOX_ACCOUNT)[0];
    if (!reporter) throw new CliError('the config names no reporter role (compromise.reporterPrincipals): nobody may report on this bus', ExitCodes.Refused);
    return { client: new EventBridgeClient({ region: SANDBOX_REGION, credentials: credentialsForRole(reporter), endpoint, maxAttempts: 1 }), bus: state.eventBusName };
  }
  const bus = options.eventBus ?? process.env.CERTFLOW_EVENT_BUS;
  if (!bus) throw new CliError('--event-bus (or CERTFLOW_EVENT_BUS) is required against AWS: the EventBusName output of the stack', ExitCodes.Usage);
  return { client: new EventBridgeClient({}), bus };
}

/**
 * The CompromiseResponse execution the bus rule started for this event: the rule passes the event
 * as the execution's input, so its id identifies the run. Then follows the run to its end.
 */
async function followResponse(options: CompromiseOptions, eventId: string, sentAt: Date, out: Output): Promise<RunStatus> {
  const target = workflowTarget({ configPath: options.configPath, local: options.local });
  try {
    const stateMachineArn = requireArn(target, 'compromise');
    const described = new Set<string>();
    let executionArn: string | undefined;
    for (let look = 0; !executionArn; look += 1) {
      if (look >= 240) throw new CliError(`no CompromiseResponse run started for event ${eventId}: is the bus rule enabled?`, ExitCodes.Environment);
      if (look) await new Promise((resolve) => setTimeout(resolve, target.pollMs));
      const listed = await target.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 20 }));
      for (const execution of listed.executions ?? []) {
        if (!execution.executionArn || described.has(execution.executionArn) || (execution.startDate && execution.startDate.getTime() < sentAt.getTime() - 60_000)) continue;
        described.add(execution.executionArn);
        const input = (await target.sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }))).input;
        if (eventIdOf(input) === eventId) executionArn = execution.executionArn;
      }
    }
    let run = await readRunStatus(target.sfn, executionArn);
    while (run.status === 'RUNNING') {
      out.progress(`${run.name}: in ${run.current ?? 'its first state'}`);
      await new Promise((resolve) => setTimeout(resolve, target.pollMs));
      run = await readRunStatus(target.sfn, executionArn);
    }
    return run;
  } finally {
    target.sfn.destroy();
  }
}

/** The event id in an execution's input; an input that is not an event (another caller's run) has none. */
function eventIdOf(input: string | undefined): string | undefined {
  try {
    const id = (JSON.parse(input ?? '') as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function defaultReporter(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function describeScope(report: CompromiseReport): string {
  const scope = report.scope;
  if (scope.kind === 'services') return `services ${scope.services.join(', ')}`;
  if (scope.kind === 'serials') return `${scope.serials.length} serial(s)`;
  return `intermediate ${scope.issuerId}`;
}
