import { applyPatch, deepClone, JsonPatchError as LibraryPatchError, validate, type Operation } from 'fast-json-patch';

/**
 * JSON Patch (RFC 6902), `application/json-patch+json`, applied by fast-json-patch. The API server
 * decodes the patch (a malformed one is 400) and then applies it (a failing operation, `test`
 * included, is 422); {@link JsonPatchError} says which.
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

export type JsonPatchOperation = Operation;

/** The structure alone (an array of operations with op, path, from and value as each op needs). */
export function decodeJsonPatch(document: unknown): JsonPatchOperation[] {
  if (!Array.isArray(document)) throw new JsonPatchError('decode', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  const problem = validate(document as Operation[]);
  if (problem) throw new JsonPatchError('decode', `operation ${problem.index ?? 0}: ${problem.message.split('\n')[0]}`);
  return document as Operation[];
}

/** Applies the operations to a copy of `target`, all or nothing. */
export function applyJsonPatch(target: unknown, operations: readonly JsonPatchOperation[]): unknown {
  try {
    // Validating while applying turns a missing path into an error rather than a silent no-op, and
    // the ban on `__proto__`/`constructor.prototype` (the default) keeps a patch from reaching a setter.
    return applyPatch(deepClone(target), deepClone(operations) as Operation[], true, true, true).newDocument;
  } catch (error) {
    if (error instanceof LibraryPatchError) throw new JsonPatchError('apply', `operation ${error.index ?? 0} (${error.name}): ${error.message.split('\n')[0]}`);
    if (error instanceof TypeError) throw new JsonPatchError('apply', error.message);
    throw error;
  }
}
