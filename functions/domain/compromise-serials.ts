/**
 * Serials as Vault writes them (colon-separated lower-case hex, VAULT_API.md 4.12/4.13): reporters
 * may send hyphens or upper case, and every comparison (Secret's leaf, CRL entries, the mount's
 * certificate store) is made on this one form.
 */
export function normaliseSerial(serial: string): string {
  return serial.trim().toLowerCase().replace(/-/g, ':');
}

/** Splits `items` into batches of at most `size`, with ids `c0001`, `c0002`... (c for compromise). */
export function compromiseBatches<T>(items: readonly T[], size: number): Array<{ id: string; items: T[] }> {
  const step = Math.max(1, Math.floor(size));
  const batches: Array<{ id: string; items: T[] }> = [];
  for (let start = 0; start < items.length; start += step) {
    batches.push({ id: `c${String(batches.length + 1).padStart(4, '0')}`, items: items.slice(start, start + step) });
  }
  return batches;
}
