import { CompromiseReportInputSchema } from '../contracts/compromise-payloads';
import { reportContained } from '../steps/compromise-report';
import { rotationHandler } from './kit/rotation-handler';

/** CompromiseReport: `{runId, report, reportedAt?, newIssuerId?}` -> the `Compromise Contained` detail, from the ledger. */
export const makeHandler = rotationHandler('CompromiseReport', CompromiseReportInputSchema, (input) => input.runId, reportContained);
export const handler = makeHandler(process.env);
