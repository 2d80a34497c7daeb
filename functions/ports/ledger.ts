import type { Target } from '../contracts/targets';
import type { WaveGroup } from '../contracts/rotation-payloads';

/**
 * The ledger: the run's batch manifest (targets by batch id, so payloads carry ids only), and one
 * record per run and step (who, what, old and new serials and issuers, verdicts, timings).
 */
export interface LedgerRecord {
  runId: string;
  /** e.g. `run`, `step#PrepareIntermediate`, `batch#0003#renew`. */
  entry: string;
  at: string;
  fields: Record<string, unknown>;
}

export interface Ledger {
  putBatch(runId: string, batchId: string, targets: Target[]): Promise<void>;
  getBatch(runId: string, batchId: string): Promise<Target[]>;
  /** One wave's batch ids (WaveManifest), which the RotationWave execution reads itself. */
  putWave(runId: string, group: WaveGroup, index: number, batchIds: readonly string[]): Promise<void>;
  record(record: LedgerRecord): Promise<void>;
  records(runId: string): Promise<LedgerRecord[]>;
}
