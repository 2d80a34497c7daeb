import { InvalidInputError } from '../../functions/contracts/errors';
import { decideIntermediateRotation, type IntermediateRotationInput, type IntermediateRotationReason } from '../../functions/domain/intermediate-due';

const SECOND = 1000;
const DAY = 86_400 * SECOND;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

/** A 5-year intermediate (DESIGN.md: root 10 y, intermediate 5 y, services 30 d). */
const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2030-01-01T00:00:00Z');
const LEAF_MAX_TTL = 30 * 86_400;
const RENEW_BEFORE = 10 * 86_400;
const YEARLY = 365 * 86_400;
const DECADE = 10 * YEARLY;

/** The two deadlines, computed independently of the code under test. */
const BY_AGE_YEARLY = new Date('2026-01-01T00:00:00Z');
const BY_LIFE = new Date('2029-11-22T00:00:00Z'); // NOT_AFTER - (30 d + 10 d)

function input(now: Date, overrides: Partial<IntermediateRotationInput> = {}, issuer: Partial<IntermediateRotationInput['issuer']> = {}): IntermediateRotationInput {
  return {
    issuer: { notBefore: NOT_BEFORE, notAfter: NOT_AFTER, isDefault: true, usage: ['read-only', 'issuing-certificates', 'crl-signing', 'ocsp-signing'], ...issuer },
    now,
    rotationPeriodSeconds: YEARLY,
    leafMaxTtlSeconds: LEAF_MAX_TTL,
    renewBeforeSeconds: RENEW_BEFORE,
    ...overrides,
  };
}

describe('deciding whether the intermediate is due for rotation', () => {
  it.each<[string, IntermediateRotationInput, IntermediateRotationReason, boolean]>([
    ['a day-old default intermediate is not due', input(at(NOT_BEFORE, DAY)), 'NotDue', false],
    ['one second before its rotation period it is not due', input(at(BY_AGE_YEARLY, -SECOND)), 'NotDue', false],
    ['exactly at its rotation period it is due', input(BY_AGE_YEARLY), 'PastRotationPeriod', true],
    ['one second past its rotation period it is due', input(at(BY_AGE_YEARLY, SECOND)), 'PastRotationPeriod', true],
    [
      'with a long period, one second before a max-TTL leaf could outlive it, it is not due',
      input(at(BY_LIFE, -SECOND), { rotationPeriodSeconds: DECADE }),
      'NotDue',
      false,
    ],
    [
      'exactly when a max-TTL leaf plus its renewal window would reach its notAfter, it is due',
      input(BY_LIFE, { rotationPeriodSeconds: DECADE }),
      'WouldOutliveIssuer',
      true,
    ],
    ['one second after that it is due', input(at(BY_LIFE, SECOND), { rotationPeriodSeconds: DECADE }), 'WouldOutliveIssuer', true],
    ['when both deadlines have passed, outliving is reported as the more urgent', input(BY_LIFE), 'WouldOutliveIssuer', true],
    ['one second before its notAfter it would still be outlived, not expired', input(at(NOT_AFTER, -SECOND)), 'WouldOutliveIssuer', true],
    ['at its notAfter it is expired', input(NOT_AFTER), 'Expired', true],
    ['a year after its notAfter it is expired', input(at(NOT_AFTER, 365 * DAY)), 'Expired', true],
    ['a young intermediate is due when rotation is forced', input(at(NOT_BEFORE, DAY), { forced: true }), 'Forced', true],
    ['an expired intermediate is reported as expired even when forced', input(NOT_AFTER, { forced: true }), 'Expired', true],
    ['an issuer that is not the default is never rotated by schedule', input(at(NOT_AFTER, DAY), {}, { isDefault: false }), 'NotDue', false],
    [
      'a retiring issuer, whose usage lost issuing-certificates, is never rotated by schedule',
      input(BY_LIFE, {}, { usage: ['read-only', 'crl-signing', 'ocsp-signing'] }),
      'NotDue',
      false,
    ],
    ['an issuer that is not the default is rotated when forced', input(at(NOT_BEFORE, DAY), { forced: true }, { isDefault: false }), 'Forced', true],
    ['an issuer whose usage is unknown is assumed to be issuing', input(BY_AGE_YEARLY, {}, { usage: undefined }), 'PastRotationPeriod', true],
    [
      'a renewal window alone can make it due: a zero max TTL still needs renewBefore of headroom',
      input(at(NOT_AFTER, -RENEW_BEFORE * SECOND), { rotationPeriodSeconds: DECADE, leafMaxTtlSeconds: 0 }),
      'WouldOutliveIssuer',
      true,
    ],
  ])('%s', (_name, given, reason, due) => {
    const decision = decideIntermediateRotation(given);
    expect({ reason: decision.reason, due: decision.due }).toEqual({ reason, due });
    expect(decision.detail.length).toBeGreaterThan(0);
  });

  it.each<[string, number, Date]>([
    ['dueAt is the age deadline when the rotation period ends first', YEARLY, BY_AGE_YEARLY],
    ['dueAt is the life deadline when a leaf would outlive the issuer first', DECADE, BY_LIFE],
  ])('%s', (_name, rotationPeriodSeconds, dueAt) => {
    expect(decideIntermediateRotation(input(at(NOT_BEFORE, DAY), { rotationPeriodSeconds })).dueAt).toEqual(dueAt);
  });

  it('keeps dueAt on the schedule when rotation is forced, so the plan can show both', () => {
    expect(decideIntermediateRotation(input(at(NOT_BEFORE, DAY), { forced: true })).dueAt).toEqual(BY_AGE_YEARLY);
  });

  it('explains a not-yet-due intermediate with the date it becomes due', () => {
    expect(decideIntermediateRotation(input(at(NOT_BEFORE, DAY))).detail).toBe('the intermediate is due for rotation at 2026-01-01T00:00:00.000Z');
  });

  it('explains an outlived intermediate with its deadline', () => {
    expect(decideIntermediateRotation(input(BY_LIFE)).detail).toContain('deadline 2029-11-22T00:00:00.000Z');
  });

  it.each<[string, Partial<IntermediateRotationInput>, RegExp]>([
    ['a negative renewBefore', { renewBeforeSeconds: -1 }, /renewBeforeSeconds must be a non-negative/],
    ['a leaf max TTL that is not a number', { leafMaxTtlSeconds: Number.NaN }, /leafMaxTtlSeconds/],
    ['a zero rotation period', { rotationPeriodSeconds: 0 }, /rotationPeriodSeconds must be positive/],
    ['a clock that is not a date', { now: new Date('not a date') }, /now must be a valid Date/],
  ])('rejects %s with a typed error', (_name, overrides, message) => {
    const run = () => decideIntermediateRotation(input(at(NOT_BEFORE, DAY), overrides));
    expect(run).toThrow(InvalidInputError);
    expect(run).toThrow(message);
  });
});
