import { InvalidInputError } from '../../functions/contracts/errors';
import { decideRenewal, renewalTime, serialPosition, type RenewalInput, type RenewalReason } from '../../functions/domain/renewal-policy';

const SECOND = 1000;
const DAY = 86_400 * SECOND;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

/** A 30-day service leaf renewed 10 days before it expires. */
const NOT_BEFORE = new Date('2030-05-01T00:00:00Z');
const NOT_AFTER = new Date('2030-05-31T00:00:00Z');
const RENEWAL = new Date('2030-05-21T00:00:00Z');
const NAMES = ['api.payments.svc', 'api.payments.svc.cluster.local'];
const G2 = 'issuer-g2';
const G1 = 'issuer-g1';

function input(now: Date, overrides: Partial<RenewalInput> = {}, certificate: Partial<NonNullable<RenewalInput['certificate']>> = {}): RenewalInput {
  return {
    certificate: { notBefore: NOT_BEFORE, notAfter: NOT_AFTER, dnsNames: NAMES, issuerId: G2, ...certificate },
    desiredDnsNames: NAMES,
    defaultIssuerId: G2,
    retiringIssuerIds: [G1],
    now,
    renewBeforeSeconds: 10 * 86_400,
    ...overrides,
  };
}

const fresh = at(NOT_BEFORE, DAY);

describe('deciding whether a leaf certificate is due for renewal', () => {
  it.each<[string, RenewalInput, RenewalReason, boolean]>([
    ['a target without a certificate is due', { ...input(fresh), certificate: undefined }, 'DoesNotExist', true],
    ['a day-old certificate from the default issuer with the right names is up to date', input(fresh), 'UpToDate', false],
    ['one second before its renewal time it is up to date', input(at(RENEWAL, -SECOND)), 'UpToDate', false],
    ['exactly at its renewal time it is due', input(RENEWAL), 'RenewalWindow', true],
    ['one second after its renewal time it is due', input(at(RENEWAL, SECOND)), 'RenewalWindow', true],
    ['one second before its notAfter it is renewing, not expired', input(at(NOT_AFTER, -SECOND)), 'RenewalWindow', true],
    ['at its notAfter it is expired', input(NOT_AFTER), 'Expired', true],
    ['one second after its notAfter it is expired', input(at(NOT_AFTER, SECOND)), 'Expired', true],
    ['a fresh certificate is due when renewal is forced', input(fresh, { forced: true }), 'Forced', true],
    ['an expired certificate is reported as expired even when forced', input(NOT_AFTER, { forced: true }), 'Expired', true],
    ['a certificate from a retiring issuer is due', input(fresh, {}, { issuerId: G1 }), 'IssuerRetiring', true],
    ['a certificate from an issuer that is not the default is due', input(fresh, {}, { issuerId: 'issuer-g0' }), 'IssuerNotDefault', true],
    ['forcing is reported before a retiring issuer', input(fresh, { forced: true }, { issuerId: G1 }), 'Forced', true],
    ['a certificate whose issuer is unknown is judged on the other checks only', input(fresh, {}, { issuerId: undefined }), 'UpToDate', false],
    ['a certificate missing a desired name is due', input(fresh, {}, { dnsNames: ['api.payments.svc'] }), 'SanMismatch', true],
    ['a certificate with a name no longer wanted is due', input(fresh, {}, { dnsNames: [...NAMES, 'old.payments.svc'] }), 'SanMismatch', true],
    [
      'names in another order, case, with duplicates or a trailing dot still match',
      input(fresh, {}, { dnsNames: ['API.payments.svc.cluster.local.', 'api.payments.svc', 'api.payments.svc'] }),
      'UpToDate',
      false,
    ],
    ['an issuer problem is reported before a name mismatch', input(fresh, {}, { issuerId: G1, dnsNames: [] }), 'IssuerRetiring', true],
    ['a name mismatch is reported before the renewal window', input(RENEWAL, {}, { dnsNames: [] }), 'SanMismatch', true],
  ])('%s', (_name, given, reason, due) => {
    const decision = decideRenewal(given);
    expect({ reason: decision.reason, due: decision.due }).toEqual({ reason, due });
    expect(decision.detail.length).toBeGreaterThan(0);
  });

  it('returns the renewal time with every decision about an existing certificate', () => {
    expect(decideRenewal(input(fresh)).renewalTime).toEqual(RENEWAL);
    expect(decideRenewal(input(NOT_AFTER)).renewalTime).toEqual(RENEWAL);
  });

  it('returns no renewal time when there is no certificate', () => {
    expect(decideRenewal({ ...input(fresh), certificate: undefined })).not.toHaveProperty('renewalTime');
  });

  it('names what is missing and what is extra in a SAN mismatch', () => {
    expect(decideRenewal(input(fresh, {}, { dnsNames: ['api.payments.svc', 'old.svc'] })).detail).toBe(
      'the DNS names differ from the desired ones: missing api.payments.svc.cluster.local; not wanted old.svc',
    );
  });

  it('names the issuer that is not the default and the one that is', () => {
    expect(decideRenewal(input(fresh, {}, { issuerId: 'issuer-g0' })).detail).toBe('issued by issuer-g0, not by the default issuer issuer-g2');
  });

  it.each<[string, number, number]>([
    ['a negative renewBefore', -1, Date.UTC(2030, 4, 1)],
    ['a renewBefore that is not a number', Number.NaN, Date.UTC(2030, 4, 1)],
    ['a clock that is not a date', 0, Number.NaN],
  ])('rejects %s with a typed error', (_name, renewBeforeSeconds, nowMs) => {
    const run = () => decideRenewal(input(new Date(nowMs), { renewBeforeSeconds }));
    expect(run).toThrow(InvalidInputError);
  });
});

describe('computing the renewal time', () => {
  it.each<[string, Date, Date, number, Date]>([
    ['is renewBefore ahead of notAfter', NOT_BEFORE, NOT_AFTER, 10 * 86_400, RENEWAL],
    ['truncates to whole seconds, never rounding up', NOT_BEFORE, new Date('2030-05-31T00:00:00.750Z'), 10 * 86_400, RENEWAL],
    ['falls back to 2/3 of the lifetime when renewBefore equals the lifetime', NOT_BEFORE, NOT_AFTER, 30 * 86_400, new Date('2030-05-21T00:00:00Z')],
    ['falls back to 2/3 of the lifetime when renewBefore exceeds it', NOT_BEFORE, NOT_AFTER, 45 * 86_400, new Date('2030-05-21T00:00:00Z')],
    ['falls back to 2/3 of the lifetime when renewBefore is zero', NOT_BEFORE, NOT_AFTER, 0, new Date('2030-05-21T00:00:00Z')],
    ['keeps a renewBefore one second shorter than the lifetime', NOT_BEFORE, NOT_AFTER, 30 * 86_400 - 1, new Date('2030-05-01T00:00:01Z')],
    ['truncates a 2/3 point that falls inside a second', new Date('2030-05-01T00:00:00Z'), new Date('2030-05-01T00:00:01Z'), 0, new Date('2030-05-01T00:00:00Z')],
  ])('%s', (_name, notBefore, notAfter, renewBeforeSeconds, expected) => {
    expect(renewalTime(notBefore, notAfter, renewBeforeSeconds)).toEqual(expected);
  });

  it('makes a certificate due at the stored second even when its notAfter has a fraction', () => {
    // Untruncated, the renewal time would be 00:00:00.750 and a run woken at 00:00:00 would skip it.
    const decision = decideRenewal(input(RENEWAL, {}, { notAfter: new Date('2030-05-31T00:00:00.750Z') }));
    expect([decision.reason, decision.renewalTime]).toEqual(['RenewalWindow', RENEWAL]);
  });
});

describe('spreading renewals over the window (renewal jitter)', () => {
  it('moves the renewal time later by the fraction of renewBefore the serial places it at, in whole seconds', () => {
    const decision = decideRenewal(input(fresh, { jitter: { fraction: 0.5, position: 0.5 } }));
    // 10 days of window, half of it usable, the serial halfway: 2.5 days after the unjittered time.
    expect(decision.renewalTime).toEqual(new Date('2030-05-23T12:00:00Z'));
  });

  it('keeps a certificate up to date at its unjittered renewal time when its serial places it later', () => {
    expect(decideRenewal(input(RENEWAL, { jitter: { fraction: 0.5, position: 0.9 } })).reason).toBe('UpToDate');
    expect(decideRenewal(input(RENEWAL, { jitter: { fraction: 0.5, position: 0 } })).reason).toBe('RenewalWindow');
  });

  it('spreads serials issued together over the window, and places one serial the same way every time', () => {
    const serials = ['3a:5f:00:00:00:01', '3a:5f:40:00:00:00', '3a:5f:80:00:00:00', '3a:5f:c0:00:00:00'];
    expect(serials.map(serialPosition)).toEqual([1 / 2 ** 32, 0.25, 0.5, 0.75]);
    expect(serialPosition('3A5F80000000')).toBe(serialPosition('3a:5f:80:00:00:00'));
  });
});
