import { checkFaultTarget, FaultSyntaxError, parseFault } from '../../sandbox/compose/fault-injection';

/**
 * `--fault` as `certflow simulate` and the fault matrix read it (issue 14): `from=` names the task
 * state that arms the fault, and a fault that could not bite is refused before anything runs.
 */
const SERVICES = ['backend', 'frontend'];
const TASK_STATES = ['RenewCanary', 'RestoreBatch', 'RestoreIssuer'];

describe('fault options', () => {
  it('reads from= with the counts, so after= and times= count from that state', () => {
    expect(parseFault('kubernetes:secret-write:from=RestoreBatch,times=2')).toEqual({ kind: 'kubernetes:secret-write', from: 'RestoreBatch', times: 2 });
  });

  it('knows the stalled cert-manager', () => {
    expect(parseFault('cert-manager:stall')).toEqual({ kind: 'cert-manager:stall' });
  });

  it('accepts from= naming a task state of the run', () => {
    expect(() => checkFaultTarget(parseFault('vault:sealed:from=RestoreIssuer,times=2'), SERVICES, TASK_STATES)).not.toThrow();
  });

  it('refuses from= naming no task state, and says which there are', () => {
    expect(() => checkFaultTarget(parseFault('vault:issue:from=NoSuchState'), SERVICES, TASK_STATES)).toThrow(
      new FaultSyntaxError('fault vault:issue: from=NoSuchState is not a task state of the Rotation (known: RenewCanary, RestoreBatch, RestoreIssuer)'),
    );
  });

  it('refuses from= on a held lock, which is decided before any task runs', () => {
    expect(() => checkFaultTarget(parseFault('lock:held:from=RestoreBatch'), SERVICES, TASK_STATES)).toThrow(FaultSyntaxError);
  });

  it('refuses an empty from=', () => {
    expect(() => parseFault('vault:issue:from=')).toThrow(FaultSyntaxError);
  });
});
