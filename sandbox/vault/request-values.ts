import type { JsonObject, JsonValue } from './envelope';
import { VaultApiError } from './envelope';

/**
 * Parsing request values the way Vault's Go code does, so edge cases answer the same:
 * strconv.ParseBool, strconv.Atoi, encoding/json's case-insensitive field matching.
 */

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseBool: undefined when the text is not one of Go's spellings. */
export function parseGoBool(text: string): boolean | undefined {
  if (GO_TRUE.has(text)) return true;
  if (GO_FALSE.has(text)) return false;
  return undefined;
}

/** strconv.Atoi: an optional sign and decimal digits only; undefined otherwise. */
export function parseGoInt(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A field of a JSON object matched case-insensitively, as Go's encoding/json does for untagged structs. */
export function fieldOf(body: JsonObject, name: string): JsonValue | undefined {
  if (name in body) return body[name];
  const lower = name.toLowerCase();
  const key = Object.keys(body).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : body[key];
}

function jsonTypeName(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

function decodeError(value: JsonValue, field: string, goType: string): VaultApiError {
  return new VaultApiError(
    400,
    `failed to parse JSON input: json: cannot unmarshal ${jsonTypeName(value)} into Go struct field .${field} of type ${goType}`,
  );
}

/** A string field (absent or null: ''), rejecting other JSON types like Go's decoder. */
export function stringField(body: JsonObject, field: string): string {
  const value = fieldOf(body, field);
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw decodeError(value, field, 'string');
  return value;
}

/** A bool field (absent or null: false). */
export function boolField(body: JsonObject, field: string): boolean {
  const value = fieldOf(body, field);
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw decodeError(value, field, 'bool');
  return value;
}

/** An int field (absent or null: 0). */
export function intField(body: JsonObject, field: string): number {
  const value = fieldOf(body, field);
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw decodeError(value, field, 'int');
  return value;
}

/** A []string field (absent or null: []). */
export function stringListField(body: JsonObject, field: string): string[] {
  const value = fieldOf(body, field);
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw decodeError(value, field, '[]string');
  return value as string[];
}
