import { BatchTaskInputSchema } from '../contracts/rotation-payloads';
import { restoreBatchTask } from '../steps/rotation-batches';
import { rotationHandler } from './kit/rotation-handler';

/** RestoreBatch (rollback): the batch's Secrets back from their backups, byte for byte. */
export const makeHandler = rotationHandler('RestoreBatch', BatchTaskInputSchema, (input) => input.runId, restoreBatchTask);
export const handler = makeHandler(process.env);
