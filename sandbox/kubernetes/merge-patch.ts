import { apply } from 'json-merge-patch';
import { cloneJson } from './json-values';

/**
 * JSON Merge Patch (RFC 7386), `application/merge-patch+json`, applied by json-merge-patch:
 * objects merge key by key, `null` deletes a key, anything else (lists included) replaces the
 * target value. The library writes into its target, so it gets a copy; it also refuses to walk
 * `__proto__`, `constructor` and `prototype` keys, so a patch never reaches a setter.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  return apply(cloneJson(target), patch);
}
