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
  expect: Array<'Succeeded' | 'RolledBack' | 'AlreadyRunning'>;
}

export interface FaultRun {
  outcome: 'Succeeded' | 'RolledBack' | 'AlreadyRunning' | 'Other';
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
          : 'Other';
  await new Promise((resolve) => setTimeout(resolve, 100));
  const after = await snapshot(cloud, fleet.seed);
  return { outcome, execution, before, after, broken: await trustBreaks(cloud, fleet.seed) };
}
