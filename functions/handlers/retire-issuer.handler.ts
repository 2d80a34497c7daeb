import { RetireIssuerInputSchema } from '../contracts/pki-payloads';
import { retireIssuer } from '../steps/issuer-switch';
import { pkiHandler } from './kit/pki-handler';

/** RetireIssuer: `{runId, issuerId}` -> the old issuer keeps signing CRLs but issues nothing. */
export const makeHandler = pkiHandler('RetireIssuer', RetireIssuerInputSchema, retireIssuer);
export const handler = makeHandler(process.env);
