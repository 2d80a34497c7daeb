import { BatchTaskInputSchema } from '../contracts/rotation-payloads';
import { checkBatchTask } from '../steps/rotation-batches';
import { rotationHandler } from './kit/rotation-handler';

/** CheckBatch: one look at a batch's rollouts; `attempt` counts looks; RolloutTimeoutError past the bound. */
export const makeHandler = rotationHandler('CheckBatch', BatchTaskInputSchema, (input) => input.runId, checkBatchTask);
export const handler = makeHandler(process.env);
