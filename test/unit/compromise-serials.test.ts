import { CompromiseReportSchema } from '../../functions/contracts/compromise';
import { canonicalSerialOrUndefined, normaliseSerial, scopeKey } from '../../functions/domain/compromise-serials';
import { reportedByOf } from '../../functions/domain/compromise-gate';

describe('serials in one canonical form', () => {
  it.each([
    ['Vault’s colon form', '3f:0a:be', '3f:0a:be'],
    ['upper-case colons', '3F:0A:BE', '3f:0a:be'],
    ['hyphens', '3f-0a-be', '3f:0a:be'],
    ['OpenSSL’s bare hex', '3F0ABE', '3f:0a:be'],
    ['a leading zero byte in colons', '00:8f:0a', '8f:0a'],
    ['a leading zero byte in bare hex', '008F0A', '8f:0a'],
    ['an odd number of bare hex digits', 'F0ABE', '0f:0a:be'],
    ['single-digit colon groups (OpenSSL -text on short serials)', '1:a', '01:0a'],
    ['surrounding whitespace', ' 3f:0a ', '3f:0a'],
    ['twenty octets', 'ff'.repeat(20), Array(20).fill('ff').join(':')],
    ['twenty octets behind a DER zero byte', `00${'ff'.repeat(20)}`, Array(20).fill('ff').join(':')],
  ])('reads %s', (_name, text, canonical) => {
    expect(canonicalSerialOrUndefined(text)).toBe(canonical);
  });

  it.each([
    ['mixed separators', '3f:0a-be'],
    ['a non-hex digit', '3g:0a'],
    ['an empty string', ''],
    ['a three-digit group', '3f:0ab'],
    ['twenty-one octets of value', '01'.repeat(21)],
    ['a trailing separator', '3f:'],
  ])('refuses %s', (_name, text) => {
    expect(canonicalSerialOrUndefined(text)).toBeUndefined();
    expect(() => normaliseSerial(text)).toThrow(/not a certificate serial/);
  });

  it('gives one scope key to one scope however it is spelled, and another to another', () => {
    const key = scopeKey({ kind: 'serials', serials: ['3f:0a', '00:8f'] });
    expect(scopeKey({ kind: 'serials', serials: ['8F', '3F0A', '3f-0a'] })).toBe(key);
    expect(scopeKey({ kind: 'serials', serials: ['3f:0a'] })).not.toBe(key);
    expect(scopeKey({ kind: 'services', services: ['backend', 'keycloak'] })).toBe(scopeKey({ kind: 'services', services: ['keycloak', 'backend', 'backend'] }));
    expect(scopeKey({ kind: 'services', services: ['backend'] })).not.toBe(scopeKey({ kind: 'intermediate', issuerId: 'backend' }));
  });
});

describe('who reports, and the ticket', () => {
  const report = (reportedBy: unknown, ticket?: unknown) => CompromiseReportSchema.safeParse({ scope: { kind: 'services', services: ['backend'] }, reason: 'keyCompromise', reportedBy, ...(ticket === undefined ? {} : { ticket }) });

  it.each([
    ['an ANSI escape', '\u001b[31mroot\u001b[0m'],
    ['a newline that forges a log line', 'alice\n{"level":"info"}'],
    ['a bidi override', 'alice\u202Eecila'],
    ['a zero-width joiner', 'ali\u200dce'],
    ['leading whitespace', ' alice'],
    ['257 characters', 'a'.repeat(257)],
  ])('refuses a reporter with %s, and never echoes it into a Rejected event', (_name, reportedBy) => {
    expect(report(reportedBy).success).toBe(false);
    expect(reportedByOf({ detail: { reportedBy } })).toBeUndefined();
  });

  it('accepts printable text in any script, and bounds the ticket at 128 characters', () => {
    expect(report('Zoë Ångström <secops@econgraph.example>', 'SEC-1234 «urgent»').success).toBe(true);
    expect(report('alice', 'T'.repeat(129)).success).toBe(false);
    expect(report('alice', 'SEC\u00071').success).toBe(false);
  });
});
