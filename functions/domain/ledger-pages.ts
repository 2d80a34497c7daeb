/**
 * A ledger record is one DynamoDB item, at most 400 KB. A list that grows with the fleet (the
 * plan's reason per target, the refused candidates) cannot live in one record: at 10,000 services
 * the plan's reasons alone were over the limit, and PlanRotation failed with a ValidationException.
 * Such a list is written as pages instead, each at most this many bytes of JSON (half the item
 * limit, leaving room for the key and the record's other attributes).
 */
export const LEDGER_PAGE_BYTES = 200_000;

const encoder = new TextEncoder();

/**
 * The items in order, cut into pages whose JSON array is at most `maxBytes` UTF-8 bytes (an item
 * larger than that alone is a page of its own). No page is empty; no items, no pages.
 */
export function ledgerPages<T>(items: readonly T[], maxBytes = LEDGER_PAGE_BYTES): T[][] {
  const pages: T[][] = [];
  let page: T[] = [];
  // `[` and `]`, then each item and its comma.
  let bytes = 2;
  for (const item of items) {
    const size = encoder.encode(JSON.stringify(item)).length + 1;
    if (page.length > 0 && bytes + size > maxBytes) {
      pages.push(page);
      page = [];
      bytes = 2;
    }
    page.push(item);
    bytes += size;
  }
  if (page.length > 0) pages.push(page);
  return pages;
}

/** The entry name of page `index` (from 1) of a paged list: `plan#reasons#0001`. */
export function ledgerPageEntry(list: string, index: number): string {
  return `${list}#${String(index).padStart(4, '0')}`;
}
