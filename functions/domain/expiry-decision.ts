import type { CertificateExpiringDetail, CertificateSeen, ExpiryBreach, ExpiryReportInput, ExpiryReportOutput, IssuerRole, TargetHealth } from '../contracts/expiry';
import { EXPIRY_EVENT_DAYS, EXPIRY_EVENT_WINDOW_DAYS, ExpiryDetailTypes } from '../contracts/expiry';

/**
 * The expiry sweep's decisions (gather, then decide): from what the sweep saw and the clock, the
 * days left of every certificate, which `Certificate Expiring` thresholds were crossed since the
 * previous sweep, and which alarm thresholds are met. Pure: the clock is a parameter.
 */
export interface ExpiryThresholds {
  /** A leaf at or under this many days raises LeafExpiring (the whitepaper's 7). */
  leafDays: number;
  /** The same for each kind of CA: a CA must be replaced long before its leaves' lifetime runs out. */
  caDays: Readonly<Record<IssuerRole, number>>;
}

const DAY_MS = 86_400_000;

/** Days left, to the hundredth, rounded down (a certificate with 6.999 days left has 6.99, never 7). */
export function daysLeft(notAfter: string, now: Date): number {
  return Math.floor(((Date.parse(notAfter) - now.getTime()) / DAY_MS) * 100) / 100;
}

/**
 * The event threshold a certificate crossed since the previous sweep, if any: days left within
 * (threshold - window, threshold]. A threshold the certificate was born inside of (its lifetime
 * is less than the threshold plus one window) is skipped: every 30-day leaf starts in its 30-day
 * window, and that event would only announce each renewal.
 */
export function crossedThreshold(certificate: CertificateSeen, now: Date): number | undefined {
  const left = daysLeft(certificate.notAfter, now);
  const lifetime = (Date.parse(certificate.notAfter) - Date.parse(certificate.notBefore)) / DAY_MS;
  return EXPIRY_EVENT_DAYS.find((threshold) => threshold + EXPIRY_EVENT_WINDOW_DAYS <= lifetime && left <= threshold && left > threshold - EXPIRY_EVENT_WINDOW_DAYS);
}

/** Healthy targets: their Secret holds a certificate and the endpoint (if any) serves that same one. */
export function isHealthy(health: TargetHealth): boolean {
  return health === 'Healthy' || health === 'NotServed';
}

const CA_ALARMS: Readonly<Record<IssuerRole, ExpiryBreach['alarm']>> = { root: 'RootExpiring', intermediate: 'IntermediateExpiring', mesh: 'MeshCaExpiring' };

/** Every certificate of the sweep with its days left, the events to emit and the alarm thresholds met. */
export function decideExpiry(input: ExpiryReportInput, thresholds: ExpiryThresholds, now: Date): Omit<ExpiryReportOutput, 'runId' | 'trigger'> {
  const certificates: ExpiryReportOutput['certificates'] = [];
  const events: ExpiryReportOutput['events'] = [];
  const breaches: ExpiryBreach[] = [];
  const soonest: ExpiryReportOutput['soonest'] = {};
  const see = (
    seen: CertificateSeen,
    what: { subject: CertificateExpiringDetail['subject']; id: string; service?: string; role: CertificateExpiringDetail['role']; copy: CertificateExpiringDetail['copy']; alarmed: boolean },
  ) => {
    const left = daysLeft(seen.notAfter, now);
    certificates.push({ id: what.id, role: what.role, copy: what.copy, serial: seen.serial, notAfter: seen.notAfter, daysLeft: left });
    const threshold = crossedThreshold(seen, now);
    if (threshold !== undefined) {
      events.push({
        detailType: ExpiryDetailTypes.CertificateExpiring,
        detail: { runId: '', subject: what.subject, id: what.id, ...(what.service ? { service: what.service } : {}), role: what.role, copy: what.copy, serial: seen.serial, notAfter: seen.notAfter, daysLeft: left, thresholdDays: threshold },
      });
    }
    if (!what.alarmed) return;
    soonest[what.role] = Math.min(soonest[what.role] ?? Number.POSITIVE_INFINITY, left);
    const limit = what.role === 'leaf' ? thresholds.leafDays : thresholds.caDays[what.role];
    if (left <= limit) {
      breaches.push({ alarm: what.role === 'leaf' ? 'LeafExpiring' : CA_ALARMS[what.role], id: what.id, detail: `${what.copy} ${what.role} ${seen.serial} has ${left} days left (alarm at ${limit} days or fewer)` });
    }
  };

  for (const target of input.targets) {
    // The Istio plug-in CA sits in a target's Secret but is a CA: it is judged by the mesh threshold.
    const role: CertificateExpiringDetail['role'] = target.kind === 'istio-cacerts' ? 'mesh' : 'leaf';
    const base = { subject: 'target' as const, id: target.id, service: target.service, role, alarmed: true };
    if (target.stored) see(target.stored, { ...base, copy: 'stored' });
    // The served copy is its own certificate only when it differs (a stale workload): else it is the same one.
    if (target.served && target.served.serial !== target.stored?.serial) see(target.served, { ...base, copy: 'served' });
    if (!isHealthy(target.health)) breaches.push({ alarm: 'TargetsUnhealthy', id: target.id, detail: `${target.health}: ${target.detail}` });
  }
  for (const issuer of input.issuers) {
    // A retired or revoked issuer signs no more leaves: its days are shown, its end alarms no one.
    const alarmed = !issuer.revoked && (issuer.issuing || issuer.role === 'root');
    see(issuer.certificate, { subject: 'issuer', id: `${issuer.mount}/${issuer.issuerName || issuer.issuerId}`, role: issuer.role, copy: 'vault', alarmed });
  }
  const unhealthy = input.targets.filter((target) => !isHealthy(target.health)).map((target) => ({ id: target.id, health: target.health, detail: target.detail }));
  return { events, breaches, certificates, unhealthy, soonest };
}
