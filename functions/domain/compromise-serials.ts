import { createHash } from 'node:crypto';

/**
 * Serials in one canonical form: the certificate's serial as an integer (RFC 5280 4.1.2.2: a
 * positive INTEGER of at most 20 octets), written as Vault writes it (VAULT_API.md 4.12/4.13:
 * colon-separated lower-case hex of the value's minimal bytes, Go's `big.Int.Bytes()`). Reporters
 * copy serials from OpenSSL (`serial=3F0A...`, no separators), from browsers (colons, upper case)
 * or from DER dumps (a leading `00` byte that keeps a high-bit serial positive): all name the same
 * integer, so the value is compared, never the text. BigInt does the arithmetic; nothing here
 * re-implements a number format.
 */
const SERIAL_TEXT = /^(?:[0-9a-f]{1,2}(?::[0-9a-f]{1,2})*|[0-9a-f]{1,2}(?:-[0-9a-f]{1,2})*|[0-9a-f]+)$/i;
/** RFC 5280 4.1.2.2: conforming CAs use at most 20 octets; a DER zero byte may precede them. */
export const MAX_SERIAL_OCTETS = 20;

/** Whether `text` is a serial in any accepted spelling: colon, hyphen or bare hex, at most 20 octets of value. */
export function isSerialText(text: string): boolean {
  return canonicalSerialOrUndefined(text) !== undefined;
}

/** The canonical form (`3f:0a:...`), or undefined for text that is not a serial. */
export function canonicalSerialOrUndefined(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > 3 * (MAX_SERIAL_OCTETS + 1) || !SERIAL_TEXT.test(trimmed)) return undefined;
  // Each separated group is one byte, so "1:ab" is 0x01ab, as OpenSSL and Vault print it.
  const hex = /[:-]/.test(trimmed) ? trimmed.split(/[:-]/).map((group) => group.padStart(2, '0')).join('') : trimmed;
  const value = BigInt(`0x${hex}`);
  let digits = value.toString(16);
  if (digits.length % 2) digits = `0${digits}`;
  if (digits.length / 2 > MAX_SERIAL_OCTETS) return undefined;
  return digits.match(/../g)!.join(':');
}

/** The canonical form; throws a plain Error for text that is not a serial (callers validate first). */
export function normaliseSerial(serial: string): string {
  const canonical = canonicalSerialOrUndefined(serial);
  if (canonical === undefined) throw new Error(`not a certificate serial: ${JSON.stringify(serial.slice(0, 80))}`);
  return canonical;
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

/**
 * One short key per compromise scope, the same for the same scope however it was spelled (order,
 * duplicates, serial spelling): the lock item carries it, so a second report of a scope already
 * being contained is recognised and refused.
 */
export function scopeKey(scope: { kind: 'services'; services: readonly string[] } | { kind: 'serials'; serials: readonly string[] } | { kind: 'intermediate'; issuerId: string }): string {
  const members =
    scope.kind === 'services' ? [...new Set(scope.services)].sort() : scope.kind === 'serials' ? [...new Set(scope.serials.map(normaliseSerial))].sort() : [scope.issuerId.toLowerCase()];
  return `${scope.kind}:${createHash('sha256').update(members.join('\n')).digest('hex').slice(0, 32)}`;
}
