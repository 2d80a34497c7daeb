import { CompromiseLedgerEntries, type CompromiseContainedDetail, type CompromisePlan, type CompromiseReportInput, type CompromiseRevokeOutput } from '../contracts/compromise-payloads';
import { InvalidInputError } from '../contracts/errors';
import type { Log } from '../ports/log';
import type { RotationRuntime } from './rotation-deps';

/**
 * Report (DESIGN.md Compromise response, last step): the `Compromise Contained` detail, built from
 * what the run wrote to the ledger (the plan's blast radius, the revocation read back from the
 * CRLs), so the event says what was done rather than what a payload claims. Recorded in the
 * ledger too. Timings run from when the event was reported (or, without it, the plan) to now.
 */
export async function reportContained(runtime: RotationRuntime, input: CompromiseReportInput, log: Log): Promise<CompromiseContainedDetail> {
  const records = await runtime.ledger.records(input.runId);
  const planRecord = records.find((record) => record.entry === CompromiseLedgerEntries.Plan);
  if (!planRecord) throw new InvalidInputError(`run ${input.runId} has no compromise plan in the ledger: nothing to report as contained`, { details: { runId: input.runId } });
  const plan = planRecord.fields as unknown as CompromisePlan;
  const revoke = records.find((record) => record.entry === CompromiseLedgerEntries.Revoke)?.fields as unknown as (CompromiseRevokeOutput & { issuerId?: string }) | undefined;

  const containedAt = runtime.fanout.clock.now();
  const startedAt = new Date(input.reportedAt ?? planRecord.at);
  const revokedIssuer = revoke?.issuerRevoked ? (revoke.issuerId ?? plan.affected.issuerId) : undefined;
  const detail: CompromiseContainedDetail = {
    runId: input.runId,
    reportedBy: input.report.reportedBy,
    ...(input.report.ticket ? { ticket: input.report.ticket } : {}),
    reason: input.report.reason,
    scope: input.report.scope.kind,
    blastRadius: {
      services: plan.affected.services,
      serialsRevoked: revoke?.revoked ?? [],
      issuerIds: { ...(revokedIssuer ? { revoked: revokedIssuer } : {}), ...(input.newIssuerId ? { new: input.newIssuerId } : {}) },
      backupsDestroyed: revoke?.backupsDestroyed ?? [],
    },
    timings: {
      ...(input.reportedAt ? { reportedAt: new Date(input.reportedAt).toISOString() } : {}),
      containedAt: containedAt.toISOString(),
      // Whole seconds, never negative: a reporter's clock may run ahead of ours.
      seconds: Math.max(0, Math.round((containedAt.getTime() - startedAt.getTime()) / 1000)),
    },
  };
  await runtime.ledger.record({ runId: input.runId, entry: CompromiseLedgerEntries.Contained, at: containedAt.toISOString(), fields: { ...detail } });
  log.info('compromise contained', { scope: detail.scope, services: detail.blastRadius.services.length, serialsRevoked: detail.blastRadius.serialsRevoked.length, seconds: detail.timings.seconds });
  return detail;
}
