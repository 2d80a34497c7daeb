import { isPlainObject } from './kube-objects';
import { cloneJson } from './json-values';

/**
 * Strategic merge patch (`application/strategic-merge-patch+json`, what `kubectl patch` and
 * `kubectl rollout restart` send by default) for the built-in kinds served here. Maps merge as in
 * a merge patch; lists whose Go field carries `patchMergeKey` (containers by name, env by name,
 * volumeMounts by mountPath...) merge element by element; every other list is replaced. The
 * directives `$patch: replace|delete`, `$retainKeys`, `$setElementOrder/<field>` and
 * `$deleteFromPrimitiveList/<field>` are honoured. The merge key is chosen by field name alone,
 * which is exact for the Pod, Deployment, Secret and ConfigMap fields (Service `ports`, keyed by
 * `port`, is not served).
 */

const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  ports: 'containerPort',
  conditions: 'type',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  resourceClaims: 'name',
};

/** Lists of scalars with `patchStrategy:"merge"`: the patch's values are added to the list. */
const MERGED_SCALAR_LISTS = new Set(['finalizers']);

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER_PREFIX = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_PREFIX = '$deleteFromPrimitiveList/';

export class StrategicMergePatchError extends Error {
  override readonly name = 'StrategicMergePatchError';
}

function mergeList(field: string, original: unknown, patch: unknown[]): unknown[] {
  const replaceDirective = patch.findIndex((item) => isPlainObject(item) && item[DIRECTIVE] === 'replace');
  if (replaceDirective !== -1) return cloneJson(patch.filter((_, index) => index !== replaceDirective));

  const mergeKey = MERGE_KEYS[field];
  const current = Array.isArray(original) ? cloneJson(original) : [];
  if (MERGED_SCALAR_LISTS.has(field)) {
    for (const item of patch) if (!current.includes(item)) current.push(item);
    return current;
  }
  if (mergeKey === undefined || !patch.every(isPlainObject)) return cloneJson(patch);

  for (const item of patch as Record<string, unknown>[]) {
    if (!(mergeKey in item)) throw new StrategicMergePatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    const index = current.findIndex((existing) => isPlainObject(existing) && existing[mergeKey] === item[mergeKey]);
    if (item[DIRECTIVE] === 'delete') {
      if (index !== -1) current.splice(index, 1);
      continue;
    }
    const merged = mergeMap(index === -1 ? {} : current[index], item);
    if (merged === undefined) continue;
    if (index === -1) current.push(merged);
    else current[index] = merged;
  }
  return current;
}

/** Returns undefined when the patch deletes the whole map (`$patch: delete`). */
function mergeMap(original: unknown, patch: Record<string, unknown>): Record<string, unknown> | undefined {
  const directive = patch[DIRECTIVE];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { [DIRECTIVE]: _directive, ...rest } = patch;
    return cloneJson(rest);
  }
  if (directive !== undefined) throw new StrategicMergePatchError(`Unknown patch type: ${String(directive)}`);

  const result: Record<string, unknown> = isPlainObject(original) ? cloneJson(original) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === RETAIN_KEYS || key.startsWith(SET_ORDER_PREFIX)) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_PREFIX)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE_PREFIX.length);
      const existing = result[field];
      if (Array.isArray(existing) && Array.isArray(value)) result[field] = existing.filter((item) => !value.includes(item));
      continue;
    }
    if (value === null) {
      delete result[key];
    } else if (isPlainObject(value)) {
      const merged = mergeMap(result[key], value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(key, result[key], value);
    } else {
      result[key] = value;
    }
  }
  const retain = patch[RETAIN_KEYS];
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) throw new StrategicMergePatchError('strategic merge patch must be a JSON object');
  return mergeMap(target, patch) ?? {};
}
