import fc from 'fast-check';
import { CompromiseDetailTypes, CompromiseSource, RevocationReasons } from '../../functions/contracts/compromise';
import { validateCompromiseEvent } from '../../functions/domain/compromise-gate';
import { makeHandler } from '../../functions/handlers/compromise-validate.handler';
import { quietOutput } from '../support/local-cloud-fixture';

/** The gate of the compromise response: a table of events, then generated ones by the thousand. */

const ISSUER = '0f6e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const detail = (overrides: Record<string, unknown> = {}) => ({ scope: { kind: 'services', services: ['backend'] }, reason: 'keyCompromise', reportedBy: 'alice@econgraph', ...overrides });
const event = (overrides: Record<string, unknown> = {}) => ({ source: CompromiseSource, 'detail-type': CompromiseDetailTypes.Reported, detail: detail(), ...overrides });

describe('validateCompromiseEvent', () => {
  it.each([
    ['a services scope', event()],
    ['a serials scope in colon, hyphen and upper-case hex', event({ detail: detail({ scope: { kind: 'serials', serials: ['1a:2b:3c', '4D-5E-6F'] } }) })],
    ['an intermediate scope', event({ detail: detail({ scope: { kind: 'intermediate', issuerId: ISSUER }, reason: 'cACompromise' }) })],
    ['a report with a ticket', event({ detail: detail({ ticket: 'SEC-42' }) })],
    ['a detail delivered as a JSON string', event({ detail: JSON.stringify(detail({ scope: { kind: 'intermediate', issuerId: ISSUER } })) })],
    ['a full EventBridge envelope (id, time, account, region, resources)', event({ id: 'e-1', time: '2026-11-28T10:00:00Z', account: '111122223333', region: 'eu-west-1', resources: [], version: '0' })],
  ])('accepts %s', (_name, input) => {
    const result = validateCompromiseEvent(input);

    expect(result).toEqual({ valid: true, report: expect.objectContaining({ reportedBy: 'alice@econgraph' }) });
  });

  it('returns the report exactly as the detail gave it', () => {
    const result = validateCompromiseEvent(event({ detail: detail({ scope: { kind: 'serials', serials: ['aa:bb'] }, ticket: 'SEC-1' }) }));

    expect(result).toEqual({ valid: true, report: { scope: { kind: 'serials', serials: ['aa:bb'] }, reason: 'keyCompromise', reportedBy: 'alice@econgraph', ticket: 'SEC-1' } });
  });

  it.each([
    ['null', '(root)', null],
    ['an array', '(root)', [event()]],
    ['a string', '(root)', 'Compromise Reported'],
    ['another source', 'source', event({ source: 'aws.health' })],
    ['another detail-type', 'detail-type', event({ 'detail-type': 'Compromise Contained' })],
    ['no detail', 'detail', event({ detail: undefined })],
    ['a detail string that is not JSON', 'detail', event({ detail: '{"scope":' })],
    ['a detail string over 256 KB', 'detail', event({ detail: 'x'.repeat(300 * 1024) })],
    ['an unknown scope kind', 'detail.scope.kind', event({ detail: detail({ scope: { kind: 'cluster', names: ['a'] } }) })],
    ['no services', 'detail.scope.services', event({ detail: detail({ scope: { kind: 'services', services: [] } }) })],
    ['a service name that is not a DNS label', 'detail.scope.services.0', event({ detail: detail({ scope: { kind: 'services', services: ['Back_End'] } }) })],
    ['a serial that is not hex', 'detail.scope.serials.0', event({ detail: detail({ scope: { kind: 'serials', serials: ['zz:11'] } }) })],
    ['an issuer id that is not a UUID', 'detail.scope.issuerId', event({ detail: detail({ scope: { kind: 'intermediate', issuerId: 'default' } }) })],
    ['a reason outside RFC 5280', 'detail.reason', event({ detail: detail({ reason: 'stolenLaptop' }) })],
    ['no reporter', 'detail.reportedBy', event({ detail: { scope: { kind: 'services', services: ['backend'] }, reason: 'keyCompromise' } })],
    ['an empty ticket', 'detail.ticket', event({ detail: detail({ ticket: '' }) })],
    ['an extra field in the detail', 'force', event({ detail: detail({ force: true }) })],
    ['an extra field in the scope', 'all', event({ detail: detail({ scope: { kind: 'services', services: ['backend'], all: true } }) })],
    ['a __proto__ key in a JSON detail', '__proto__', event({ detail: '{"__proto__":{"reportedBy":"x"},"scope":{"kind":"services","services":["backend"]},"reason":"keyCompromise","reportedBy":"a"}' })],
  ])('rejects %s, naming %s', (_name, field, input) => {
    const result = validateCompromiseEvent(input);

    expect(result.valid).toBe(false);
    expect(!result.valid && result.reason).toContain(field);
  });

  it('does not take a detail inherited from a crafted prototype', () => {
    const crafted = Object.create(event()) as object;

    const result = validateCompromiseEvent(crafted);

    expect(result.valid).toBe(false);
    expect(!result.valid && result.reason).toMatch(/source/);
  });

  it('turns an event whose getters throw into a rejection', () => {
    const hostile = new Proxy({}, { get: () => { throw new Error('boom'); }, has: () => { throw new Error('boom'); }, ownKeys: () => { throw new Error('boom'); }, getOwnPropertyDescriptor: () => { throw new Error('boom'); } });

    expect(validateCompromiseEvent(hostile)).toEqual({ valid: false, reason: expect.stringContaining('(root)') });
  });

  it('keeps a reason short when a thousand serials are wrong', () => {
    const result = validateCompromiseEvent(event({ detail: detail({ scope: { kind: 'serials', serials: Array.from({ length: 1000 }, () => 'nothex') } }) }));

    expect(result.valid).toBe(false);
    expect(!result.valid && result.reason.length).toBeLessThanOrEqual(1001);
    expect(!result.valid && result.reason).toMatch(/and 995 more/);
  });
});

describe('validateCompromiseEvent on generated events', () => {
  // Colon, hyphen or bare hex (OpenSSL's form): the serial spellings a report may use.
  const SERIAL = /^(?:[0-9a-f]{1,2}(?::[0-9a-f]{1,2})*|[0-9a-f]{1,2}(?:-[0-9a-f]{1,2})*|[0-9a-f]+)$/i;
  const ISSUER_ID = /^[0-9a-f-]{36}$/;
  const serial = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 20 }).chain((bytes) =>
    fc.constantFrom(':', '-').chain((sep) => fc.boolean().map((upper) => bytes.map((b) => b.toString(16).padStart(2, '0')).join(sep)[upper ? 'toUpperCase' : 'toLowerCase']())),
  );
  // Printable text with no leading or trailing space: what reportedBy and ticket accept.
  const printable = (max: number) => fc.stringMatching(new RegExp(`^[!-~]([ -~]{0,${max - 2}}[!-~])?$`));
  const scope = fc.oneof(
    fc.record({ kind: fc.constant('services'), services: fc.array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/), { minLength: 1, maxLength: 5 }) }),
    fc.record({ kind: fc.constant('serials'), serials: fc.array(serial, { minLength: 1, maxLength: 5 }) }),
    fc.record({ kind: fc.constant('intermediate'), issuerId: fc.uuid() }),
  );
  const goodDetail = fc.record(
    { scope, reason: fc.constantFrom(...RevocationReasons), reportedBy: printable(256), ticket: printable(128) },
    { requiredKeys: ['scope', 'reason', 'reportedBy'] },
  );
  const envelopeExtras = fc.record({ id: fc.uuid(), time: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), account: fc.stringMatching(/^\d{12}$/) }, { requiredKeys: [] });
  const wellFormed = fc.tuple(goodDetail, fc.boolean(), envelopeExtras).map(([d, asString, extras]) => ({ ...extras, source: CompromiseSource, 'detail-type': CompromiseDetailTypes.Reported, detail: asString ? JSON.stringify(d) : d }));

  /** A value of a type the field does not take. */
  const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }), fc.double());
  const notSerial = fc.string({ maxLength: 30 }).filter((s) => !SERIAL.test(s));
  const knownDetailKeys = ['scope', 'reason', 'reportedBy', 'ticket'];
  const withDetail = (mutate: (d: Record<string, unknown>) => Record<string, unknown>) =>
    fc.tuple(goodDetail, fc.boolean()).map(([d, asString]) => {
      const mutated = mutate(structuredClone(d) as Record<string, unknown>);
      return { source: CompromiseSource, 'detail-type': CompromiseDetailTypes.Reported, detail: asString ? JSON.stringify(mutated) : mutated };
    });

  const malformed = fc.oneof(
    // Anything at all (null, numbers, arrays, objects, null-prototype objects...).
    fc.anything({ withNullPrototype: true, withObjectString: true, withBigInt: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true }),
    // The envelope's fields with wrong types or values.
    fc.tuple(wellFormed, wrongType).map(([e, v]) => ({ ...e, source: v })),
    fc.tuple(wellFormed, fc.string().filter((s) => s !== CompromiseSource)).map(([e, v]) => ({ ...e, source: v })),
    fc.tuple(wellFormed, fc.string().filter((s) => s !== CompromiseDetailTypes.Reported)).map(([e, v]) => ({ ...e, 'detail-type': v })),
    fc.tuple(wellFormed, fc.oneof(wrongType.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)), fc.constant(undefined))).map(([e, v]) => ({ ...e, detail: v })),
    fc.tuple(wellFormed, fc.constantFrom('source', 'detail-type', 'detail')).map(([e, key]) => Object.fromEntries(Object.entries(e).filter(([k]) => k !== key))),
    // A JSON-string detail that does not parse.
    fc.tuple(wellFormed, fc.string()).filter(([, s]) => { try { JSON.parse(s); return false; } catch { return true; } }).map(([e, s]) => ({ ...e, detail: s })),
    // Missing fields of the detail and of the scope.
    fc.constantFrom('scope', 'reason', 'reportedBy').chain((key) => withDetail((d) => { delete d[key]; return d; })),
    withDetail((d) => { delete (d.scope as Record<string, unknown>).kind; return d; }),
    withDetail((d) => ({ ...d, scope: { kind: (d.scope as { kind: string }).kind } })),
    // Fields of the detail with wrong types.
    fc.tuple(fc.constantFrom('scope', 'reason', 'reportedBy', 'ticket'), wrongType).chain(([key, v]) => withDetail((d) => ({ ...d, [key]: v }))),
    // Invalid serials, reasons, issuer ids, service names, reporters.
    fc.tuple(fc.array(serial, { maxLength: 3 }), notSerial).chain(([good, bad]) => withDetail((d) => ({ ...d, scope: { kind: 'serials', serials: [...good, bad] } }))),
    fc.string().filter((s) => !(RevocationReasons as readonly string[]).includes(s)).chain((reason) => withDetail((d) => ({ ...d, reason }))),
    fc.string({ maxLength: 40 }).filter((s) => !ISSUER_ID.test(s)).chain((issuerId) => withDetail((d) => ({ ...d, scope: { kind: 'intermediate', issuerId } }))),
    fc.string({ maxLength: 70 }).filter((s) => !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(s)).chain((name) => withDetail((d) => ({ ...d, scope: { kind: 'services', services: [name] } }))),
    fc.oneof(fc.constant(''), fc.string({ minLength: 257, maxLength: 400 })).chain((reportedBy) => withDetail((d) => ({ ...d, reportedBy }))),
    fc.constantFrom('services', 'serials').chain((kind) => withDetail((d) => ({ ...d, scope: { kind, [kind]: [] } }))),
    // Extra fields in the detail or the scope (including `__proto__` in JSON text).
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !knownDetailKeys.includes(k)), fc.jsonValue()).chain(([key, v]) => withDetail((d) => { Object.defineProperty(d, key, { value: v, enumerable: true }); return d; })),
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !['kind', 'services', 'serials', 'issuerId'].includes(k)), fc.jsonValue()).chain(([key, v]) =>
      withDetail((d) => { Object.defineProperty(d.scope as object, key, { value: v, enumerable: true }); return d; }),
    ),
    fc.tuple(goodDetail, fc.jsonValue()).map(([d, v]) => ({ source: CompromiseSource, 'detail-type': CompromiseDetailTypes.Reported, detail: `{"__proto__":${JSON.stringify(v) ?? 'null'},${JSON.stringify(d).slice(1)}` })),
  );

  it('rejects 2,000 malformed events, each with a non-empty reason and without throwing', () => {
    let checked = 0;
    fc.assert(
      fc.property(malformed, (input) => {
        checked += 1;
        const result = validateCompromiseEvent(input);
        return result.valid === false && typeof result.reason === 'string' && result.reason.trim().length > 0;
      }),
      { numRuns: 2000 },
    );
    expect(checked).toBe(2000);
  });

  it('accepts every well-formed generated event and returns its detail as the report', () => {
    fc.assert(
      fc.property(wellFormed, (input) => {
        const result = validateCompromiseEvent(input);
        const expected = typeof input.detail === 'string' ? JSON.parse(input.detail) : input.detail;
        return result.valid && JSON.stringify(result.report) === JSON.stringify({ scope: expected.scope, reason: expected.reason, reportedBy: expected.reportedBy, ...(expected.ticket !== undefined ? { ticket: expected.ticket } : {}) });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the CompromiseValidate handler', () => {
  const handler = makeHandler({}, { output: quietOutput() }, { now: () => new Date('2026-11-28T10:00:05Z') });

  it('passes a valid event on as a report with when it was reported', async () => {
    const output = await handler(event({ time: '2026-11-28T10:00:00Z' }));

    expect(output).toEqual({ valid: true, report: detail(), reportedAt: '2026-11-28T10:00:00.000Z' });
  });

  it('answers an invalid event with a Compromise Rejected detail naming the field, instead of throwing', async () => {
    const output = await handler(event({ detail: detail({ reason: 'oops' }) }));

    expect(output).toEqual({
      valid: false,
      reason: expect.stringContaining('detail.reason'),
      detailType: 'Compromise Rejected',
      rejectedDetail: { reason: expect.stringContaining('detail.reason'), reportedBy: 'alice@econgraph', receivedAt: '2026-11-28T10:00:05.000Z' },
    });
  });

  it('never throws, whatever the rule delivers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ withNullPrototype: true }), async (input) => {
        const output = await handler(input);
        return output.valid === false && output.detailType === 'Compromise Rejected';
      }),
      { numRuns: 200 },
    );
  });
});
