import { BatchTaskInputSchema } from '../contracts/rotation-payloads';
import { verifyBatchTask } from '../steps/rotation-batches';
import { verifierIdentity } from '../steps/verifier-identity';
import type { VerifierIdentity } from '../steps/verify-batch';
import type { RotationRuntime } from '../steps/rotation-deps';
import { rotationHandler } from './kit/rotation-handler';

// One client identity per cold start (issued by Vault on first use, never stored).
const identities = new WeakMap<RotationRuntime, () => Promise<VerifierIdentity>>();

/** VerifyBatch: verdicts for a batch; VerificationFailedError during a rotation, a summary during a rollback. */
export const makeHandler = rotationHandler('VerifyBatch', BatchTaskInputSchema, (input) => input.runId, (runtime, input, log) => {
  let identity = identities.get(runtime);
  if (!identity) {
    identity = verifierIdentity(runtime.fanout.pki, runtime.fanout.settings, runtime.namespace, runtime.fanout.clock);
    identities.set(runtime, identity);
  }
  return verifyBatchTask(runtime, input, identity, log);
});
export const handler = makeHandler(process.env);
