import { RestoreIssuerInputSchema } from '../contracts/pki-payloads';
import { restoreIssuer } from '../steps/issuer-switch';
import { pkiHandler } from './kit/pki-handler';

/** RestoreIssuer (rollback): `{runId, previousDefault, newIssuerId?}` -> issuance back on the previous issuer. */
export const makeHandler = pkiHandler('RestoreIssuer', RestoreIssuerInputSchema, restoreIssuer);
export const handler = makeHandler(process.env);
