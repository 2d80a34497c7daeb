import { PlanInputSchema } from '../contracts/rotation-payloads';
import { planRotation } from '../steps/plan-rotation';
import { rotationHandler } from './kit/rotation-handler';

/** PlanRotation: `{run}` -> the plan (`$.plan`); batches are stored in the ledger. */
export const makeHandler = rotationHandler('PlanRotation', PlanInputSchema, (input) => input.run.runId, (runtime, input, log) => planRotation(runtime, input.run, log));
export const handler = makeHandler(process.env);
