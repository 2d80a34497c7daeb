import type { JsonObject, JsonValue } from '../envelope';
import { VaultApiError } from '../envelope';
import { parseGoBool } from '../request-values';

/**
 * Request values as Vault's logical framework reads them for PKI and auth paths (sdk/framework
 * FieldData): weakly typed, unlike the strict Go structs of the raw sys handlers. A bool may come
 * as "true", an int as "42", a duration as 3600, "3600", "72h" or "30d", a list as an array or a
 * comma-separated string (TypeCommaStringSlice).
 */

function conversionError(value: JsonValue, field: string, reason: string): VaultApiError {
  return new VaultApiError(400, `error converting input ${JSON.stringify(value)} for field "${field}": ${reason}`);
}

/** True when the field was sent (data.GetOk), even with an empty value. */
export function has(body: JsonObject, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(body, field) && body[field] !== null;
}

export function str(body: JsonObject, field: string, fallback = ''): string {
  if (!has(body, field)) return fallback;
  const value = body[field] as JsonValue;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw conversionError(value, field, 'expected a string');
}

export function bool(body: JsonObject, field: string, fallback = false): boolean {
  if (!has(body, field)) return fallback;
  const value = body[field] as JsonValue;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') {
    const parsed = parseGoBool(value);
    if (parsed !== undefined) return parsed;
  }
  throw conversionError(value, field, 'expected a boolean');
}

export function int(body: JsonObject, field: string, fallback = 0): number {
  if (!has(body, field)) return fallback;
  const value = body[field] as JsonValue;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) return Number(value.trim());
  throw conversionError(value, field, 'expected an integer');
}

/** TypeCommaStringSlice / TypeStringSlice: an array of strings or one comma-separated string. */
export function list(body: JsonObject, field: string, fallback: readonly string[] = []): string[] {
  if (!has(body, field)) return [...fallback];
  const value = body[field] as JsonValue;
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (typeof item === 'string') return item.trim();
      if (typeof item === 'number' || typeof item === 'boolean') return String(item);
      throw conversionError(value, field, 'expected a list of strings');
    }).filter((item) => item !== '');
  }
  if (typeof value === 'string') return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  throw conversionError(value, field, 'expected a list of strings');
}

const GO_UNITS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/**
 * parseutil.ParseDurationSecond: an integer number of seconds, a Go duration (`1h30m`), or a
 * whole number of days (`30d`). Returns whole seconds; undefined when the text is not a duration.
 */
export function parseDurationSeconds(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? Math.trunc(input) : undefined;
  const text = input.trim();
  if (text === '') return 0;
  if (/^[+-]?\d+$/.test(text)) return Number(text);
  const days = /^(\d+)d$/.exec(text);
  if (days) return Number(days[1]) * 86400;
  if (!/^(?:\d*\.?\d+(?:ns|us|µs|μs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d*\.?\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(amount) * (GO_UNITS[unit ?? 's'] ?? 0);
  }
  return Math.trunc(total);
}

/** A TypeDurationSecond field in whole seconds. */
export function duration(body: JsonObject, field: string, fallback = 0): number {
  if (!has(body, field)) return fallback;
  const value = body[field] as JsonValue;
  if (typeof value === 'number' || typeof value === 'string') {
    const parsed = parseDurationSeconds(value);
    if (parsed !== undefined) return parsed;
  }
  throw conversionError(value, field, `time: invalid duration ${JSON.stringify(String(value))}`);
}

/** time.Duration.String() for whole seconds: `720h0m0s`, `1m30s`, `0s`. Used in Vault-worded warnings. */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(Math.trunc(seconds));
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const secs = rest - minutes * 60;
  if (hours > 0) return `${sign}${hours}h${minutes}m${secs}s`;
  if (minutes > 0) return `${sign}${minutes}m${secs}s`;
  return `${sign}${secs}s`;
}

/** Unix seconds, as Vault's int64 `expiration`, `not_before` and `revocation_time` fields. */
export function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** RFC 3339 with nanoseconds trimmed the way Go's time.RFC3339Nano prints them. */
export function rfc3339Nano(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z').replace(/(\.\d*?)0+Z$/, '$1Z');
}
