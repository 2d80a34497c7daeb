import { ActivateIssuerInputSchema } from '../contracts/pki-payloads';
import { activateIssuer } from '../steps/issuer-switch';
import { pkiHandler } from './kit/pki-handler';

/** ActivateIssuer: `{runId, issuerId, expectedPreviousDefault}` -> the default switched, the previous one returned. */
export const makeHandler = pkiHandler('ActivateIssuer', ActivateIssuerInputSchema, activateIssuer);
export const handler = makeHandler(process.env);
