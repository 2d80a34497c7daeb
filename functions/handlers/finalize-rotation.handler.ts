import { RotationStateSchema, finalizeRotation } from '../steps/finalize-rotation';
import { rotationHandler } from './kit/rotation-handler';

/** FinalizeRotation: the whole state object (identifiers only) -> the `Rotation Succeeded` detail. */
export const makeHandler = rotationHandler('FinalizeRotation', RotationStateSchema, (input) => input.run.runId, finalizeRotation);
export const handler = makeHandler(process.env);
