import type { HistoryEvent } from '../../sandbox/runner/local-runner';
import { failureOf } from '../../sandbox/runner/history-facts';

/** What `simulate` reports of a failed run, read from its history alone. */
function failedAt(state: string, error: string, cause: string): HistoryEvent[] {
  return [
    { type: 'StateEntered', timestamp: 1, state: { name: state, type: 'Task' } },
    { type: 'StateFailed', timestamp: 2, state: { name: state, type: 'Task' }, Error: error, Cause: cause },
  ] as unknown as HistoryEvent[];
}

describe('the failure a run report names', () => {
  it("gives a Lambda task's errorMessage, not its error JSON", () => {
    const history = failedAt('RenewBatch', 'VaultSealedError', JSON.stringify({ errorType: 'VaultSealedError', errorMessage: 'Vault is sealed', trace: ['at x'] }));

    expect(failureOf(history)).toEqual({ state: 'RenewBatch', error: 'VaultSealedError', cause: 'Vault is sealed' });
  });

  it("gives a failed child execution's own error and cause, however long its description", () => {
    const description = {
      ExecutionArn: 'arn:aws:states:us-east-1:000000000000:execution:RotationWave:e8464',
      Name: 'e8464',
      Status: 'FAILED',
      Input: JSON.stringify({ batches: 'x'.repeat(20_000) }),
      Error: 'VerifyTimeoutError',
      Cause: JSON.stringify({ errorType: 'VerifyTimeoutError', errorMessage: 'svc-0042: no handshake within 5000 ms' }),
    };

    const failure = failureOf(failedAt('VerifyWave', 'States.TaskFailed', JSON.stringify(description)));

    expect(failure).toEqual({ state: 'VerifyWave', error: 'States.TaskFailed', cause: 'child execution e8464 FAILED: VerifyTimeoutError: svc-0042: no handshake within 5000 ms' });
  });

  it('keeps a cause that is not JSON as it is', () => {
    expect(failureOf(failedAt('Plan', 'States.Runtime', 'plain words'))?.cause).toBe('plain words');
  });
});
