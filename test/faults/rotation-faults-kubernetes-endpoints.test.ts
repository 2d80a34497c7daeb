import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { ReadyFleet } from '../../sandbox/compose/fleet';
import { runWithFault, startFaultFleet, type FaultCase } from '../support/fault-matrix';

/**
 * The fault matrix (issue 5): each fault kind injected in each phase where it can occur, on the
 * seed fleet, through the synthesized Rotation state machine. Every run must end Succeeded,
 * RolledBack or (for a held lock) AlreadyRunning. Afterwards every service's served chain
 * validates against every peer's bundle (I1), and a rolled-back run left every Secret and the
 * default issuer exactly as they were (I5).
 */
jest.setTimeout(240_000);

const CASES: FaultCase[] = [
  { fault: 'kubernetes:conflict:times=3', phase: 'canary and fan-out (a 409 storm)', expect: ['Succeeded'] },
  { fault: 'kubernetes:secret-write:times=2', phase: 'canary (Kubernetes 500 on a Secret write)', expect: ['Succeeded', 'RolledBack'] },
  { fault: 'kubernetes:secret-write:after=4,times=6', phase: 'fan-out (Kubernetes 500 on Secret writes, outlasting one retry)', expect: ['Succeeded', 'RolledBack'] },
  { fault: 'kubernetes:rollout:service=backend', phase: 'fan-out (a rollout that never completes)', expect: ['RolledBack'] },
  { fault: 'kubernetes:rollout:service=frontend', phase: 'canary (a rollout that never completes)', expect: ['RolledBack'] },
  { fault: 'endpoint:handshake:service=keycloak', phase: 'verify (a handshake that fails)', expect: ['RolledBack'] },
  { fault: 'endpoint:handshake:service=frontend', phase: 'canary verify (a handshake that fails)', expect: ['RolledBack'] },
];

describe('the Rotation workflow under Kubernetes and endpoint faults', () => {
  let cloud: LocalCloud;
  let fleet: ReadyFleet;
  beforeAll(async () => {
    ({ cloud, fleet } = await startFaultFleet());
  });
  afterAll(async () => cloud?.sandbox.close());

  it.each(CASES)('$fault during $phase ends $expect with trust intact', async (testCase) => {
    if (testCase.fault.startsWith('kms:')) cloud.sandbox.vault.node('vault-1').seal();

    const run = await runWithFault(cloud, fleet, testCase.fault);

    expect({ fault: testCase.fault, outcome: testCase.expect.includes(run.outcome as never) ? 'as expected' : `${run.outcome} (${run.execution.error ?? ''}: ${run.execution.cause?.slice(0, 300) ?? ''})` }).toEqual({
      fault: testCase.fault,
      outcome: 'as expected',
    });
    expect(run.broken).toEqual([]);
    if (run.outcome === 'RolledBack' || run.outcome === 'AlreadyRunning') {
      expect(run.after.defaultIssuer).toBe(run.before.defaultIssuer);
      expect(run.after.secrets).toEqual(run.before.secrets);
    }
    if (run.outcome === 'Succeeded') {
      expect(run.after.defaultIssuer).not.toBe(run.before.defaultIssuer);
      expect(Object.keys(run.after.secrets).filter((name) => run.after.secrets[name] === run.before.secrets[name])).toEqual([]);
    }
    if (testCase.fault === 'lock:held') {
      // The other run still holds its lock: take it back for the cases that follow.
      const { DeleteItemCommand } = await import('@aws-sdk/client-dynamodb');
      await cloud.sandbox.dynamoDbClient.send(
        new DeleteItemCommand({ TableName: cloud.runner.functionEnv('ReleaseStaleLock').CERTFLOW_LEDGER_TABLE!, Key: { pk: { S: 'lock#rotation' }, sk: { S: 'lock' } } }),
      );
    }
  });
});
