import { isPlainObject } from './kube-objects';

/**
 * JSON Merge Patch (RFC 7386), `application/merge-patch+json`: objects merge key by key, `null`
 * deletes a key, and anything else (lists included) replaces the target value.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
