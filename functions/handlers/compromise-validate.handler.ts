import { CompromiseDetailTypes } from '../contracts/compromise';
import type { CompromiseValidateOutput } from '../contracts/compromise-payloads';
import type { Env } from '../contracts/env';
import { reportedAtOf, reportedByOf, validateCompromiseEvent } from '../domain/compromise-gate';
import { systemClock, type Clock } from '../ports/clock';
import { createTelemetry } from '../adapters/aws/telemetry';
import { once, type HandlerOptions, type LambdaHandler } from './kit/handler-kit';

/**
 * CompromiseValidate: the raw event (whatever the rule delivers) -> `{valid, report}` or
 * `{valid: false, reason, detailType: 'Compromise Rejected', rejectedDetail}`. A bad event is
 * data, not an error: this never throws for one, and it builds no runtime (no Vault, no
 * Kubernetes client), so an invalid event cannot change anything (invariant I7).
 */
export const makeHandler = (_env: Env, options: HandlerOptions = {}, clock: Clock = systemClock): LambdaHandler<CompromiseValidateOutput> => {
  const telemetry = once(() => createTelemetry({ functionName: 'CompromiseValidate', ...options }));
  return async (event) => {
    const gate = validateCompromiseEvent(event);
    const reportedAt = reportedAtOf(event);
    const log = telemetry().logger;
    if (gate.valid) {
      log.info('compromise report accepted', { scope: gate.report.scope.kind, reason: gate.report.reason, reportedBy: gate.report.reportedBy });
      return { valid: true, report: gate.report, ...(reportedAt ? { reportedAt } : {}) };
    }
    const reportedBy = reportedByOf(event);
    log.warn('compromise report rejected', { reason: gate.reason, ...(reportedBy ? { reportedBy } : {}) });
    return {
      valid: false,
      reason: gate.reason,
      detailType: CompromiseDetailTypes.Rejected,
      rejectedDetail: { reason: gate.reason, ...(reportedBy ? { reportedBy } : {}), receivedAt: clock.now().toISOString() },
    };
  };
};
export const handler = makeHandler(process.env);
