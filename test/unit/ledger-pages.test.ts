import { LEDGER_PAGE_BYTES, ledgerPageEntry, ledgerPages } from '../../functions/domain/ledger-pages';

const bytesOf = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

describe('ledger pages', () => {
  it('cuts the plan reasons of 10,000 services into pages that each fit a DynamoDB item, keeping every reason in order', () => {
    const reasons = Array.from({ length: 10_000 }, (_, index) => [`primary/tenant-${index % 40}/service-${index}-tls`, index % 3 ? 'ForcedRenewal' : 'IssuerRetiring']);

    const pages = ledgerPages(reasons);

    expect(bytesOf(reasons)).toBeGreaterThan(400_000);
    expect(pages.length).toBeGreaterThan(2);
    for (const page of pages) expect(bytesOf(page)).toBeLessThanOrEqual(LEDGER_PAGE_BYTES);
    expect(pages.flat()).toEqual(reasons);
  });

  it('starts a new page exactly where the next item would pass the bound, and never writes an empty one', () => {
    // Each item is `"aaaaaaa"` (9 bytes) plus its comma: 2 + 3 × 10 = 32 bytes fit in 32, a fourth does not.
    const items = Array.from({ length: 7 }, () => 'aaaaaaa');

    expect(ledgerPages(items, 32).map((page) => page.length)).toEqual([3, 3, 1]);
    expect(ledgerPages([], 32)).toEqual([]);
    expect(ledgerPages(['x'.repeat(100)], 32)).toEqual([['x'.repeat(100)]]);
  });

  it('counts bytes, not characters, so names in any script stay under the bound', () => {
    const items = Array.from({ length: 50 }, () => 'сервис-ё');
    for (const page of ledgerPages(items, 100)) expect(bytesOf(page)).toBeLessThanOrEqual(100);
  });

  it('names page 1 of the reasons plan#reasons#0001', () => {
    expect(ledgerPageEntry('plan#reasons', 1)).toBe('plan#reasons#0001');
  });
});
