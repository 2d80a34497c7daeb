import type { BatchProgress, BatchTaskInput } from '../contracts/rotation-payloads';
import type { RenewBatchOutput, RestoreBatchOutput, VerifyBatchOutput } from '../contracts/fanout-payloads';
import { LedgerConflictError, RolloutTimeoutError, VerificationFailedError } from '../contracts/errors';
import { renewBatch } from './renew-batch';
import { checkBatch } from './check-batch';
import { verifyBatch, type VerifierIdentity } from './verify-batch';
import { restoreBatch } from './restore-batch';
import type { RotationRuntime } from './rotation-deps';
import type { Log } from '../ports/log';
import type { LedgerRecord } from '../ports/ledger';
import { admitBatch, admitWholeBatch } from './admit-batch';

/**
 * The batch tasks of the Rotation state machine: each loads its batch from the ledger (payloads
 * carry batch ids only), runs the Kubernetes step, and records what it did in the ledger.
 */

/** A rollback restarts workloads a second after the run did, so the restart is a new rollout. */
export function rollbackRestartTime(requestedAt: string): string {
  return new Date(new Date(requestedAt).getTime() + 1000).toISOString();
}

export async function renewBatchTask(runtime: RotationRuntime, input: BatchTaskInput, log: Log): Promise<{ batchId: string; renewed: number; serials: Array<{ service: string; oldSerial?: string; newSerial?: string }> }> {
  const targets = await admitted(runtime, input, log);
  const result: RenewBatchOutput = await renewBatch({ ...runtime.fanout, log }, { runId: input.runId, requestedAt: input.requestedAt, targets }, runtime.policy);
  const recorded = await recordOnce(runtime, { runId: input.runId, entry: `batch#${input.batchId}#renew`, at: runtime.fanout.clock.now().toISOString(), fields: { renewed: result.renewed } }, log);
  // A retried attempt finds its batch AlreadyRenewed: the first attempt's record (old and new serials) stands.
  const renewed = (recorded.fields.renewed as RenewBatchOutput['renewed'] | undefined) ?? result.renewed;
  return {
    batchId: input.batchId,
    renewed: renewed.length,
    serials: renewed.map((entry) => ({ service: entry.service, ...(entry.oldSerial ? { oldSerial: entry.oldSerial } : {}), ...(entry.newSerial ? { newSerial: entry.newSerial } : {}) })),
  };
}

export async function checkBatchTask(runtime: RotationRuntime, input: BatchTaskInput, log: Log): Promise<BatchProgress> {
  const targets = await admitted(runtime, input, log);
  const renewed = input.phase === 'rotation' ? await renewedOf(runtime, input) : undefined;
  const requestedAt = input.phase === 'rollback' ? rollbackRestartTime(input.requestedAt) : input.requestedAt;
  const progress = await checkBatch({ ...runtime.fanout, log }, { runId: input.runId, requestedAt, targets, ...(renewed ? { renewed } : {}) });
  const attempt = input.attempt + 1;
  if (progress.restartedNow?.length) {
    // One record per wave (rollout budget): the run's report counts and sizes the waves from these.
    await recordOnce(runtime, { runId: input.runId, entry: `batch#${input.batchId}#wave#${String(attempt).padStart(4, '0')}`, at: runtime.fanout.clock.now().toISOString(), fields: { workloads: progress.restartedNow } }, log);
  }
  if (!progress.done && attempt >= runtime.maxRolloutChecks && input.phase === 'rollback') {
    // A rollback does not fail on a workload that will not roll out: its Secret is already back,
    // and a pod that never restarted still serves the old certificate. VerifyRestored says so.
    log.warn('rollback continues without these rollouts', { batchId: input.batchId, pending: progress.pending });
    return { runId: input.runId, requestedAt: input.requestedAt, batchId: input.batchId, attempt, done: true, exhausted: true, pending: progress.pending.length, phase: input.phase };
  }
  if (!progress.done && attempt >= runtime.maxRolloutChecks) {
    throw new RolloutTimeoutError(`batch ${input.batchId} did not finish after ${attempt} checks: ${progress.pending.map((entry) => `${entry.id} waits for ${entry.waitingFor}`).join('; ')}`, {
      details: { batchId: input.batchId, pending: progress.pending.length },
    });
  }
  return { runId: input.runId, requestedAt: input.requestedAt, batchId: input.batchId, attempt, done: progress.done, exhausted: false, pending: progress.pending.length, phase: input.phase };
}

export async function verifyBatchTask(
  runtime: RotationRuntime,
  input: BatchTaskInput,
  identity: () => Promise<VerifierIdentity>,
  log: Log,
): Promise<{ batchId: string; allValid: boolean; invalid: number }> {
  // The policy's targets, so the probe dials the declared endpoint and never one a ledger item names.
  const targets = await admitted(runtime, input, log);
  // A rollback is verified even when Vault cannot issue the verifier's client certificate.
  const result: VerifyBatchOutput = await verifyBatch({ ...runtime.fanout, log }, { runId: input.runId, targets }, identity, { allowServerOnly: input.phase === 'rollback' });
  await runtime.ledger.record({ runId: input.runId, entry: `batch#${input.batchId}#verify-${input.phase}`, at: runtime.fanout.clock.now().toISOString(), fields: { verdicts: result.verdicts } });
  const invalid = result.verdicts.filter((verdict) => !verdict.valid);
  if (invalid.length && input.phase === 'rotation') {
    throw new VerificationFailedError(`batch ${input.batchId}: ${invalid.map((verdict) => `${verdict.service} ${verdict.reason} (${verdict.detail})`).join('; ')}`, {
      details: { batchId: input.batchId, invalid: invalid.length },
    });
  }
  return { batchId: input.batchId, allValid: invalid.length === 0, invalid: invalid.length };
}

export async function restoreBatchTask(runtime: RotationRuntime, input: BatchTaskInput, log: Log): Promise<{ batchId: string; restored: number }> {
  // A rollback keeps going for the targets the policy declares; a refused item is left alone and recorded.
  const { admitted: targets, refused } = admitBatch(runtime, await runtime.ledger.getBatch(input.runId, input.batchId), log);
  const result: RestoreBatchOutput = await restoreBatch({ ...runtime.fanout, log }, { runId: input.runId, requestedAt: rollbackRestartTime(input.requestedAt), targets });
  const recorded = await recordOnce(runtime, { runId: input.runId, entry: `batch#${input.batchId}#restore`, at: runtime.fanout.clock.now().toISOString(), fields: { restored: result.restored, refused } }, log);
  const restored = (recorded.fields.restored as RestoreBatchOutput['restored'] | undefined) ?? result.restored;
  return { batchId: input.batchId, restored: restored.filter((entry) => entry.restored).length };
}

/**
 * Records a batch step's outcome once. Ledger records are never rewritten, and a retried step
 * (Lambda retried it after an answer was lost, or an operator re-ran it) sees the world its first
 * attempt left, so it describes it differently ("unchanged since its backup" after "restored from
 * it"): the first attempt's record stands and is returned, instead of a LedgerConflictError that
 * would fail the rollback a retry was meant to finish (I4).
 */
async function recordOnce(runtime: RotationRuntime, record: LedgerRecord, log: Log): Promise<LedgerRecord> {
  try {
    await runtime.ledger.record(record);
    return record;
  } catch (error) {
    if (!(error instanceof LedgerConflictError)) throw error;
    const earlier = (await runtime.ledger.records(record.runId)).find((entry) => entry.entry === record.entry);
    if (!earlier) throw error;
    log.info('step already recorded by an earlier attempt; that record stands', { entry: record.entry });
    return earlier;
  }
}

/** The batch from the ledger, each item replaced by the policy's target; any refused item stops the step. */
async function admitted(runtime: RotationRuntime, input: BatchTaskInput, log: Log) {
  const targets = await runtime.ledger.getBatch(input.runId, input.batchId);
  try {
    return admitWholeBatch(runtime, input.batchId, targets, log);
  } catch (error) {
    await runtime.ledger.record({ runId: input.runId, entry: `batch#${input.batchId}#refused`, at: runtime.fanout.clock.now().toISOString(), fields: { error: (error as Error).message } });
    throw error;
  }
}

async function renewedOf(runtime: RotationRuntime, input: BatchTaskInput) {
  const record = (await runtime.ledger.records(input.runId)).find((entry) => entry.entry === `batch#${input.batchId}#renew`);
  return (record?.fields.renewed as RenewBatchOutput['renewed'] | undefined) ?? undefined;
}
