import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { ReadyFleet } from '../../sandbox/compose/fleet';
import { readyFleet } from '../../sandbox/compose/fleet';
import { injectFault, parseFault } from '../../sandbox/compose/fault-injection';
import type { LocalExecution } from '../../sandbox/runner/local-runner';
import { snapshot, trustBreaks, type FleetSnapshot } from './invariants';
import { startLocalCloud } from './local-cloud-fixture';

/** One case of the fault matrix: a fault, where it lands, and the outcomes it may end in. */
export interface FaultCase {
  fault: string;
  phase: string;
  /** What a correct certflow must end in; the test fails on any other outcome. */
  expect: Array<'Succeeded' | 'RolledBack' | 'AlreadyRunning' | 'Stopped'>;
}

export interface FaultRun {
  /** Stopped: the run failed before changing anything (preflight), alarmed. */
  outcome: 'Succeeded' | 'RolledBack' | 'AlreadyRunning' | 'Stopped' | 'Other';
  /** How many times the injected fault fired: a case whose fault never fired tests nothing. */
  fired: number;
  execution: LocalExecution;
  before: FleetSnapshot;
  after: FleetSnapshot;
  broken: string[];
}

export async function startFaultFleet(): Promise<{ cloud: LocalCloud; fleet: ReadyFleet }> {
  const cloud = await startLocalCloud();
  try {
    return { cloud, fleet: await readyFleet(cloud) };
  } catch (error) {
    await cloud.sandbox.close();
    throw error;
  }
}

/** Injects the fault, runs a forced rotation, heals the fault, and reads the invariants. */
export async function runWithFault(cloud: LocalCloud, fleet: ReadyFleet, fault: string): Promise<FaultRun> {
  const before = await snapshot(cloud, fleet.seed);
  const armed = await injectFault(cloud, parseFault(fault));
  let execution: LocalExecution;
  try {
    execution = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'sandbox', forceIntermediate: true });
  } finally {
    armed.heal();
  }
  const output = execution.output as { outcome?: string } | undefined;
  const outcome =
    execution.status === 'SUCCEEDED' && output?.outcome === 'AlreadyRunning'
      ? 'AlreadyRunning'
      : execution.status === 'SUCCEEDED'
        ? 'Succeeded'
        : execution.error === 'RotationRolledBack'
          ? 'RolledBack'
          : execution.error === 'RotationAborted'
            ? 'Stopped'
            : 'Other';
  // What cert-manager does in answer to the run's last writes belongs to the snapshot.
  await cloud.sandbox.certManager.settled();
  const after = await snapshot(cloud, fleet.seed);
  return { outcome, execution, before, after, fired: armed.firings(execution.history).length, broken: await trustBreaks(cloud, fleet.seed) };
}

/**
 * The fault matrix body shared by the test files (split so jest runs them on both cores): a fleet
 * per file, each case run in turn; the outcome must be one of the case's, I1 must hold, and a
 * rolled-back (or refused) run must leave every Secret, every trust bundle and the default issuer as
 * they were (I5).
 */
export function describeFaultMatrix(title: string, cases: FaultCase[]): void {
  describe(title, () => {
    let cloud: LocalCloud;
    let fleet: ReadyFleet;
    beforeAll(async () => {
      ({ cloud, fleet } = await startFaultFleet());
    });
    afterAll(async () => cloud?.sandbox.close());

    it.each(cases)('$fault during $phase ends $expect with trust intact', async (testCase) => {
      if (testCase.fault.startsWith('kms:')) cloud.sandbox.vault.node('vault-1').seal();

      const run = await runWithFault(cloud, fleet, testCase.fault);

      const outcome = testCase.expect.includes(run.outcome as never) ? 'as expected' : `${run.outcome} (${run.execution.error ?? ''}: ${run.execution.cause?.slice(0, 300) ?? ''})`;
      expect({ fault: testCase.fault, outcome }).toEqual({ fault: testCase.fault, outcome: 'as expected' });
      expect({ fault: testCase.fault, fired: run.fired > 0 }).toEqual({ fault: testCase.fault, fired: true });
      expect(run.broken).toEqual([]);
      if (run.outcome === 'RolledBack' || run.outcome === 'AlreadyRunning' || run.outcome === 'Stopped') {
        expect(run.after.defaultIssuer).toBe(run.before.defaultIssuer);
        expect(run.after.secrets).toEqual(run.before.secrets);
        // I5 covers the trust bundles too: PublishTrust's overlap bundle must be put back.
        expect(run.after.bundles).toEqual(run.before.bundles);
      }
      if (run.outcome === 'Succeeded') {
        expect(run.after.defaultIssuer).not.toBe(run.before.defaultIssuer);
        expect(Object.keys(run.after.secrets).filter((name) => run.after.secrets[name] === run.before.secrets[name])).toEqual([]);
      }
      if (testCase.fault === 'lock:held') {
        // The other run still holds its lock: take it back for the cases that follow.
        await cloud.sandbox.dynamoDbClient.send(
          new DeleteItemCommand({ TableName: cloud.runner.functionEnv('ReleaseStaleLock').CERTFLOW_LEDGER_TABLE!, Key: { pk: { S: 'lock#rotation' }, sk: { S: 'lock' } } }),
        );
      }
    });
  });
}
