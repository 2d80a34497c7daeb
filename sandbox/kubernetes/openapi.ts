import { createHash } from 'node:crypto';
import { RESOURCE_KINDS, apiVersionOf, servedGroupVersions, type GroupVersion } from './resource-kinds';

/**
 * The OpenAPI v3 documents kubectl reads before `apply`, `create` and `replace` (it validates
 * the manifest's kinds against them). A minimal document per served group/version: each kind is
 * an object schema tagged with its group/version/kind that keeps unknown fields, so kubectl's
 * client-side validation admits any manifest of a served kind and the emulator's own validation
 * answers as the API server does. No v2 document is served: kubectl asks for v2 only as
 * protobuf, and only when v3 is missing.
 */
export function openApiRoot(): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const groupVersion of servedGroupVersions()) {
    const path = pathOf(groupVersion);
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hashOf(groupVersion)}` };
  }
  return { paths };
}

/** The document of one group/version (`api/v1`, `apis/apps/v1`, ...), or undefined if not served. */
export function openApiDocument(path: string): object | undefined {
  const groupVersion = servedGroupVersions().find((candidate) => pathOf(candidate) === path);
  if (!groupVersion) return undefined;
  const schemas: Record<string, object> = {};
  const paths: Record<string, object> = {};
  for (const kind of RESOURCE_KINDS.filter((candidate) => candidate.group === groupVersion.group && candidate.version === groupVersion.version)) {
    // kubectl looks for a PATCH operation of the kind that takes `fieldValidation`: then it leaves
    // validation to the server (the emulator's own checks) instead of downloading OpenAPI v2.
    const gvk = { group: kind.group, version: kind.version, kind: kind.kind };
    const collection = `/${path}${kind.namespaced ? '/namespaces/{namespace}' : ''}/${kind.resource}`;
    paths[`${collection}/{name}`] = {
      patch: { 'x-kubernetes-group-version-kind': gvk, parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string' } }], responses: { '200': { description: 'OK' } } },
    };
    schemas[definitionName(kind.group, kind.version, kind.kind)] = {
      type: 'object',
      description: `${kind.kind} (${apiVersionOf(kind)}), as the certflow sandbox serves it`,
      'x-kubernetes-group-version-kind': [{ group: kind.group, version: kind.version, kind: kind.kind }],
      'x-kubernetes-preserve-unknown-fields': true,
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.31.0' }, paths, components: { schemas } };
}

function pathOf(groupVersion: GroupVersion): string {
  return groupVersion.group === '' ? `api/${groupVersion.version}` : `apis/${groupVersion.group}/${groupVersion.version}`;
}

/** Kubernetes names its definitions by reversed group: io.k8s.api.core.v1.Secret, io.cert-manager.v1.Certificate. */
function definitionName(group: string, version: string, kind: string): string {
  if (group === '') return `io.k8s.api.core.${version}.${kind}`;
  if (!group.includes('.')) return `io.k8s.api.${group}.${version}.${kind}`;
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

function hashOf(groupVersion: GroupVersion): string {
  return createHash('sha512').update(JSON.stringify(openApiDocument(pathOf(groupVersion)))).digest('hex').slice(0, 64).toUpperCase();
}
