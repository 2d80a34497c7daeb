import type { Clock } from '../ports/clock';
import type { Executions } from '../ports/executions';
import type { Ledger } from '../ports/ledger';
import type { Log } from '../ports/log';

/** The ledger entry of a preemption, under the compromise response's run id. */
export const PreemptLedgerEntry = 'compromise#preempt';

export interface PreemptRotationDeps {
  executions: Executions;
  ledger: Ledger;
  clock: Clock;
}

export interface PreemptRotationInput {
  /** The compromise response's run id (its execution name). */
  runId: string;
}

export interface PreemptRotationOutput {
  stopped: string[];
}

/** The StopExecution cause: names the response, so the stopped run's history says who stopped it. */
export const preemptCause = (runId: string) => `preempted by compromise response ${runId}`;

/**
 * Preempt (DESIGN.md Compromise response, invariant I3): stop every running Rotation execution
 * before the response takes the lock. A stopped rotation is not rolled back; the stale-lock rule
 * releases its lock (which the response overwrites anyway), and what it renewed stays valid. The
 * stopped executions are recorded in the ledger even when there are none, so the run says it
 * looked. Idempotent: a retry lists again and stops only what still runs.
 */
export async function preemptRotation(deps: PreemptRotationDeps, input: PreemptRotationInput, log: Log): Promise<PreemptRotationOutput> {
  const running = await deps.executions.listRunning();
  const cause = preemptCause(input.runId);
  for (const executionArn of running) {
    await deps.executions.stop(executionArn, cause);
    log.info('rotation execution stopped', { executionArn });
  }
  await deps.ledger.record({ runId: input.runId, entry: PreemptLedgerEntry, at: deps.clock.now().toISOString(), fields: { stopped: running, cause } });
  return { stopped: running };
}
