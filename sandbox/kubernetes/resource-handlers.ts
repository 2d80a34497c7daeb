import { badRequest, conflict, deletedStatus, KubernetesApiError, unsupportedMediaType } from './api-status';
import { parseFieldSelector } from './field-selector';
import { isPlainObject, type KubeObject } from './kube-objects';
import { applyJsonPatch, decodeJsonPatch, JsonPatchError } from './json-patch';
import { parseLabelSelector } from './label-selector';
import { applyMergePatch } from './merge-patch';
import type { ObjectStore } from './object-store';
import { prepareForCreate, prepareForStatusUpdate, prepareForUpdate } from './object-strategy';
import type { ResourceTarget } from './request-path';
import { apiVersionOf, type ResourceKind } from './resource-kinds';
import { applyStrategicMergePatch, StrategicMergePatchError } from './strategic-merge-patch';

/**
 * The verbs on one resource, as the API server's REST handlers run them: decode the body, check
 * it against the URL, apply the kind's strategy (status subresource rules), then write through
 * the store, which defaults, validates, checks resourceVersion and bumps generation.
 */

export interface ResourceRequest {
  readonly target: ResourceTarget;
  readonly query: URLSearchParams;
  /** The media type of the body, lower case, without parameters. */
  readonly contentType: string;
  readonly body: Buffer;
}

export interface ResourceResponse {
  readonly status: number;
  readonly body: unknown;
  /** For get and list: the objects, so the HTTP layer can render them as a Table instead. */
  readonly objects?: readonly KubeObject[];
  readonly listMetadata?: Record<string, unknown>;
}

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
} as const;

const JSON_TYPES = new Set(['application/json', '']);

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw badRequest(`json parse error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function decodeObject(kind: ResourceKind, request: ResourceRequest): KubeObject {
  if (!JSON_TYPES.has(request.contentType)) throw unsupportedMediaType(['application/json']);
  const value = parseJson(request.body);
  if (!isPlainObject(value)) throw badRequest(`${kind.kind} in version "${kind.version}" cannot be handled as a ${kind.kind}: the body is not a JSON object`);
  if (value.kind !== undefined && value.kind !== kind.kind) {
    throw badRequest(`${kind.kind} in version "${kind.version}" cannot be handled as a ${kind.kind}: kind ${String(value.kind)} does not match ${kind.kind}`);
  }
  if (value.apiVersion !== undefined && value.apiVersion !== apiVersionOf(kind)) {
    throw badRequest(`the API version in the data (${String(value.apiVersion)}) does not match the expected API version (${apiVersionOf(kind)})`);
  }
  const metadata = value.metadata === undefined || value.metadata === null ? {} : value.metadata;
  if (!isPlainObject(metadata)) throw badRequest(`${kind.kind} in version "${kind.version}" cannot be handled as a ${kind.kind}: metadata must be an object`);
  return { ...value, metadata } as KubeObject;
}

/** The namespace in the body must be the URL's; an absent one takes the URL's. */
function bindNamespace(target: ResourceTarget, object: KubeObject): void {
  if (!target.kind.namespaced) return;
  const given = object.metadata.namespace;
  if (given !== undefined && given !== '' && given !== target.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  object.metadata.namespace = target.namespace;
}

function rejectUnsupportedQuery(query: URLSearchParams): void {
  const watch = query.get('watch');
  if (watch === 'true' || watch === '1') throw badRequest('watch is not supported by the certflow sandbox: poll with list instead');
  if (query.has('dryRun')) throw badRequest('dryRun is not supported by the certflow sandbox');
}

interface ContinueToken {
  readonly after: string;
}

function listObjects(store: ObjectStore, request: ResourceRequest): ResourceResponse {
  const { kind, namespace } = request.target;
  const labelSelector = request.query.get('labelSelector');
  const fieldSelector = request.query.get('fieldSelector');
  let items = store.list(kind, {
    namespace,
    labels: labelSelector ? parseLabelSelector(labelSelector) : undefined,
    fields: fieldSelector ? parseFieldSelector(kind.resource, fieldSelector) : undefined,
  });

  const cursorOf = (object: KubeObject): string => `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
  const continueParam = request.query.get('continue');
  if (continueParam) {
    let token: ContinueToken;
    try {
      token = JSON.parse(Buffer.from(continueParam, 'base64url').toString('utf8')) as ContinueToken;
    } catch {
      throw badRequest('continue key is not valid: illegal base64 data');
    }
    items = items.filter((object) => cursorOf(object) > token.after);
  }
  const metadata: Record<string, unknown> = { resourceVersion: store.resourceVersion() };
  const limit = Number(request.query.get('limit') ?? '0');
  if (Number.isInteger(limit) && limit > 0 && items.length > limit) {
    const remaining = items.length - limit;
    items = items.slice(0, limit);
    metadata.continue = Buffer.from(JSON.stringify({ after: cursorOf(items[items.length - 1]!) } satisfies ContinueToken)).toString('base64url');
    if (!labelSelector && !fieldSelector) metadata.remainingItemCount = remaining;
  }

  // Typed lists of built-in kinds carry no kind/apiVersion per item; unstructured (custom resource) lists do.
  const wireItems = kind.custom ? items : items.map(({ apiVersion: _apiVersion, kind: _kind, ...rest }) => rest);
  return {
    status: 200,
    body: { kind: `${kind.kind}List`, apiVersion: apiVersionOf(kind), metadata, items: wireItems },
    objects: items,
    listMetadata: metadata,
  };
}

function applyPatch(kind: ResourceKind, request: ResourceRequest, current: KubeObject): unknown {
  const document = parseJson(request.body);
  switch (request.contentType) {
    case PATCH_TYPES.merge:
      if (!isPlainObject(document)) throw badRequest('json: cannot unmarshal a merge patch that is not a JSON object');
      return applyMergePatch(current, document);
    case PATCH_TYPES.json:
      try {
        return applyJsonPatch(current, decodeJsonPatch(document));
      } catch (error) {
        if (error instanceof JsonPatchError) {
          throw error.stage === 'decode' ? badRequest(error.message) : new KubernetesApiError(422, 'Invalid', error.message);
        }
        throw error;
      }
    case PATCH_TYPES.strategic:
      if (kind.custom) throw unsupportedMediaType([PATCH_TYPES.json, PATCH_TYPES.merge]);
      try {
        return applyStrategicMergePatch(current, document);
      } catch (error) {
        if (error instanceof StrategicMergePatchError) throw badRequest(error.message);
        throw error;
      }
    default:
      throw unsupportedMediaType(kind.custom ? [PATCH_TYPES.json, PATCH_TYPES.merge] : [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic]);
  }
}

function patchObject(store: ObjectStore, request: ResourceRequest): ResourceResponse {
  const { kind, namespace, name, subresource } = request.target;
  const current = store.require(kind, namespace, name!);
  const patched = applyPatch(kind, request, current);
  if (!isPlainObject(patched) || !isPlainObject(patched.metadata)) throw badRequest('the patched object is not a valid object');
  const object = patched as KubeObject;
  if (object.metadata.name !== name) throw badRequest(`the name of the object (${String(object.metadata.name)}) does not match the name on the URL (${name})`);
  if (kind.namespaced && object.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  // A resourceVersion in the patch is a precondition on the object patched.
  const expected = object.metadata.resourceVersion;
  if (expected !== undefined && expected !== '' && expected !== current.metadata.resourceVersion) throw conflict(kind, name!);
  object.metadata.resourceVersion = current.metadata.resourceVersion;
  object.apiVersion = apiVersionOf(kind);
  object.kind = kind.kind;
  const prepared = subresource === 'status' ? prepareForStatusUpdate(object, current) : prepareForUpdate(kind, object, current);
  return { status: 200, body: store.update(kind, prepared) };
}

function updateObject(store: ObjectStore, request: ResourceRequest): ResourceResponse {
  const { kind, namespace, name, subresource } = request.target;
  const object = decodeObject(kind, request);
  if (object.metadata.name !== name) throw badRequest(`the name of the object (${String(object.metadata.name ?? '')}) does not match the name on the URL (${name})`);
  bindNamespace(request.target, object);
  const current = store.require(kind, namespace, name!);
  const prepared = subresource === 'status' ? prepareForStatusUpdate(object, current) : prepareForUpdate(kind, object, current);
  return { status: 200, body: store.update(kind, prepared, { enforceConditionalUpdate: true }) };
}

function deleteObject(store: ObjectStore, request: ResourceRequest): ResourceResponse {
  const { kind, namespace, name } = request.target;
  let preconditions: { uid?: string; resourceVersion?: string } = {};
  if (request.body.length > 0) {
    const options = parseJson(request.body);
    if (isPlainObject(options) && isPlainObject(options.preconditions)) preconditions = options.preconditions as typeof preconditions;
  }
  const deleted = store.delete(kind, namespace, name!, preconditions);
  return { status: 200, body: kind.deleteReturnsObject ? deleted : deletedStatus(kind, name!, deleted.metadata.uid) };
}

export function handleResourceRequest(store: ObjectStore, request: ResourceRequest): ResourceResponse {
  const { target } = request;
  rejectUnsupportedQuery(request.query);
  switch (target.verb) {
    case 'get': {
      const object = store.require(target.kind, target.namespace, target.name!);
      return { status: 200, body: object, objects: [object], listMetadata: { resourceVersion: object.metadata.resourceVersion } };
    }
    case 'list':
      return listObjects(store, request);
    case 'create': {
      const object = decodeObject(target.kind, request);
      bindNamespace(target, object);
      return { status: 201, body: store.create(target.kind, prepareForCreate(target.kind, object)) };
    }
    case 'update':
      return updateObject(store, request);
    case 'patch':
      return patchObject(store, request);
    case 'delete':
      return deleteObject(store, request);
  }
}
