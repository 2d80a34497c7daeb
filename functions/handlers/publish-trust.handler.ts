import { PublishTrustInputSchema } from '../contracts/fanout-payloads';
import { publishTrust } from '../steps/publish-trust';
import { rotationHandler } from './kit/rotation-handler';

/** PublishTrust: `{runId, namespaces, mode}` -> each namespace's trust bundle published (or restored). */
export const makeHandler = rotationHandler('PublishTrust', PublishTrustInputSchema, (input) => input.runId, (runtime, input, log) =>
  publishTrust({ ...runtime.fanout, log }, input),
);
export const handler = makeHandler(process.env);
