import { RotationStateSchema, recordRollback } from '../steps/finalize-rotation';
import { rotationHandler } from './kit/rotation-handler';

/** RecordRollback: the whole state object -> the ledger record and the `Rotation Rolled Back` detail. */
export const makeHandler = rotationHandler('RecordRollback', RotationStateSchema, (input) => input.run.runId, recordRollback);
export const handler = makeHandler(process.env);
