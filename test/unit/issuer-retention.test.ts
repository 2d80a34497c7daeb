import { decideRetention, type RetiredIssuerFacts, type RetentionReason } from '../../functions/domain/issuer-retention';

const HOUR = 3600 * 1000;
const NOW = new Date('2031-01-10T00:00:00Z');
const GRACE_SECONDS = 72 * 3600;
const retired = (overrides: Partial<RetiredIssuerFacts> = {}): RetiredIssuerFacts => ({
  issuerId: 'issuer-g1',
  issuerName: 'certflow-run-1',
  usage: ['crl-signing', 'ocsp-signing', 'read-only'],
  notBefore: new Date('2030-01-01T00:00:00Z'),
  lastLeafNotAfter: new Date(NOW.getTime() - 100 * HOUR),
  ...overrides,
});

describe('deciding whether a retired issuer may be deleted', () => {
  it.each<[string, RetiredIssuerFacts, RetentionReason, boolean]>([
    ['a retired certflow issuer whose last leaf expired past the grace is deleted', retired(), 'LastLeafExpired', true],
    ['one whose last leaf is still valid is kept', retired({ lastLeafNotAfter: new Date(NOW.getTime() + HOUR) }), 'LeafStillValid', false],
    ['one whose last leaf expired within the grace is kept for its CRL', retired({ lastLeafNotAfter: new Date(NOW.getTime() - 71 * HOUR) }), 'InCrlGrace', false],
    ['one with no stored leaf counts from its notBefore', retired({ lastLeafNotAfter: undefined }), 'LastLeafExpired', true],
    ['an operator’s issuer is never deleted', retired({ issuerName: 'intermediate' }), 'NotCertflowIssuer', false],
    ['an issuer that still issues is not retired', retired({ usage: ['crl-signing', 'issuing-certificates', 'ocsp-signing', 'read-only'] }), 'StillIssues', false],
  ])('%s', (_name, issuer, reason, deleted) => {
    const decision = decideRetention(issuer, NOW, GRACE_SECONDS);
    expect({ reason: decision.reason, delete: decision.delete }).toEqual({ reason, delete: deleted });
  });

  it('says when an issuer in its grace may go: its last leaf’s notAfter plus the grace', () => {
    const lastLeafNotAfter = new Date(NOW.getTime() - HOUR);
    expect(decideRetention(retired({ lastLeafNotAfter }), NOW, GRACE_SECONDS).deletableAt).toEqual(new Date(lastLeafNotAfter.getTime() + 72 * HOUR));
  });
});
