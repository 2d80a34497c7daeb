import { PreflightInputSchema } from '../contracts/rotation-payloads';
import { preflight } from '../steps/preflight';
import { rotationHandler } from './kit/rotation-handler';

/** Preflight: `{runId, startedAt, request}` -> the run context (`$.run`), with the default issuer recorded. */
export const makeHandler = rotationHandler('Preflight', PreflightInputSchema, (input) => input.runId, preflight);
export const handler = makeHandler(process.env);
