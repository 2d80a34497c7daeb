import { CompromiseRevokeInputSchema } from '../contracts/compromise-payloads';
import { revokeCompromised } from '../steps/compromise-revoke';
import { rotationHandler } from './kit/rotation-handler';

/** CompromiseRevoke: `{runId, serials, issuerId?, rootSerial?}` -> revoked, rebuilt CRLs, each serial confirmed on its issuer's CRL. */
export const makeHandler = rotationHandler('CompromiseRevoke', CompromiseRevokeInputSchema, (input) => input.runId, revokeCompromised);
export const handler = makeHandler(process.env);
