import type { KubeObject } from './kube-objects';
import { cloneJson, jsonEqual } from './json-values';
import type { ResourceKind } from './resource-kinds';

/**
 * The registry strategies' rules for what a client may write through which endpoint: with a
 * status subresource, the main resource ignores `status` (on create it starts empty, on update
 * the stored one is kept) and `<resource>/status` changes nothing but `status`. Writes made
 * directly through the emulator's store skip these rules, the way a controller's status write
 * and a user's spec write end up side by side in a real cluster.
 */

export function prepareForCreate(kind: ResourceKind, object: KubeObject): KubeObject {
  if (!kind.statusSubresource) return object;
  const prepared = { ...object };
  delete prepared.status;
  // A new Pod is Pending until a kubelet says otherwise; namespaces get `Active` from defaulting.
  if (kind.resource === 'pods') prepared.status = { phase: 'Pending' };
  return prepared;
}

export function prepareForUpdate(kind: ResourceKind, object: KubeObject, old: KubeObject): KubeObject {
  if (!kind.statusSubresource) return object;
  const prepared = { ...object };
  if (old.status === undefined) delete prepared.status;
  else prepared.status = cloneJson(old.status);
  return prepared;
}

/** Everything from the stored object except `status`; the client's resourceVersion stays, as the precondition. */
export function prepareForStatusUpdate(object: KubeObject, old: KubeObject): KubeObject {
  const prepared = cloneJson(old);
  if (object.status === undefined) delete prepared.status;
  else prepared.status = cloneJson(object.status);
  const resourceVersion = object.metadata.resourceVersion;
  if (resourceVersion === undefined) delete prepared.metadata.resourceVersion;
  else prepared.metadata.resourceVersion = resourceVersion;
  return prepared;
}

function generationRelevant(kind: ResourceKind, object: KubeObject): unknown {
  if (kind.generationFields === 'spec') return object.spec ?? null;
  const { metadata: _metadata, status: _status, apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}

/** 1 on create; +1 when the fields that define the desired state changed; undefined for kinds without one. */
export function nextGeneration(kind: ResourceKind, object: KubeObject, old: KubeObject | undefined): number | undefined {
  if (kind.generationFields === undefined) return undefined;
  if (old === undefined) return 1;
  const current = old.metadata.generation ?? 1;
  return jsonEqual(generationRelevant(kind, object), generationRelevant(kind, old)) ? current : current + 1;
}
