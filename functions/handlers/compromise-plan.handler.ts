import { CompromisePlanInputSchema } from '../contracts/compromise-payloads';
import { planCompromise } from '../steps/compromise-plan';
import { rotationHandler } from './kit/rotation-handler';

/** CompromisePlan: `{runId, report}` -> the blast radius (`$.plan`); affected targets go to the ledger as batches `c0001`... */
export const makeHandler = rotationHandler('CompromisePlan', CompromisePlanInputSchema, (input) => input.runId, planCompromise);
export const handler = makeHandler(process.env);
