import type { ExpiryReportInput, ExpiryReportOutput } from '../contracts/expiry';
import { Metrics } from '../contracts/functions';
import { decideExpiry, type ExpiryThresholds } from '../domain/expiry-decision';
import type { Clock } from '../ports/clock';
import type { Log } from '../ports/log';
import type { MetricsSink } from '../ports/metrics-sink';

export interface ExpiryReportDeps {
  clusterId: string;
  thresholds: ExpiryThresholds;
  metrics: MetricsSink;
  clock: Clock;
  log: Log;
}

/**
 * ExpiryReport (decide, then publish): days to expiry of every certificate as gauges, the
 * `Certificate Expiring` events (returned: the state machine puts them on the bus) and the alarm
 * thresholds met. Gauges are the alarms' input; the thresholds in the output say the same in words.
 */
export function reportExpiry(deps: ExpiryReportDeps, input: ExpiryReportInput): ExpiryReportOutput {
  const decided = decideExpiry(input, deps.thresholds, deps.clock.now());
  const cluster = { [Metrics.ClusterDimension]: deps.clusterId };
  for (const certificate of decided.certificates) {
    if (certificate.role === 'leaf') {
      deps.metrics.gauge(Metrics.TargetDaysToExpiry, certificate.daysLeft, { ...cluster, [Metrics.TargetDimension]: certificate.id, [Metrics.CopyDimension]: certificate.copy });
    } else {
      deps.metrics.gauge(Metrics.IssuerDaysToExpiry, certificate.daysLeft, { ...cluster, [Metrics.IssuerRoleDimension]: certificate.role, [Metrics.IssuerDimension]: certificate.id });
    }
  }
  if (decided.soonest.leaf !== undefined) deps.metrics.gauge(Metrics.SoonestLeafDaysToExpiry, decided.soonest.leaf, cluster);
  for (const role of ['root', 'intermediate', 'mesh'] as const) {
    const days = decided.soonest[role];
    if (days !== undefined) deps.metrics.gauge(Metrics.SoonestIssuerDaysToExpiry, days, { ...cluster, [Metrics.IssuerRoleDimension]: role });
  }
  deps.metrics.gauge(Metrics.UnhealthyTargets, decided.unhealthy.length, cluster);
  deps.metrics.flush();
  const events = decided.events.map((event) => ({ ...event, detail: { ...event.detail, runId: input.runId } }));
  deps.log.info('expiry reported', { events: events.length, breaches: decided.breaches.map((breach) => [breach.alarm, breach.id]), unhealthy: decided.unhealthy.length });
  return { runId: input.runId, trigger: input.trigger, ...decided, events };
}
