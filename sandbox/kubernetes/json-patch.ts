import { isPlainObject } from './kube-objects';
import { cloneJson, jsonEqual } from './json-values';

/**
 * JSON Patch (RFC 6902), `application/json-patch+json`: add, remove, replace, move, copy and test
 * on JSON Pointers (RFC 6901). The API server decodes the patch (a malformed one is 400) and then
 * applies it (a failing operation, `test` included, is 422); {@link JsonPatchError} says which.
 */

export class JsonPatchError extends Error {
  override readonly name = 'JsonPatchError';

  constructor(
    /** `decode`: the patch document itself is malformed; `apply`: an operation does not apply. */
    readonly stage: 'decode' | 'apply',
    message: string,
  ) {
    super(message);
  }
}

export interface JsonPatchOperation {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly from?: string;
  readonly value?: unknown;
}

const OPERATIONS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

export function decodeJsonPatch(document: unknown): JsonPatchOperation[] {
  if (!Array.isArray(document)) throw new JsonPatchError('decode', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return document.map((operation, index) => {
    if (!isPlainObject(operation)) throw new JsonPatchError('decode', `operation ${index} is not an object`);
    if (typeof operation.op !== 'string' || !OPERATIONS.has(operation.op)) {
      throw new JsonPatchError('decode', `Unexpected kind: ${String(operation.op)}`);
    }
    if (typeof operation.path !== 'string') throw new JsonPatchError('decode', `operation ${index} (${operation.op}) is missing path`);
    const needsValue = operation.op === 'add' || operation.op === 'replace' || operation.op === 'test';
    if (needsValue && !('value' in operation)) throw new JsonPatchError('decode', `operation ${index} (${operation.op}) is missing value`);
    const needsFrom = operation.op === 'move' || operation.op === 'copy';
    if (needsFrom && typeof operation.from !== 'string') throw new JsonPatchError('decode', `operation ${index} (${operation.op}) is missing from`);
    return operation as unknown as JsonPatchOperation;
  });
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError('apply', `JSON pointer must be empty or start with a "/": ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function arrayIndex(token: string, length: number, allowEnd: boolean, path: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new JsonPatchError('apply', `invalid array index "${token}" in path: "${path}"`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) throw new JsonPatchError('apply', `array index ${index} out of bounds in path: "${path}"`);
  return index;
}

/** The container that holds the pointer's last token, and that token. */
function resolveParent(document: unknown, tokens: string[], path: string): { parent: Container; key: string } {
  let current: unknown = document;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[arrayIndex(token, current.length, false, path)];
    else if (isPlainObject(current) && Object.prototype.hasOwnProperty.call(current, token)) current = current[token];
    else throw new JsonPatchError('apply', `doc is missing path: "${path}"`);
  }
  if (!Array.isArray(current) && !isPlainObject(current)) throw new JsonPatchError('apply', `doc is missing path: "${path}"`);
  return { parent: current, key: tokens[tokens.length - 1]! };
}

function getValue(document: unknown, path: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return document;
  const { parent, key } = resolveParent(document, tokens, path);
  if (Array.isArray(parent)) return parent[arrayIndex(key, parent.length, false, path)];
  if (!Object.prototype.hasOwnProperty.call(parent, key)) throw new JsonPatchError('apply', `doc is missing key: ${path}`);
  return parent[key];
}

/** Each operation returns the new document, since one at the root replaces it. */
function add(document: unknown, path: string, value: unknown): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = resolveParent(document, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, true, path), 0, value);
  else parent[key] = value;
  return document;
}

function remove(document: unknown, path: string, op: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new JsonPatchError('apply', `${op} operation does not apply: cannot remove the root`);
  const { parent, key } = resolveParent(document, tokens, path);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(key, parent.length, false, path), 1);
  } else {
    if (!Object.prototype.hasOwnProperty.call(parent, key)) throw new JsonPatchError('apply', `${op} operation does not apply: doc is missing key: ${path}`);
    delete parent[key];
  }
  return document;
}

function replace(document: unknown, path: string, value: unknown): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = resolveParent(document, tokens, path);
  if (Array.isArray(parent)) {
    parent[arrayIndex(key, parent.length, false, path)] = value;
  } else {
    if (!Object.prototype.hasOwnProperty.call(parent, key)) throw new JsonPatchError('apply', `replace operation does not apply: doc is missing key: ${path}`);
    parent[key] = value;
  }
  return document;
}

export function applyJsonPatch(target: unknown, operations: readonly JsonPatchOperation[]): unknown {
  let document = cloneJson(target);
  for (const operation of operations) {
    switch (operation.op) {
      case 'add':
        document = add(document, operation.path, cloneJson(operation.value));
        break;
      case 'remove':
        document = remove(document, operation.path, 'remove');
        break;
      case 'replace':
        document = replace(document, operation.path, cloneJson(operation.value));
        break;
      case 'move': {
        const from = operation.from!;
        if (operation.path.startsWith(`${from}/`)) throw new JsonPatchError('apply', `move operation does not apply: "${from}" is a prefix of "${operation.path}"`);
        const value = getValue(document, from);
        document = add(remove(document, from, 'move'), operation.path, value);
        break;
      }
      case 'copy':
        document = add(document, operation.path, cloneJson(getValue(document, operation.from!)));
        break;
      case 'test': {
        let actual: unknown;
        try {
          actual = getValue(document, operation.path);
        } catch {
          actual = undefined;
        }
        if (!jsonEqual(actual, operation.value)) throw new JsonPatchError('apply', `testing value ${operation.path} failed: test failed`);
        break;
      }
    }
  }
  return document;
}
