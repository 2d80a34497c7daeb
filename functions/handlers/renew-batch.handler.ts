import { BatchTaskInputSchema } from '../contracts/rotation-payloads';
import { renewBatchTask } from '../steps/rotation-batches';
import { rotationHandler } from './kit/rotation-handler';

/** RenewBatch: `{runId, requestedAt, batchId}` -> back up and renew the batch's targets. */
export const makeHandler = rotationHandler('RenewBatch', BatchTaskInputSchema, (input) => input.runId, renewBatchTask);
export const handler = makeHandler(process.env);
