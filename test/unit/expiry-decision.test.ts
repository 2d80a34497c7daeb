import { crossedThreshold, decideExpiry, daysLeft } from '../../functions/domain/expiry-decision';
import type { IssuerSeen, TargetSeen } from '../../functions/contracts/expiry';

const NOW = new Date('2027-01-10T00:00:00Z');
const DAY = 86_400_000;
/** A certificate issued `lifeDays` before its end, which is `leftDays` after NOW. */
const cert = (lifeDays: number, leftDays: number, serial = 'aa:01') => ({
  serial,
  notBefore: new Date(NOW.getTime() + (leftDays - lifeDays) * DAY).toISOString(),
  notAfter: new Date(NOW.getTime() + leftDays * DAY).toISOString(),
});
const thresholds = { leafDays: 7, caDays: { root: 365, intermediate: 180, mesh: 180 } };
const target = (overrides: Partial<TargetSeen>): TargetSeen => ({ id: 'primary/ns/svc-tls', service: 'svc', kind: 'tls-secret', health: 'Healthy', detail: '', ...overrides });
const issuer = (overrides: Partial<IssuerSeen>): IssuerSeen => ({ mount: 'pki_int', issuerId: 'i1', issuerName: 'int-1', role: 'intermediate', isDefault: true, issuing: true, revoked: false, certificate: cert(1825, 1000), ...overrides });

describe('the expiry decisions', () => {
  it.each([
    ['a 30-day leaf born inside its 30-day window emits nothing', cert(30, 29.5), undefined],
    ['a 90-day certificate that crossed 30 days since yesterday emits the 30-day event', cert(90, 29.5), 30],
    ['a 40-day leaf at 13.5 days emits the 14-day event', cert(40, 13.5), 14],
    ['a leaf at exactly 13 days crossed 14 a day ago and emits nothing', cert(40, 13), undefined],
    ['a leaf at 0.5 days emits the 1-day event', cert(30, 0.5), 1],
    ['an expired certificate emits no threshold event (its alarm says it)', cert(30, -1), undefined],
  ])('%s', (_name, certificate, expected) => {
    expect(crossedThreshold(certificate, NOW)).toBe(expected);
  });

  it('rounds days left down, so 6.999 days never reads as 7', () => {
    expect(daysLeft(new Date(NOW.getTime() + 6.9999 * DAY).toISOString(), NOW)).toBe(6.99);
  });

  it('alarms on a leaf at exactly the leaf threshold, and on a stale served copy of its own', () => {
    const decided = decideExpiry({ runId: 'r', trigger: 't', targets: [target({ stored: cert(30, 20, 'aa:01'), served: cert(30, 7, 'aa:02'), health: 'StaleServedCertificate' })], issuers: [] }, thresholds, NOW);
    expect(decided.breaches.map((breach) => breach.alarm)).toEqual(['LeafExpiring', 'TargetsUnhealthy']);
    expect(decided.soonest.leaf).toBe(7);
    expect(decided.certificates.map((entry) => entry.copy)).toEqual(['stored', 'served']);
  });

  it('shows a retired or revoked intermediate without alarming on it', () => {
    const decided = decideExpiry({ runId: 'r', trigger: 't', targets: [], issuers: [issuer({ issuing: false, certificate: cert(1825, 10) }), issuer({ issuerId: 'i2', revoked: true, certificate: cert(1825, 5) })] }, thresholds, NOW);
    expect(decided.certificates).toHaveLength(2);
    expect(decided.breaches).toEqual([]);
    expect(decided.soonest.intermediate).toBeUndefined();
  });

  it('judges an Istio plug-in CA by the mesh threshold, not the leaf one', () => {
    const decided = decideExpiry({ runId: 'r', trigger: 't', targets: [target({ kind: 'istio-cacerts', id: 'primary/istio-system/cacerts', stored: cert(365, 100), health: 'NotServed' })], issuers: [] }, thresholds, NOW);
    expect(decided.breaches.map((breach) => breach.alarm)).toEqual(['MeshCaExpiring']);
    expect(decided.soonest).toEqual({ mesh: 100 });
  });

  it('counts a missing Secret as unhealthy', () => {
    const decided = decideExpiry({ runId: 'r', trigger: 't', targets: [target({ health: 'SecretMissing', detail: 'gone' })], issuers: [] }, thresholds, NOW);
    expect(decided.unhealthy).toEqual([{ id: 'primary/ns/svc-tls', health: 'SecretMissing', detail: 'gone' }]);
  });
});
