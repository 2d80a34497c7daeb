import { PrepareIntermediateInputSchema } from '../contracts/pki-payloads';
import { prepareIntermediate } from '../steps/prepare-intermediate';
import { pkiHandler } from './kit/pki-handler';

/** PrepareIntermediate: `{runId}` -> the run's new (not yet default) intermediate issuer. */
export const makeHandler = pkiHandler('PrepareIntermediate', PrepareIntermediateInputSchema, (deps, input) => prepareIntermediate(deps, input.runId, input.purpose));
export const handler = makeHandler(process.env);
