import { PlanInputSchema } from '../contracts/rotation-payloads';
import { planRotation } from '../steps/plan-rotation';
import { rotationHandler } from './kit/rotation-handler';

/** PlanRotation: `{run, batchesPerWave}` -> the plan (`$.plan`); batches and waves are stored in the ledger. */
export const makeHandler = rotationHandler('PlanRotation', PlanInputSchema, (input) => input.run.runId, (runtime, input, log) => planRotation(runtime, input.run, log, input.batchesPerWave));
export const handler = makeHandler(process.env);
