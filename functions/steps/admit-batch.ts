import type { Target } from '../contracts/targets';
import type { RefusedCandidate } from '../contracts/target-policy';
import { TargetRefusedError } from '../contracts/errors';
import { defaultKeyAlgorithmOf, recheckTarget } from '../domain/target-policy';
import type { Log } from '../ports/log';
import type { RotationRuntime } from './rotation-deps';

/**
 * A batch loaded from the ledger, re-checked against the target policy before any step acts on
 * it (DESIGN.md Authority): the ledger table is input like any other, so each item is replaced by
 * the policy's own target, and an item the policy does not declare exactly is refused.
 */
export function admitBatch(runtime: RotationRuntime, targets: readonly Target[], log: Log): { admitted: Target[]; refused: RefusedCandidate[] } {
  const admitted: Target[] = [];
  const refused: RefusedCandidate[] = [];
  const keyAlgorithm = defaultKeyAlgorithmOf(runtime.fanout.settings);
  for (const target of targets) {
    const check = recheckTarget(runtime.policy, target, keyAlgorithm);
    if ('target' in check) admitted.push(check.target);
    else {
      refused.push(check.refused);
      log.warn('ledger target refused by the target policy', { ...check.refused });
    }
  }
  return { admitted, refused };
}

/**
 * The same, for steps that write or dial (renew, check, verify): one refused item stops the
 * batch before anything is touched. A forged ledger item means someone other than certflow wrote
 * the table: failing loudly (a terminal error, so the run alarms) beats renewing around it.
 */
export function admitWholeBatch(runtime: RotationRuntime, batchId: string, targets: readonly Target[], log: Log): Target[] {
  const { admitted, refused } = admitBatch(runtime, targets, log);
  if (refused.length) {
    throw new TargetRefusedError(`batch ${batchId}: ${refused.map((entry) => `${entry.object} ${entry.reason} (${entry.detail})`).join('; ')}`, {
      details: { batchId, refused: refused.length, reason: refused[0]!.reason },
    });
  }
  return admitted;
}
